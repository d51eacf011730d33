// NotaryRemote against the real notary-server 0.7 (Debian package), HTTPS with a test CA.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NotaryRemote } from '../../src/remote/index.js';
import { isSignetError } from '../../src/errors.js';
import { parseRoot, parseTimestamp } from '../../src/tuf/index.js';
import { startNotaryPeers, type NotaryPeers } from '../harness/notary-peers.js';
import { notaryCli } from '../harness/notary-cli.js';
import { codeOf } from '../helpers/errors.js';

let peers: NotaryPeers;
let remote: NotaryRemote;
let tmp: string;

beforeAll(async () => {
  peers = await startNotaryPeers();
  remote = new NotaryRemote({ serverUrl: peers.url + '/', ca: await readFile(peers.caFile), retryDelayMs: () => 0 });
  tmp = await mkdtemp(path.join(os.tmpdir(), 'signet-remote-real-'));
}, 60_000);

afterAll(async () => {
  await remote?.close();
  await peers?.stop();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe('NotaryRemote ⇄ real notary-server', () => {
  it('pings over HTTPS with the test CA, and fails TLS without it', async () => {
    await remote.ping();
    const noCa = new NotaryRemote({ serverUrl: peers.url, retries: 0 });
    try {
      expect(await codeOf(noCa.ping())).toBe('NETWORK');
    } finally {
      await noCa.close();
    }
  });

  it('connects without the CA only when told to skip TLS verification (insecure)', async () => {
    const insecure = new NotaryRemote({ serverUrl: peers.url, insecureSkipVerify: true, retries: 0 });
    try {
      await insecure.ping();
    } finally {
      await insecure.close();
    }
  });

  it('reports NOT_FOUND for root.json of an unknown GUN', async () => {
    expect(await codeOf(remote.getRole('127.0.0.1:5000/nothing/here', 'root', { maxBytes: 1 << 20 }))).toBe(
      'NOT_FOUND',
    );
  });

  it('gets and rotates server keys as TUF public keys', async () => {
    // (key reuse before first use is a notary-signer SQL-backend behaviour; the harness runs memory)
    const a = await remote.getServerKey('127.0.0.1:5000/remote/keys', 'timestamp');
    expect(a.keytype).toBe('ecdsa');
    expect(a.id).toMatch(/^[0-9a-f]{64}$/);
    const c = await remote.rotateServerKey('127.0.0.1:5000/remote/keys', 'snapshot');
    expect(c.keytype).toBe('ecdsa');
  });

  it('reads what the notary CLI published, by name, checksum and version; rejects a bad publish', async () => {
    const gun = '127.0.0.1:5000/remote/published';
    const cli = notaryCli({ server: peers.url, caFile: peers.caFile, trustDir: path.join(tmp, 'trust') });
    const init = await cli.run(['init', gun]);
    expect(init.code, init.stderr).toBe(0);
    const pub = await cli.run(['publish', gun]);
    expect(pub.code, pub.stderr).toBe(0);

    const root = parseRoot(await remote.getRole(gun, 'root', { maxBytes: 1 << 20 }));
    const v1 = await remote.getRole(gun, 'root', { maxBytes: 1 << 20, version: 1 });
    expect(v1.equals(root.bytes)).toBe(true);
    const ts = parseTimestamp(await remote.getRole(gun, 'timestamp', { maxBytes: 1 << 20 }));
    const snapMeta = ts.signed.meta.snapshot;
    const hex = Buffer.from(snapMeta.hashes.sha256 ?? '', 'base64').toString('hex');
    const snap = await remote.getRole(gun, 'snapshot', { maxBytes: snapMeta.length, checksum: hex });
    expect(snap.length).toBe(snapMeta.length);
    expect(await codeOf(remote.getRole(gun, 'snapshot', { maxBytes: snapMeta.length - 1, checksum: hex }))).toBe(
      'ENDLESS_DATA',
    );

    // the same root again: the server says VERSION (typed detail {}), which is SERVER_REJECTED
    try {
      await remote.publish(gun, [{ role: 'root', bytes: root.bytes }]);
      expect.unreachable();
    } catch (e) {
      expect(isSignetError(e, 'SERVER_REJECTED')).toBe(true);
      expect((e as { details: Record<string, unknown> }).details.status).toBe(400);
    }

    await remote.deleteRepository(gun);
    expect(await codeOf(remote.getRole(gun, 'root', { maxBytes: 1 << 20 }))).toBe('NOT_FOUND');
  }, 120_000);
});
