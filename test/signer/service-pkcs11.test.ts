/**
 * Server keys on a PKCS#11 token (SoftHSM2) through ServerKeyring: generated on the token, signing
 * there (raw r‖s over SHA-256 that verifies with the public key), the row naming the token object
 * only, the objects destroyed with the row. The service reports NOT_SERVING while the token cannot
 * be opened. `signet server signer --pkcs11` refuses a passphrase
 * beside it, a URI naming a key, a wrong PIN, and a database whose keys are kept the other way
 * (both directions), leaving the data directory as it was.
 */
import crypto from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  resolveSignerServiceConfig,
  startSignerServiceFromConfig,
  type SignerServiceConfig,
  type SignerServiceFlags,
} from '../../src/cli/signer-service-run.js';
import { SignetError } from '../../src/errors.js';
import { parsePkcs11Uri } from '../../src/keys/index.js';
import { withSession } from '../../src/keys/pkcs11/module.js';
import { findObjects } from '../../src/keys/pkcs11/objects.js';
import { signerServices } from '../../src/signer/grpc/proto.js';
import { LocalServerSigner, ServerKeyring } from '../../src/signer/index.js';
import { Pkcs11Custody } from '../../src/signer/pkcs11-custody.js';
import { openStore } from '../../src/storage/index.js';
import { createSoftHsmToken, type SoftHsmToken } from '../harness/softhsm.js';
import { makeTestCA } from '../harness/tls.js';
import { call } from './service-harness.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'signet-sservice-p11-unit-'));
const tls = path.join(dir, 'tls');
const log = pino({ level: 'silent' });
let token: SoftHsmToken;
let tokenUri: string;

