// Issue 2 acceptance: metadata made and signed by Signet's core alone (src/tuf + src/keys, no client
// code) for a new repository — root with a fresh certificate, targets, snapshot — is accepted by the
// real notary-server 0.7 when uploaded with a plain multipart POST, and the real `notary list` then
// verifies it from an empty trust dir.
import crypto from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Agent, FormData, fetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generatePrivateKey } from '../../src/keys/index.js';
import {
  certificatePublicKey,
  createRootCertificate,
  defaultExpires,
  fileMeta,
  localSigner,
  newRoot,
  newSnapshot,
  newTargets,
  parseTimestamp,
  publicKeyFromJson,
  signMetadata,
  type KeyJson,
} from '../../src/tuf/index.js';
import { startNotaryPeers, type NotaryPeers } from '../harness/notary-peers.js';
import { notaryCli } from '../harness/notary-cli.js';

const GUN = '127.0.0.1:5000/library/core-made';

let peers: NotaryPeers;
let dispatcher: Agent;
let work: string;

beforeAll(async () => {
  peers = await startNotaryPeers();
  dispatcher = new Agent({ connect: { ca: readFileSync(peers.caFile) } });
  work = mkdtempSync(path.join(os.tmpdir(), 'signet-core-'));
});

afterAll(async () => {
  await dispatcher?.close();
  await peers?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

async function get(url: string): Promise<{ status: number; body: Buffer }> {
  const r = await fetch(url, { dispatcher });
  return { status: r.status, body: Buffer.from(await r.arrayBuffer()) };
}

async function postParts(
  gun: string,
  parts: Array<{ role: string; bytes: Buffer }>,
): Promise<{ status: number; body: string }> {
  const form = new FormData();
  for (const p of parts) form.append('files', new Blob([p.bytes], { type: 'application/octet-stream' }), p.role);
  const r = await fetch(`${peers.url}/v2/${gun}/_trust/tuf/`, { method: 'POST', body: form, dispatcher });
  return { status: r.status, body: await r.text() };
}

describe('metadata made by the core library', () => {
  it('is accepted by notary-server 0.7 and verified by the real notary list', async () => {
    const now = new Date();
    const rootKey = generatePrivateKey('ecdsa');
    const targetsKey = generatePrivateKey('ecdsa');
    const snapshotKey = generatePrivateKey('ecdsa');
    const certPem = await createRootCertificate(GUN, rootKey.keyObject, now);
    const rootPublic = certificatePublicKey(certPem);

    const tsKeyResp = await get(`${peers.url}/v2/${GUN}/_trust/tuf/timestamp.key`);
    expect(tsKeyResp.status).toBe(200);
    const timestampPublic = publicKeyFromJson(JSON.parse(tsKeyResp.body.toString('utf8')) as KeyJson);

    const root = await signMetadata(
      'root',
      newRoot(
        [rootPublic, targetsKey.publicKey, snapshotKey.publicKey, timestampPublic],
        {
          root: { keyids: [rootPublic.id], threshold: 1 },
          targets: { keyids: [targetsKey.publicKey.id], threshold: 1 },
          snapshot: { keyids: [snapshotKey.publicKey.id], threshold: 1 },
          timestamp: { keyids: [timestampPublic.id], threshold: 1 },
        },
        defaultExpires('root', now),
      ),
      [localSigner(rootKey.keyObject, rootPublic)],
    );

    const manifest = Buffer.from('{"schemaVersion":2,"made":"by the signet core test"}');
    const targetsBody = newTargets(defaultExpires('targets', now));
    targetsBody.targets['v1'] = fileMeta(manifest, ['sha256', 'sha512']);
    const targets = await signMetadata('targets', targetsBody, [
      localSigner(targetsKey.keyObject, targetsKey.publicKey),
    ]);

    const snapshot = await signMetadata(
      'snapshot',
      newSnapshot({ root: fileMeta(root.bytes), targets: fileMeta(targets.bytes) }, defaultExpires('snapshot', now)),
      [localSigner(snapshotKey.keyObject, snapshotKey.publicKey)],
    );

    const posted = await postParts(GUN, [
      { role: 'root', bytes: root.bytes },
      { role: 'targets', bytes: targets.bytes },
      { role: 'snapshot', bytes: snapshot.bytes },
    ]);
    expect(posted.body).toBe('');
    expect(posted.status).toBe(200);

    // The server stores our bytes verbatim and signs a timestamp over our snapshot.
    expect((await get(`${peers.url}/v2/${GUN}/_trust/tuf/root.json`)).body.equals(root.bytes)).toBe(true);
    expect((await get(`${peers.url}/v2/${GUN}/_trust/tuf/targets.json`)).body.equals(targets.bytes)).toBe(true);
    const ts = parseTimestamp((await get(`${peers.url}/v2/${GUN}/_trust/tuf/timestamp.json`)).body);
    expect(ts.signed.meta.snapshot.hashes.sha256).toBe(
      crypto.createHash('sha256').update(snapshot.bytes).digest('base64'),
    );

    const notary = notaryCli({ server: peers.url, caFile: peers.caFile, trustDir: path.join(work, 'trust') });
    const list = await notary.run(['list', GUN]);
    expect(list.stderr).not.toMatch(/error|invalid/i);
    expect(list.code).toBe(0);
    const sha256hex = crypto.createHash('sha256').update(manifest).digest('hex');
    expect(list.stdout).toMatch(new RegExp(`^v1\\s+${sha256hex}\\s+${manifest.length}\\s+targets`, 'm'));
  });

  it('is refused by notary-server when one byte of a signed file changes', async () => {
    const gun = `${GUN}-tampered`;
    const now = new Date();
    const rootKey = generatePrivateKey('ecdsa');
    const targetsKey = generatePrivateKey('ecdsa');
    const certPem = await createRootCertificate(gun, rootKey.keyObject, now);
    const rootPublic = certificatePublicKey(certPem);
    const tsKey = publicKeyFromJson(
      JSON.parse((await get(`${peers.url}/v2/${gun}/_trust/tuf/timestamp.key`)).body.toString('utf8')) as KeyJson,
    );
    const snKey = publicKeyFromJson(
      JSON.parse((await get(`${peers.url}/v2/${gun}/_trust/tuf/snapshot.key`)).body.toString('utf8')) as KeyJson,
    );
    const root = await signMetadata(
      'root',
      newRoot(
        [rootPublic, targetsKey.publicKey, snKey, tsKey],
        {
          root: { keyids: [rootPublic.id], threshold: 1 },
          targets: { keyids: [targetsKey.publicKey.id], threshold: 1 },
          snapshot: { keyids: [snKey.id], threshold: 1 },
          timestamp: { keyids: [tsKey.id], threshold: 1 },
        },
        defaultExpires('root', now),
      ),
      [localSigner(rootKey.keyObject, rootPublic)],
    );
    const targets = await signMetadata('targets', newTargets(defaultExpires('targets', now)), [
      localSigner(targetsKey.keyObject, targetsKey.publicKey),
    ]);
    // flip the version digit inside the signed targets body: the signature no longer matches
    const tampered = Buffer.from(targets.bytes.toString('utf8').replace('"version":1', '"version":7'), 'utf8');
    expect(tampered.equals(targets.bytes)).toBe(false);
    const posted = await postParts(gun, [
      { role: 'root', bytes: root.bytes },
      { role: 'targets', bytes: tampered },
    ]);
    expect(posted.status).toBe(400);
    expect(JSON.parse(posted.body)).toMatchObject({ errors: [{ code: 'INVALID_UPDATE' }] });
    // ...while the untampered upload of the same repository (server-managed snapshot) is accepted
    const ok = await postParts(gun, [
      { role: 'root', bytes: root.bytes },
      { role: 'targets', bytes: targets.bytes },
    ]);
    expect(ok.body).toBe('');
    expect(ok.status).toBe(200);
  });
});
