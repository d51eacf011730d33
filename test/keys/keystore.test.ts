import * as crypto from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  TrustDirKeyStore,
  constantPassphraseRetriever,
  decodeKeyPem,
  encodeKeyPem,
  envPassphraseRetriever,
  generatePrivateKey,
  inspectKeyPem,
  restoreBackup,
  writeBackup,
  type PassphraseRequest,
  type PassphraseRetriever,
} from '../../src/keys/index.js';
import { codeOf } from '../helpers/errors.js';

const VEC = path.resolve(import.meta.dirname, '../fixtures/vectors');

function tmp(prefix: string): string {
  return mkdtempSync(path.join(tmpdir(), `signet-${prefix}-`));
}

function recording(pass: (r: PassphraseRequest) => string): {
  retriever: PassphraseRetriever;
  calls: PassphraseRequest[];
} {
  const calls: PassphraseRequest[] = [];
  return {
    calls,
    retriever: async (r) => {
      calls.push(r);
      return pass(r);
    },
  };
}

describe('TrustDirKeyStore', () => {
  it('add → private/<id>.key (0600 in 0700), headers, list without decrypting, get', async () => {
    const dir = tmp('store');
    const rec = recording(() => 'store-pass');
    const store = new TrustDirKeyStore(dir, rec.retriever);
    const root = generatePrivateKey();
    const targets = generatePrivateKey();
    const deleg = generatePrivateKey();
    const f1 = await store.add(root, { role: 'root', gun: 'ignored/for/root' });
    const f2 = await store.add(targets, { role: 'targets', gun: 'example.com/app' });
    await store.add(deleg, { role: 'targets/releases', gun: 'dropped' });
    expect(f1).toBe(path.join(dir, 'private', `${root.publicKey.canonicalId}.key`));
    expect(rec.calls.map((c) => [c.alias, c.createNew, c.attempt])).toEqual([
      ['root', true, 0],
      ['targets', true, 0],
      ['targets/releases', true, 0],
    ]);
    expect(statSync(f1).mode & 0o777).toBe(0o600);
    expect(statSync(path.join(dir, 'private')).mode & 0o777).toBe(0o700);
    expect(readFileSync(f1, 'utf8').startsWith('-----BEGIN ENCRYPTED PRIVATE KEY-----\nrole: root\n\n')).toBe(true);
    expect(
      readFileSync(f2, 'utf8').startsWith(
        '-----BEGIN ENCRYPTED PRIVATE KEY-----\ngun: example.com/app\nrole: targets\n\n',
      ),
    ).toBe(true);
    expect(readdirSync(path.join(dir, 'private')).filter((n) => n.endsWith('.tmp'))).toEqual([]);

    // a fresh store: list comes from headers (no retriever calls), get decrypts
    const rec2 = recording(() => 'store-pass');
    const fresh = new TrustDirKeyStore(dir, rec2.retriever);
    const list = await fresh.list();
    expect(rec2.calls).toEqual([]);
    expect(list).toEqual(
      [
        { id: root.publicKey.id, role: 'root', file: f1 },
        { id: targets.publicKey.id, role: 'targets', gun: 'example.com/app', file: f2 },
        {
          id: deleg.publicKey.id,
          role: 'targets/releases',
          file: path.join(dir, 'private', `${deleg.publicKey.id}.key`),
        },
      ].sort((a, b) => (a.id < b.id ? -1 : 1)),
    );
    const got = await fresh.get(targets.publicKey.id);
    expect(got.publicKey).toEqual(targets.publicKey);
    expect(got.role).toBe('targets');
    expect(got.gun).toBe('example.com/app');
    expect(rec2.calls).toEqual([{ keyId: targets.publicKey.id, alias: 'targets', createNew: false, attempt: 0 }]);
    expect(JSON.stringify(got)).not.toContain('store-pass');
    await fresh.get(targets.publicKey.id); // cached: no new ask
    expect(rec2.calls.length).toBe(1);
  });

  it('get retries the retriever up to 3 times, then BAD_PASSPHRASE; unknown id → KEY_NOT_FOUND', async () => {
    const dir = tmp('retry');
    const k = generatePrivateKey();
    await new TrustDirKeyStore(dir, constantPassphraseRetriever('right-pass')).add(k, { role: 'root' });
    const answers = ['wrong1', 'right-pass'];
    const rec = recording((r) => answers[r.attempt] ?? 'x');
    const s = new TrustDirKeyStore(dir, rec.retriever);
    expect((await s.get(k.publicKey.id)).publicKey.id).toBe(k.publicKey.id);
    expect(rec.calls.map((c) => c.attempt)).toEqual([0, 1]);

    const bad = recording(() => 'always wrong');
    expect(await codeOf(new TrustDirKeyStore(dir, bad.retriever).get(k.publicKey.id))).toBe('BAD_PASSPHRASE');
    expect(bad.calls.length).toBe(3);
    expect(await codeOf(s.get('0'.repeat(64)))).toBe('KEY_NOT_FOUND');
    expect(await codeOf(s.get('../etc/passwd'))).toBe('KEY_NOT_FOUND');
  });

  it('concurrent gets of one key ask the retriever once', async () => {
    const dir = tmp('concurrent');
    const k = generatePrivateKey();
    await new TrustDirKeyStore(dir, constantPassphraseRetriever('pw-pw-pw')).add(k, { role: 'root' });
    const rec = recording(() => 'pw-pw-pw');
    const s = new TrustDirKeyStore(dir, rec.retriever);
    const got = await Promise.all([s.get(k.publicKey.id), s.get(k.publicKey.id), s.get(k.publicKey.id)]);
    expect(got.map((g) => g.publicKey.id)).toEqual([k.publicKey.id, k.publicKey.id, k.publicKey.id]);
    expect(rec.calls.length).toBe(1);
  });

  it('get with no env and no TTY → PASSPHRASE_REQUIRED naming the variable', async () => {
    const dir = tmp('noenv');
    const k = generatePrivateKey();
    await new TrustDirKeyStore(dir, constantPassphraseRetriever('pw-pw-pw')).add(k, { role: 'targets', gun: 'a/b' });
    const s = new TrustDirKeyStore(dir, envPassphraseRetriever({}));
    await expect(s.get(k.publicKey.id)).rejects.toThrow(
      /NOTARY_TARGETS_PASSPHRASE or DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE/,
    );
  });

  it('a file whose key does not match its name is refused', async () => {
    const dir = tmp('mismatch');
    const k = generatePrivateKey();
    const s = new TrustDirKeyStore(dir, constantPassphraseRetriever('pw'));
    const f = await s.add(k, { role: 'root' });
    const wrongId = 'a'.repeat(64);
    copyFileSync(f, path.join(dir, 'private', `${wrongId}.key`));
    expect(await codeOf(new TrustDirKeyStore(dir, constantPassphraseRetriever('pw')).get(wrongId))).toBe('KEY_FILE');
  });

  it('remove deletes the file; export carries path: <id>; unencrypted export with empty passphrase', async () => {
    const dir = tmp('rm');
    const s = new TrustDirKeyStore(dir, constantPassphraseRetriever('pw-1234'));
    const k = generatePrivateKey();
    await s.add(k, { role: 'targets', gun: 'g/h' });
    const exported = await s.exportKey(k.publicKey.id, 'export-pass');
    expect(
      exported.startsWith(
        '-----BEGIN ENCRYPTED PRIVATE KEY-----\ngun: g/h\npath: ' + k.publicKey.id + '\nrole: targets\n\n',
      ),
    ).toBe(true);
    expect(decodeKeyPem(exported, 'export-pass').key.publicKey.id).toBe(k.publicKey.id);
    const plain = await s.exportKey(k.publicKey.id, '');
    expect(inspectKeyPem(plain)).toMatchObject({ encrypted: false, type: 'PRIVATE KEY' });
    await s.remove(k.publicKey.id);
    expect(await s.list()).toEqual([]);
    expect(await codeOf(s.remove(k.publicKey.id))).toBe('KEY_NOT_FOUND');
  });

  it('reads the legacy root_keys/ and tuf_keys/<gun>/ layouts', async () => {
    const dir = tmp('legacy');
    const root = generatePrivateKey();
    const targets = generatePrivateKey();
    mkdirSync(path.join(dir, 'private/root_keys'), { recursive: true, mode: 0o700 });
    mkdirSync(path.join(dir, 'private/tuf_keys/docker.io/library/foo'), { recursive: true, mode: 0o700 });
    writeFileSync(
      path.join(dir, `private/root_keys/${root.publicKey.id}_root.key`),
      encodeKeyPem(root, { role: '' }, 'legacy-pw'),
      { mode: 0o600 },
    );
    writeFileSync(
      path.join(dir, `private/tuf_keys/docker.io/library/foo/${targets.publicKey.id}_targets.key`),
      encodeKeyPem(targets, { role: '' }, 'legacy-pw'),
      { mode: 0o600 },
    );
    const s = new TrustDirKeyStore(dir, constantPassphraseRetriever('legacy-pw'));
    const list = await s.list();
    expect(list.find((e) => e.id === root.publicKey.id)).toMatchObject({ role: 'root' });
    expect(list.find((e) => e.id === targets.publicKey.id)).toMatchObject({
      role: 'targets',
      gun: 'docker.io/library/foo',
    });
    expect((await s.get(targets.publicKey.id)).role).toBe('targets');
  });

  it('importPem: unencrypted openssl key gets a new passphrase; role fallback; gun rules', async () => {
    const dir = tmp('import');
    const rec = recording(() => 'new-pass-123');
    const s = new TrustDirKeyStore(dir, rec.retriever);
    const bob = readFileSync(path.join(VEC, 'docker/keys/bob.key'), 'utf8');
    const res = await s.importPem(bob, { role: 'bob', gun: 'dropped/for/delegations' });
    expect(res).toEqual({ id: '9ffc71f6ed107c854d51bf2f4d90e10c47aecb3647acfc691d53f629fc3d8aa1', role: 'bob' });
    expect(rec.calls).toEqual([{ keyId: res.id, alias: 'bob', createNew: true, attempt: 0 }]);
    const text = readFileSync(path.join(dir, 'private', `${res.id}.key`), 'utf8');
    expect(text.startsWith('-----BEGIN ENCRYPTED PRIVATE KEY-----\nrole: bob\n\n')).toBe(true);
    expect(decodeKeyPem(text, 'new-pass-123').key.publicKey.id).toBe(res.id);

    // no role anywhere → "delegation" (notary's default import role)
    const k2 = crypto
      .generateKeyPairSync('ec', { namedCurve: 'P-256' })
      .privateKey.export({ format: 'pem', type: 'pkcs8' })
      .toString();
    expect((await s.importPem(k2)).role).toBe('delegation');
    // targets key without gun → refused loudly
    const k3 = encodeKeyPem(generatePrivateKey(), { role: 'targets' }, '');
    expect(await codeOf(s.importPem(k3))).toBe('KEY_FILE');
    expect((await s.importPem(k3, { gun: 'x/y' })).role).toBe('targets');
    // not a key at all
    expect(await codeOf(s.importPem('-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n'))).toBe('KEY_FILE');
  });

  it('importPem: encrypted key without path header is decrypted and really imported (docker #1095)', async () => {
    const dir = tmp('import-enc');
    const k = generatePrivateKey();
    const pem = encodeKeyPem(k, { role: 'alice' }, 'their-pass');
    const viaOpts = new TrustDirKeyStore(dir, constantPassphraseRetriever('unused'));
    expect(await viaOpts.importPem(pem, { passphrase: 'their-pass' })).toEqual({ id: k.publicKey.id, role: 'alice' });
    const stored = readFileSync(path.join(dir, 'private', `${k.publicKey.id}.key`), 'utf8');
    expect(decodeKeyPem(stored, 'their-pass').key.publicKey.id).toBe(k.publicKey.id);

    const dir2 = tmp('import-enc2');
    const rec = recording((r) => (r.attempt === 0 ? 'wrong' : 'their-pass'));
    const viaRetriever = new TrustDirKeyStore(dir2, rec.retriever);
    expect((await viaRetriever.importPem(pem)).id).toBe(k.publicKey.id);
    expect(rec.calls.map((c) => [c.alias, c.createNew, c.attempt])).toEqual([
      ['alice', false, 0],
      ['alice', false, 1],
    ]);
    expect(await codeOf(new TrustDirKeyStore(tmp('x'), constantPassphraseRetriever('nope')).importPem(pem))).toBe(
      'BAD_PASSPHRASE',
    );
    expect(await codeOf(viaOpts.importPem(pem, { passphrase: 'nope' }))).toBe('BAD_PASSPHRASE');
  });

  it('importFile refuses group/other-readable files', async () => {
    const dir = tmp('perm');
    const f = path.join(dir, 'k.pem');
    writeFileSync(f, readFileSync(path.join(VEC, 'docker/keys/bob.key')));
    chmodSync(f, 0o644);
    const s = new TrustDirKeyStore(path.join(dir, 'trust'), constantPassphraseRetriever('pw-pw-pw'));
    await expect(s.importFile(f, { role: 'bob' })).rejects.toThrow(/chmod|group or others/);
    chmodSync(f, 0o600);
    expect((await s.importFile(f, { role: 'bob' })).role).toBe('bob');
  });

  it('the real notary and docker fixture files work as a trust dir', async () => {
    const dir = tmp('fixture-trust');
    mkdirSync(path.join(dir, 'private'), { recursive: true, mode: 0o700 });
    for (const name of readdirSync(path.join(VEC, 'docker/keys'))) {
      const m = /-([0-9a-f]{64})\.key$/.exec(name);
      if (m) copyFileSync(path.join(VEC, 'docker/keys', name), path.join(dir, 'private', `${m[1]}.key`));
    }
    const s = new TrustDirKeyStore(
      dir,
      envPassphraseRetriever({
        DOCKER_CONTENT_TRUST_ROOT_PASSPHRASE: 'docker-root-pass',
        DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE: 'docker-repo-pass',
      }),
    );
    const list = await s.list();
    expect(list.map((e) => e.role).sort()).toEqual(['alice', 'bob', 'root', 'targets']);
    for (const e of list) expect((await s.get(e.id)).publicKey.id).toBe(e.id);
  });
});

