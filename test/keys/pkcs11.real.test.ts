// PKCS#11 token keys in the key store, in-process against a SoftHSM2 token made here: RFC 7512 URIs,
// generate/import/list, the signatures (raw r‖s, 64 bytes, verifying with the key's public key),
// root certificates signed on the token, and what the trust dir keeps (references, never a PIN).
import crypto from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSignetError } from '../../src/errors.js';
import {
  TrustDirKeyStore,
  constantPassphraseRetriever,
  formatPkcs11Uri,
  parsePkcs11Uri,
  privateKeyFromKeyObject,
} from '../../src/keys/index.js';
import { certificatePublicKey, createRootCertificate } from '../../src/tuf/index.js';
import { run } from '../harness/proc.js';
import { SOFTHSM_UTIL, createSoftHsmToken, type SoftHsmToken } from '../harness/softhsm.js';

describe('RFC 7512 URIs', () => {
  it('reads path and query attributes, percent-decoded', () => {
    const u = parsePkcs11Uri(
      'pkcs11:token=My%20Token;object=root1;id=%01%ab;library-description=x?module-path=/usr/lib/m.so&pin-source=file:/run/pin',
    );
    expect(u).toEqual({
      token: 'My Token',
      object: 'root1',
      id: Buffer.from([0x01, 0xab]),
      modulePath: '/usr/lib/m.so',
      pinSource: 'file:/run/pin',
    });
    expect(formatPkcs11Uri(u)).toBe(
      'pkcs11:token=My%20Token;object=root1;id=%01%ab?module-path=/usr/lib/m.so&pin-source=file:/run/pin',
    );
    expect(parsePkcs11Uri(formatPkcs11Uri(u))).toEqual(u);
  });

  it('refuses a PIN in the URI, unknown attributes and bad encodings, naming the fix', () => {
    const fail = (text: string): string => {
      try {
        parsePkcs11Uri(text);
      } catch (e) {
        if (isSignetError(e, 'PKCS11_URI')) return `${e.message}\n${e.fix ?? ''}`;
        throw e;
      }
      throw new Error(`${text} was accepted`);
    };
    const pin = fail('pkcs11:token=L;object=k?pin-value=123456');
    expect(pin).toMatch(/pin-value/);
    expect(pin).not.toContain('123456');
    expect(pin).toMatch(/SIGNET_PKCS11_PIN_FILE/);
    expect(fail('pkcs11:token=L;colour=red')).toMatch(/unknown path attribute "colour"/);
    expect(fail('pkcs11:token=L;object=%zz')).toMatch(/percent-encoding/);
    expect(fail('pkcs11:token=L;token=M')).toMatch(/twice/);
    expect(fail('pkcs11:token=L;type=cert')).toMatch(/private key/);
    expect(fail('file:/x')).toMatch(/pkcs11:/);
  });
});

