// Interop of src/keys with the real notary 0.7 CLI (and notary-server for publishing).
import * as crypto from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  TrustDirKeyStore,
  decodeKeyPem,
  encodeKeyPem,
  envPassphraseRetriever,
  generatePrivateKey,
  inspectKeyPem,
} from '../../src/keys/index.js';
import { parseRoot, parseTargets, publicKeyFromJson, verifySignature } from '../../src/tuf/index.js';
import { TEST_PASSPHRASES, notaryCli } from '../harness/notary-cli.js';
import { startNotaryPeers, type NotaryPeers } from '../harness/notary-peers.js';

const ENV = {
  NOTARY_ROOT_PASSPHRASE: TEST_PASSPHRASES.root,
  NOTARY_TARGETS_PASSPHRASE: TEST_PASSPHRASES.targets,
  NOTARY_SNAPSHOT_PASSPHRASE: TEST_PASSPHRASES.snapshot,
  NOTARY_DELEGATION_PASSPHRASE: TEST_PASSPHRASES.delegation,
};

function tmp(prefix: string): string {
  return mkdtempSync(path.join(tmpdir(), `signet-${prefix}-`));
}

function httpsGet(url: string, ca: Buffer): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    https
      .get(url, { ca }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

function ok(r: { code: number | null; stdout: string; stderr: string }, what: string): string {
  if (r.code !== 0) throw new Error(`${what} failed (exit ${String(r.code)}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

let peers: NotaryPeers | undefined;

beforeAll(async () => {
  peers = await startNotaryPeers();
});

afterAll(async () => {
  await peers?.stop();
});

function getPeers(): NotaryPeers {
  if (!peers) throw new Error('notary peers did not start');
  return peers;
}

describe('(e) the real notary CLI uses keys that Signet wrote', () => {
  it('key list, init with our root key, rotate to our targets key, addhash + publish, passwd, export', async () => {
    const p = getPeers();
    const gun = `127.0.0.1:5000/signet/keys-${crypto.randomBytes(4).toString('hex')}`;
    const trustDir = tmp('interop-e');
    const store = new TrustDirKeyStore(trustDir, envPassphraseRetriever(ENV));
    const root = generatePrivateKey();
    const targets = generatePrivateKey();
    await store.add(root, { role: 'root' });
    const targetsFile = await store.add(targets, { role: 'targets', gun });
    const cli = notaryCli({ server: p.url, caFile: p.caFile, trustDir });

    // notary key list reads our headers
    const list = ok(await cli.run(['key', 'list']), 'notary key list');
    const rootLine = list.split('\n').find((l) => l.includes(root.publicKey.id));
    const targetsLine = list.split('\n').find((l) => l.includes(targets.publicKey.id));
    expect(rootLine).toMatch(/^root\s+[0-9a-f]{64}/);
    // notary shortens long GUNs to "...<tail>"
    expect(targetsLine).toMatch(new RegExp(`^targets\\s+\\S*${gun.slice(-20)}\\s+${targets.publicKey.id}`));

    // notary init reuses our (only) root key, and notary-server accepts the publish
    const init = ok(await cli.run(['init', gun]), 'notary init');
    expect(init).toContain(`Root key found, using: ${root.publicKey.id}`);
    ok(await cli.run(['publish', gun]), 'notary publish (init)');

    // notary reads our targets key file (-k) and rotates the targets role to it (root-signed by our key)
    // notary's readKey asks for any -k file's passphrase under the alias "root" (whatever the role),
    // so hand it our export of the targets key encrypted with the root passphrase
    const exportFile = path.join(tmp('export'), 'targets.pem');
    writeFileSync(exportFile, await store.exportKey(targets.publicKey.id, TEST_PASSPHRASES.root), { mode: 0o600 });
    ok(await cli.run(['key', 'rotate', gun, 'targets', '-k', exportFile]), 'notary key rotate targets -k');
    // put back our own encoding of the file, so the next (separate) notary process reads what Signet wrote
    await store.add(targets, { role: 'targets', gun });
    expect(inspectKeyPem(readFileSync(targetsFile, 'utf8')).meta).toEqual({ role: 'targets', gun });

    const digest = crypto.createHash('sha256').update('signet').digest('hex');
    ok(await cli.run(['addhash', gun, 'v1', '6', '--sha256', digest]), 'notary addhash');
    ok(await cli.run(['publish', gun]), 'notary publish');
    const listed = ok(await cli.run(['list', gun]), 'notary list');
    expect(listed).toContain(digest);

    // what the server holds: root cert key is ours (canonical ID), targets signed by our targets key
    const ca = readFileSync(p.caFile);
    const rootRes = await httpsGet(`${p.url}/v2/${gun}/_trust/tuf/root.json`, ca);
    expect(rootRes.status).toBe(200);
    const rootMd = parseRoot(rootRes.body);
    const rootKeyIds = rootMd.signed.roles['root']?.keyids ?? [];
    expect(rootKeyIds.length).toBe(1);
    const rootPub = publicKeyFromJson(rootMd.signed.keys[rootKeyIds[0] as string]!);
    expect(rootPub.keytype).toBe('ecdsa-x509');
    expect(rootPub.canonicalId).toBe(root.publicKey.id);
    const rootSig = rootMd.signatures.find((s) => s.keyid === rootPub.id);
    expect(rootSig).toBeDefined();
    expect(verifySignature(rootPub, rootSig!.method, rootMd.signedBytes, Buffer.from(rootSig!.sig, 'base64'))).toBe(
      true,
    );
    const targetsKeyIds = rootMd.signed.roles['targets']?.keyids ?? [];
    expect(targetsKeyIds).toEqual([targets.publicKey.id]);

    const tRes = await httpsGet(`${p.url}/v2/${gun}/_trust/tuf/targets.json`, ca);
    expect(tRes.status).toBe(200);
    const tMd = parseTargets('targets', tRes.body);
    expect(tMd.signed.targets['v1']?.length).toBe(6);
    expect(tMd.signatures.map((s) => s.keyid)).toEqual([targets.publicKey.id]);
    const sig = tMd.signatures[0]!;
    expect(verifySignature(targets.publicKey, sig.method, tMd.signedBytes, Buffer.from(sig.sig, 'base64'))).toBe(true);

    // notary key export copies our file, adding path:
    const exported = ok(await cli.run(['key', 'export', '--key', root.publicKey.id]), 'notary key export');
    const ex = decodeKeyPem(exported, TEST_PASSPHRASES.root);
    expect(ex.meta).toEqual({ role: 'root', path: root.publicKey.id });
    expect(ex.key.publicKey.id).toBe(root.publicKey.id);

    // notary key passwd decrypts our root file (and re-encrypts it); we can still read it
    ok(await cli.run(['key', 'passwd', root.publicKey.id]), 'notary key passwd');
    const again = new TrustDirKeyStore(trustDir, envPassphraseRetriever(ENV));
    expect((await again.get(root.publicKey.id)).publicKey.id).toBe(root.publicKey.id);
  });

  it('notary reads Ed25519 (96-byte layout), RSA (no NULL) and unencrypted keys we write', async () => {
    const p = getPeers();
    const trustDir = tmp('interop-types');
    const store = new TrustDirKeyStore(trustDir, envPassphraseRetriever(ENV));
    const ed = generatePrivateKey('ed25519');
    const rsaKo = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const rsa = decodeKeyPem(rsaKo.export({ format: 'pem', type: 'pkcs1' }).toString(), undefined).key;
    await store.add(ed, { role: 'alice' });
    await store.add(rsa, { role: 'bob' });
    const plain = generatePrivateKey();
    writeFileSync(
      path.join(trustDir, 'private', `${plain.publicKey.id}.key`),
      encodeKeyPem(plain, { role: 'carol' }, ''),
      {
        mode: 0o600,
      },
    );
    const cli = notaryCli({ server: p.url, caFile: p.caFile, trustDir });
    const list = ok(await cli.run(['key', 'list']), 'notary key list');
    for (const k of [ed, rsa, plain]) expect(list).toContain(k.publicKey.id);
    for (const k of [ed, rsa, plain]) {
      ok(await cli.run(['key', 'passwd', k.publicKey.id]), `notary key passwd ${k.keytype}`);
    }
    // after notary re-encrypted them, they still decrypt to the same keys here
    const again = new TrustDirKeyStore(trustDir, envPassphraseRetriever(ENV));
    for (const k of [ed, rsa, plain]) expect((await again.get(k.publicKey.id)).publicKey).toEqual(k.publicKey);
  });
});

describe('(f) Signet reads keys the real notary CLI wrote', () => {
  it('notary key generate (root, delegation) → TrustDirKeyStore lists and decrypts them', async () => {
    const p = getPeers();
    const trustDir = tmp('interop-f');
    const cli = notaryCli({ server: p.url, caFile: p.caFile, trustDir });
    const ids: Record<string, string> = {};
    for (const role of ['root', 'targets/releases']) {
      const out = ok(await cli.run(['key', 'generate', 'ecdsa', '--role', role]), `notary key generate ${role}`);
      const m = /keyID: ([0-9a-f]{64})/.exec(out);
      if (!m) throw new Error(`no key ID in: ${out}`);
      ids[role] = m[1] as string;
    }
    const store = new TrustDirKeyStore(trustDir, envPassphraseRetriever(ENV));
    const list = await store.list();
    expect(list.map((e) => [e.id, e.role]).sort()).toEqual(
      Object.entries(ids)
        .map(([role, id]) => [id, role])
        .sort(),
    );
    for (const [role, id] of Object.entries(ids)) {
      const k = await store.get(id);
      expect(k.publicKey.canonicalId).toBe(id);
      expect(k.role).toBe(role);
    }
    // the wrong passphrase is reported as such
    const wrong = new TrustDirKeyStore(trustDir, envPassphraseRetriever({ NOTARY_ROOT_PASSPHRASE: 'nope' }));
    await expect(wrong.get(ids['root'] as string)).rejects.toMatchObject({ code: 'BAD_PASSPHRASE' });
  });
});