describe('(h) backup and restore', () => {
  it('restores identical key files into an empty trust dir', async () => {
    const dir = tmp('backup');
    const s = new TrustDirKeyStore(dir, constantPassphraseRetriever('key-pass'));
    const keys = [generatePrivateKey(), generatePrivateKey('ed25519'), generatePrivateKey()];
    await s.add(keys[0]!, { role: 'root' });
    await s.add(keys[1]!, { role: 'alice' });
    await s.add(keys[2]!, { role: 'targets', gun: 'docker.io/x/y' });
    const archive = await writeBackup(s, 'backup-pass');
    expect(archive.subarray(0, 8).toString()).toBe('SIGNETKB');
    for (const k of keys) {
      expect(archive.includes(Buffer.from(k.publicKey.id))).toBe(false);
    }

    const target = path.join(tmp('restore'), 'trust');
    const ids = await restoreBackup(archive, 'backup-pass', target);
    expect(ids.sort()).toEqual(keys.map((k) => k.publicKey.id).sort());
    for (const e of await s.list()) {
      const rel = path.relative(dir, e.file);
      expect(readFileSync(path.join(target, rel), 'utf8')).toBe(readFileSync(e.file, 'utf8'));
      expect(statSync(path.join(target, rel)).mode & 0o777).toBe(0o600);
    }
    expect(statSync(path.join(target, 'private')).mode & 0o777).toBe(0o700);
    const restored = new TrustDirKeyStore(target, constantPassphraseRetriever('key-pass'));
    expect(await restored.list()).toEqual(
      (await s.list()).map((e) => ({ ...e, file: path.join(target, path.relative(dir, e.file)) })),
    );
    for (const k of keys) expect((await restored.get(k.publicKey.id)).publicKey).toEqual(k.publicKey);

    // idempotent into the same dir; wrong passphrase; tampering; conflicting file
    expect((await restoreBackup(archive, 'backup-pass', target)).length).toBe(3);
    expect(await codeOf(restoreBackup(archive, 'wrong', tmp('r2')))).toBe('BAD_PASSPHRASE');
    const tampered = Buffer.from(archive);
    tampered[tampered.length - 20] = (tampered[tampered.length - 20] ?? 0) ^ 1;
    expect(await codeOf(restoreBackup(tampered, 'backup-pass', tmp('r3')))).toBe('BAD_PASSPHRASE');
    expect(await codeOf(restoreBackup(Buffer.from('not a backup at all, no'), 'x', tmp('r4')))).toBe('KEY_FILE');
    const conflictDir = tmp('r5');
    mkdirSync(path.join(conflictDir, 'private'), { recursive: true });
    writeFileSync(path.join(conflictDir, 'private', `${keys[0]!.publicKey.id}.key`), 'other');
    expect(await codeOf(restoreBackup(archive, 'backup-pass', conflictDir))).toBe('KEY_FILE');
    expect(readdirSync(path.join(conflictDir, 'private'))).toEqual([`${keys[0]!.publicKey.id}.key`]);
    expect(await codeOf(writeBackup(s, ''))).toBe('PASSPHRASE_REQUIRED');
  });
});
