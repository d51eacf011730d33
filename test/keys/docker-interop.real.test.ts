// Interop of src/keys with the real docker 28 CLI `trust key` commands (no engine needed).
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  TrustDirKeyStore,
  encodeKeyPem,
  envPassphraseRetriever,
  generatePrivateKey,
  inspectKeyPem,
  publicKeyPem,
} from '../../src/keys/index.js';
import { dockerCli } from '../harness/docker-cli.js';

const ROOT_PASS = 'docker-root-pass';
const REPO_PASS = 'docker-repo-pass';
const ENV = { DOCKER_CONTENT_TRUST_ROOT_PASSPHRASE: ROOT_PASS, DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE: REPO_PASS };

function tmp(prefix: string): string {
  return mkdtempSync(path.join(tmpdir(), `signet-${prefix}-`));
}

function ok(r: { code: number | null; stdout: string; stderr: string }, what: string): string {
  if (r.code !== 0) throw new Error(`${what} failed (exit ${String(r.code)}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

function docker(dir: string): ReturnType<typeof dockerCli> {
  return dockerCli({
    trustServer: 'https://127.0.0.1:9',
    dir,
    rootPassphrase: ROOT_PASS,
    repositoryPassphrase: REPO_PASS,
  });
}

describe('docker trust key ⇄ src/keys', () => {
  it('docker trust key generate: we decrypt the key and reproduce NAME.pub byte for byte', async () => {
    const dir = tmp('docker-gen');
    const cli = docker(dir);
    const out = path.join(dir, 'out');
    mkdirSync(out);
    ok(await cli.run(['trust', 'key', 'generate', 'alice', '--dir', out]), 'docker trust key generate');
    const store = new TrustDirKeyStore(cli.trustDir, envPassphraseRetriever(ENV));
    const list = await store.list();
    expect(list.map((e) => e.role)).toEqual(['alice']);
    const key = await store.get(list[0]!.id);
    expect(publicKeyPem(key, 'alice')).toBe(readFileSync(path.join(out, 'alice.pub'), 'utf8'));
  });

  it('docker trust key load imports our export (encrypted, path header) and our unencrypted key', async () => {
    const dir = tmp('docker-load');
    const cli = docker(dir);
    // a Signet trust dir elsewhere holds bob's key; export it for docker
    const ours = new TrustDirKeyStore(path.join(dir, 'signet-trust'), envPassphraseRetriever(ENV));
    const bob = generatePrivateKey();
    await ours.add(bob, { role: 'bob' });
    const exported = path.join(dir, 'bob.pem');
    writeFileSync(exported, await ours.exportKey(bob.publicKey.id, REPO_PASS), { mode: 0o600 });
    ok(await cli.run(['trust', 'key', 'load', exported, '--name', 'bob']), 'docker trust key load (encrypted)');

    const carol = generatePrivateKey();
    const plain = path.join(dir, 'carol.pem');
    writeFileSync(plain, encodeKeyPem(carol, { role: '' }, ''), { mode: 0o600 });
    ok(await cli.run(['trust', 'key', 'load', plain, '--name', 'carol']), 'docker trust key load (unencrypted)');

    const store = new TrustDirKeyStore(cli.trustDir, envPassphraseRetriever(ENV));
    const list = await store.list();
    expect(list.map((e) => [e.id, e.role]).sort()).toEqual(
      [
        [bob.publicKey.id, 'bob'],
        [carol.publicKey.id, 'carol'],
      ].sort(),
    );
    for (const k of [bob, carol]) expect((await store.get(k.publicKey.id)).publicKey).toEqual(k.publicKey);
    expect(
      inspectKeyPem(readFileSync(path.join(cli.trustDir, 'private', `${carol.publicKey.id}.key`), 'utf8')),
    ).toMatchObject({
      encrypted: true,
      meta: { role: 'carol' },
    });

    // docker, like our importFile, refuses a group-readable key file
    const loose = path.join(dir, 'loose.pem');
    writeFileSync(loose, encodeKeyPem(generatePrivateKey(), { role: '' }, ''), { mode: 0o644 });
    const refused = await cli.run(['trust', 'key', 'load', loose, '--name', 'dave']);
    expect(refused.code).not.toBe(0);
    await expect(store.importFile(loose, { role: 'dave' })).rejects.toMatchObject({ code: 'KEY_FILE' });
  });
});