beforeAll(async () => {
  token = await createSoftHsmToken(dir, 'unit-token');
  // the module in this process reads SOFTHSM2_CONF
  process.env.SOFTHSM2_CONF = token.conf;
  tokenUri = `pkcs11:token=${token.label}`;
  const ca = await makeTestCA(tls);
  await ca.issue('signer', { eku: 'serverAuth' });
  await ca.issue('client', { cn: 'health-client', eku: 'clientAuth' });
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const settings = (): { modulePath: string; pinFile: string } => ({ modulePath: token.module, pinFile: token.pinFile });

let n = 0;
function flags(extra: SignerServiceFlags = {}): SignerServiceFlags {
  return {
    listen: '127.0.0.1:0',
    tlsCert: path.join(tls, 'signer.crt'),
    tlsKey: path.join(tls, 'signer.key'),
    clientCa: path.join(tls, 'ca.crt'),
    dataDir: path.join(dir, `data-${++n}`),
    pkcs11: tokenUri,
    pkcs11Module: token.module,
    pkcs11PinFile: token.pinFile,
    ...extra,
  };
}
const config = (f: SignerServiceFlags, env: Record<string, string> = {}): SignerServiceConfig =>
  resolveSignerServiceConfig(f, env, dir);

async function refusal(c: SignerServiceConfig): Promise<SignetError> {
  try {
    const started = await startSignerServiceFromConfig(c, log);
    await started.close();
  } catch (e) {
    expect(e).toBeInstanceOf(SignetError);
    return e as SignetError;
  }
  throw new Error('the service started');
}

describe('server keys on a PKCS#11 token', () => {
  it('generates on the token, signs there (r‖s verifies), stores only the URI, destroys with the row', async () => {
    const store = await openStore({ dataDir: path.join(dir, 'ring') });
    try {
      const custody = new Pkcs11Custody(tokenUri, settings());
      const ring = new ServerKeyring({ keys: store.keys, custody });
      await ring.checkPassphrase();
      const pk = await ring.create('example.com/p11', 'timestamp');
      const row = await store.keys.get(pk.id);
      expect(row?.privateKey.toString('utf8')).toBe(
        `pkcs11:token=${token.label};object=${pk.id};id=${pk.id.replace(/../g, (b) => `%${b}`)}`,
      );
      // on the token: the private object is labelled with the key ID, sensitive and not extractable
      const attrs = await withSession(parsePkcs11Uri(tokenUri), settings(), (sess) => {
        const c = sess.c;
        const [h, ...more] = findObjects(sess, [
          { type: c.CKA_CLASS!, value: c.CKO_PRIVATE_KEY! },
          { type: c.CKA_LABEL!, value: pk.id },
        ]);
        expect(h).toBeDefined();
        expect(more).toEqual([]);
        return sess.p11
          .C_GetAttributeValue(sess.handle, h!, [
            { type: c.CKA_ID! },
            { type: c.CKA_SENSITIVE! },
            { type: c.CKA_EXTRACTABLE! },
          ])
          .map((a) => a.value);
      });
      // CK_BBOOL values come back as one byte
      expect(attrs).toEqual([Buffer.from(pk.id, 'hex'), Buffer.from([1]), Buffer.from([0])]);
      // a second keyring (a restart) signs with the stored row
      const again = new ServerKeyring({ keys: store.keys, custody: new Pkcs11Custody(tokenUri, settings()) });
      const held = await again.current(pk.id);
      const data = Buffer.from('signed bytes');
      const { method, sig } = await (await again.signer(held!)).sign(data);
      expect([method, sig.length]).toEqual(['ecdsa', 64]);
      const spki = crypto.createPublicKey({ key: Buffer.from(pk.public, 'base64'), format: 'der', type: 'spki' });
      expect(crypto.verify('sha256', data, { key: spki, dsaEncoding: 'ieee-p1363' }, sig)).toBe(true);

      expect(await again.delete(pk.id)).toBe(true);
      // the token object is gone: a signer made from the old row finds nothing to sign with
      await expect(custody.signer(row!, pk).then((s) => s.sign(data))).rejects.toMatchObject({
        code: 'KEY_NOT_FOUND',
      });
    } finally {
      await store.close();
    }
  });

  it('takes the token URI, module and PIN from the environment as well', () => {
    const c = config(
      { ...flags(), pkcs11: undefined, pkcs11Module: undefined, pkcs11PinFile: undefined },
      { SIGNET_SIGNER_PKCS11: tokenUri, SIGNET_PKCS11_MODULE: token.module, SIGNET_PKCS11_PIN: token.pin },
    );
    expect(c.pkcs11).toEqual({ uri: tokenUri, settings: { modulePath: token.module, pin: token.pin } });
    expect(c.signerPassphrase).toBeUndefined();
  });

  it('refuses a passphrase beside --pkcs11, and a URI that names a key', async () => {
    expect(() => config(flags(), { SIGNET_SIGNER_PASSPHRASE: 'pw' })).toThrow(/a signer passphrase and --pkcs11/);
    const f = flags({ pkcs11: `${tokenUri};object=k1` });
    const e = await refusal(config(f));
    expect(e.message).toMatch(/names a key object/);
    expect(readdirSync(dir)).not.toContain(path.basename(f.dataDir as string));
  });

  it('refuses a wrong PIN at start-up', async () => {
    const { writeFileSync } = await import('node:fs');
    const wrong = path.join(dir, 'wrong.pin');
    writeFileSync(wrong, '0000\n', { mode: 0o600 });
    const f = flags({ pkcs11PinFile: wrong });
    const e = await refusal(config(f));
    expect(e.code).toBe('PKCS11_PIN');
    expect(readdirSync(dir)).not.toContain(path.basename(f.dataDir as string));
  });

  it('refuses a database whose keys are kept the other way, in both directions', async () => {
    // keys on the token, then started with a passphrase
    const onToken = flags();
    const started = await startSignerServiceFromConfig(config(onToken), log);
    await started.close();
    const s1 = await openStore({ dataDir: onToken.dataDir as string });
    try {
      await new ServerKeyring({
        keys: s1.keys,
        custody: new Pkcs11Custody(tokenUri, settings()),
      }).create('example.com/p11', 'snapshot');
      // what `signet server import` checks before storing keys with a passphrase
      await expect(new LocalServerSigner({ keys: s1.keys, passphrase: 'pw' }).checkPassphrase()).rejects.toThrow(
        /on a PKCS#11 token/,
      );
    } finally {
      await s1.close();
    }
    expect(readdirSync(onToken.dataDir as string)).not.toContain('signer.passphrase');
    const plain = { ...onToken, pkcs11: undefined };
    const e1 = await refusal(config(plain, { SIGNET_SIGNER_PASSPHRASE: 'pw' }));
    expect(e1.message).toMatch(/on a PKCS#11 token/);

    // encrypted keys, then started with --pkcs11
    const encrypted = flags({ pkcs11: undefined });
    const s2 = await openStore({ dataDir: encrypted.dataDir as string });
    try {
      await new ServerKeyring({ keys: s2.keys, passphrase: 'pw' }).create('example.com/enc', 'timestamp');
    } finally {
      await s2.close();
    }
    const e2 = await refusal(config({ ...encrypted, pkcs11: tokenUri }));
    expect(e2.message).toMatch(/encrypted with a signer passphrase, not on a PKCS#11 token/);
  });

  it('health is NOT_SERVING while the token cannot be opened, SERVING again once it can', async () => {
    const started = await startSignerServiceFromConfig(config(flags()), log);
    const grpcJs = await import('@grpc/grpc-js');
    const health = new (await signerServices()).Health(
      `127.0.0.1:${started.service.port}`,
      grpcJs.credentials.createSsl(
        readFileSync(path.join(tls, 'ca.crt')),
        readFileSync(path.join(tls, 'client.key')),
        readFileSync(path.join(tls, 'client.crt')),
      ),
    );
    const status = async (): Promise<string> =>
      (await call<{ status: string }>(health, 'Check', { service: 'grpc.health.v1.Health.Signer' })).status;
    try {
      expect(await status()).toBe('SERVING');
      renameSync(token.tokenDir, `${token.tokenDir}.away`);
      try {
        expect(await status()).toBe('NOT_SERVING');
      } finally {
        renameSync(`${token.tokenDir}.away`, token.tokenDir);
      }
      expect(await status()).toBe('SERVING');
    } finally {
      health.close();
      await started.close();
    }
  });
});