describe('token keys in TrustDirKeyStore (SoftHSM2)', () => {
  let dir: string;
  let token: SoftHsmToken;
  let store: TrustDirKeyStore;
  const uri = (object: string): string => `pkcs11:token=${token.label};object=${object}`;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'signet-pkcs11-unit-'));
    token = await createSoftHsmToken(dir, 'unit');
    // the module reads its configuration from this process's environment when it is loaded
    process.env.SOFTHSM2_CONF = token.conf;
    store = new TrustDirKeyStore(path.join(dir, 'trust'), constantPassphraseRetriever('unused-pass'), {
      pkcs11: { modulePath: token.module, pinFile: token.pinFile },
    });
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('generates a P-256 key on the token whose signatures are raw r‖s over SHA-256', async () => {
    const ref = await store.tokens.generate(uri('gen1'), { role: 'root' });
    const pk = await store.publicKey(ref.keyId);
    expect(pk.canonicalId).toBe(ref.keyId);
    const signer = await store.signer(ref.keyId, pk);
    const data = Buffer.from('{"signed":"canonical bytes"}');
    const { method, sig } = await signer.sign(data);
    expect(method).toBe('ecdsa');
    expect(sig.length).toBe(64);
    const spki = crypto.createPublicKey({ key: Buffer.from(pk.public, 'base64'), format: 'der', type: 'spki' });
    expect(crypto.verify('sha256', data, { key: spki, dsaEncoding: 'ieee-p1363' }, sig)).toBe(true);

    // the key store lists it by reference; its private half cannot be read
    const listed = (await store.list()).find((k) => k.id === ref.keyId);
    expect(listed).toMatchObject({ role: 'root', pkcs11: expect.stringMatching(/object=gen1;id=/) as unknown });
    await expect(store.get(ref.keyId)).rejects.toMatchObject({ code: 'KEY_ON_TOKEN' });
    expect((await store.keyFiles()).map((k) => k.id)).not.toContain(ref.keyId);
    const text = await readFile(store.tokens.refPath(ref.keyId), 'utf8');
    expect(text).not.toContain(token.pin);
    expect(text).not.toMatch(/PRIVATE/);
  });

  it('signs a root certificate on the token (ecdsa-x509, CN = GUN)', async () => {
    const ref = await store.tokens.register(uri('gen1'), { role: 'root' });
    const bare = await store.publicKey(ref.keyId);
    const pem = await createRootCertificate('example.com/hsm', await store.signer(ref.keyId, bare), new Date());
    const x509 = new crypto.X509Certificate(pem);
    expect(x509.subject).toBe('CN=example.com/hsm');
    expect(x509.verify(x509.publicKey)).toBe(true);
    const certKey = certificatePublicKey(pem);
    expect(certKey.keytype).toBe('ecdsa-x509');
    expect(certKey.canonicalId).toBe(ref.keyId);
    // the root's x509 key signs through the same token key
    const sig = await (await store.signer(ref.keyId, certKey)).sign(Buffer.from('root'));
    expect(
      crypto.verify('sha256', Buffer.from('root'), { key: x509.publicKey, dsaEncoding: 'ieee-p1363' }, sig.sig),
    ).toBe(true);
  });

  it('imports an existing key onto the token: same key ID, signatures verify with the original key', async () => {
    const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const key = privateKeyFromKeyObject(privateKey);
    const ref = await store.tokens.importKey(key, uri('imported'), { role: 'targets/releases' });
    expect(ref.keyId).toBe(key.publicKey.canonicalId);
    const { sig } = await (await store.signer(ref.keyId, key.publicKey)).sign(Buffer.from('x'));
    expect(crypto.verify('sha256', Buffer.from('x'), { key: publicKey, dsaEncoding: 'ieee-p1363' }, sig)).toBe(true);
    const onToken = await store.tokens.listToken(`pkcs11:token=${token.label}`);
    expect(onToken.map((k) => [k.label, k.ref?.role])).toEqual([
      ['gen1', 'root'],
      ['imported', 'targets/releases'],
    ]);
    // a targets key without its repository is refused before anything is written to the token
    await expect(store.tokens.generate(uri('no-gun'), { role: 'targets' })).rejects.toMatchObject({ code: 'USAGE' });
    expect((await store.tokens.listToken(`pkcs11:token=${token.label}`)).map((k) => k.label)).not.toContain('no-gun');
    // a second object with the same label is refused
    await expect(store.tokens.importKey(key, uri('imported'), { role: 'x' })).rejects.toMatchObject({
      code: 'CONFLICT',
    });
    // only P-256 goes onto the token
    const rsa = privateKeyFromKeyObject(crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey);
    await expect(store.tokens.importKey(rsa, uri('rsa'), { role: 'x' })).rejects.toMatchObject({
      code: 'INVALID_KEY',
    });
  });

  it('uses a key put on the token by another tool (softhsm2-util --import)', async () => {
    const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const file = path.join(dir, 'external.pem');
    await writeFile(file, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
    const r = await run(
      SOFTHSM_UTIL,
      ['--import', file, '--token', token.label, '--label', 'external', '--id', 'c0ffee', '--pin', token.pin],
      { env: { ...process.env, ...token.env() }, timeoutMs: 30_000 },
    );
    expect(r.code, r.stderr).toBe(0);
    await rm(file);
    const expected = privateKeyFromKeyObject(privateKey).publicKey.canonicalId;
    const ref = await store.tokens.register(`pkcs11:token=${token.label};id=%c0%ff%ee`, { role: 'ci' });
    expect(ref).toMatchObject({
      keyId: expected,
      role: 'ci',
      uri: `pkcs11:token=${token.label};object=external;id=%c0%ff%ee`,
    });
    const { sig } = await (await store.signer(ref.keyId, store.tokens.publicKey(ref))).sign(Buffer.from('z'));
    expect(crypto.verify('sha256', Buffer.from('z'), { key: publicKey, dsaEncoding: 'ieee-p1363' }, sig)).toBe(true);
  });

  it('takes module-path and pin-source from the URI, and names a wrong PIN', async () => {
    const bare = new TrustDirKeyStore(path.join(dir, 'trust2'), constantPassphraseRetriever('unused-pass'));
    const full = `${uri('gen1')}?module-path=${token.module}&pin-source=file:${token.pinFile}`;
    const ref = await bare.tokens.register(full, { role: 'root' });
    expect(ref.uri).toContain(`module-path=${token.module}`);
    expect((await (await bare.signer(ref.keyId, bare.tokens.publicKey(ref))).sign(Buffer.from('y'))).sig.length).toBe(
      64,
    );

    const badPin = path.join(dir, 'bad.pin');
    await writeFile(badPin, 'wrong-pin\n', { mode: 0o600 });
    const wrong = new TrustDirKeyStore(path.join(dir, 'trust3'), constantPassphraseRetriever('unused-pass'), {
      pkcs11: { modulePath: token.module, pinFile: badPin },
    });
    await expect(wrong.tokens.register(uri('gen1'), { role: 'root' })).rejects.toMatchObject({
      code: 'PKCS11_PIN',
      message: expect.stringMatching(/wrong PIN/) as unknown,
    });
    await expect(store.tokens.register(uri('absent'), { role: 'root' })).rejects.toMatchObject({
      code: 'KEY_NOT_FOUND',
    });
    await expect(store.tokens.register(`pkcs11:token=other;object=x`, { role: 'root' })).rejects.toMatchObject({
      code: 'PKCS11_TOKEN_NOT_FOUND',
      fix: expect.stringContaining(`token=${token.label}`) as unknown,
    });
  });
});
