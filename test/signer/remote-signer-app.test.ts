/**
 * Signet's app with a RemoteServerSigner, against an in-process gRPC signer that keeps keys in a
 * map (notary-signer's API over mutual TLS): a publish is signed remotely and audited with the
 * remote signer's name; after a restart (nothing cached) with the signer unreachable, a publish
 * fails before its transaction with 503 naming the signer, and nothing is stored.
 */
import crypto from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type SignetApp } from '../../src/server/index.js';
import { RemoteServerSigner } from '../../src/signer/index.js';
import { signerServices } from '../../src/signer/grpc/proto.js';
import { openStore, type MetaStore } from '../../src/storage/index.js';
import { publicKeyFromSpki } from '../../src/tuf/index.js';
import { makeTestCA } from '../harness/tls.js';
import { errorOf, TestRepo, type Injector } from '../server/helpers.js';

const GUN = 'example.com/remote/app';
let dir: string;
let server: grpc.Server;
let address: string;
let tls: { ca: Buffer; cert: Buffer; key: Buffer };
let store: MetaStore;
let down = false;
const keys = new Map<string, { key: crypto.KeyObject; der: Buffer; role: string }>();

const unavailable = { code: grpc.status.UNAVAILABLE, details: 'signer switched off by the test' };
type Cb = grpc.sendUnaryData<unknown>;
type Call = grpc.ServerUnaryCall<Record<string, unknown>, unknown>;
const info = (id: string, der: Buffer) => ({
  keyInfo: { keyID: { ID: id }, algorithm: { algorithm: 'ecdsa' } },
  publicKey: der,
});

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'signet-remote-app-'));
  const ca = await makeTestCA(path.join(dir, 'tls'));
  const s = await ca.issue('signer', { eku: 'serverAuth' });
  const c = await ca.issue('client', { eku: 'clientAuth' });
  tls = { ca: readFileSync(ca.caCert), cert: readFileSync(c.cert), key: readFileSync(c.key) };
  const services = await signerServices();
  server = new grpc.Server();
  server.addService(services.KeyManagement.service, {
    CreateKey: (call: Call, cb: Cb) => {
      if (down) return cb(unavailable);
      const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const der = publicKey.export({ type: 'spki', format: 'der' });
      const id = publicKeyFromSpki(der, 'ecdsa').id;
      keys.set(id, { key: privateKey, der, role: String(call.request.role) });
      cb(null, info(id, der));
    },
    GetKeyInfo: (call: Call, cb: Cb) => {
      if (down) return cb(unavailable);
      const id = String(call.request.ID);
      const k = keys.get(id);
      if (k === undefined) return cb({ code: grpc.status.NOT_FOUND, details: 'not found' });
      cb(null, { ...info(id, k.der), role: k.role });
    },
    DeleteKey: (_call: Call, cb: Cb) => cb(null, {}),
  });
  server.addService(services.Signer.service, {
    Sign: (call: Call, cb: Cb) => {
      if (down) return cb(unavailable);
      const id = String((call.request.keyID as { ID: string }).ID);
      const k = keys.get(id);
      if (k === undefined) return cb({ code: grpc.status.NOT_FOUND, details: 'not found' });
      const sig = crypto.sign('sha256', call.request.content as Buffer, { key: k.key, dsaEncoding: 'ieee-p1363' });
      cb(null, { keyInfo: info(id, k.der).keyInfo, algorithm: { algorithm: 'ecdsa' }, content: sig });
    },
  });
  server.addService(services.Health.service, { Check: (_call: Call, cb: Cb) => cb(null, { status: 'SERVING' }) });
  const creds = grpc.ServerCredentials.createSsl(
    tls.ca,
    [{ private_key: readFileSync(s.key), cert_chain: readFileSync(s.cert) }],
    true,
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', creds, (err, p) => (err ? reject(err) : resolve(p))),
  );
  address = `127.0.0.1:${port}`;
  store = await openStore({ dataDir: dir });
});
afterAll(async () => {
  server?.forceShutdown();
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function app(): Promise<{ signet: SignetApp; signer: RemoteServerSigner }> {
  const signer = await RemoteServerSigner.connect({ address, ...tls, timeoutMs: 2_000, audit: store.audit });
  const signet = buildApp({ store, signer });
  await signet.app.ready();
  return { signet, signer };
}

describe('the server app signing with a remote signer', () => {
  let repo: TestRepo;

  it('publishes with keys made and used by the signer; the trail names the remote signer', async () => {
    const { signet, signer } = await app();
    try {
      repo = new TestRepo(signet.app as unknown as Injector, GUN);
      await repo.init({ serverSnapshot: true });
      repo.addTarget('v1', 'one');
      expect((await repo.publish()).statusCode).toBe(200);
      expect(await store.keys.first()).toBeNull();
      const entries = (await store.audit.list({ afterSeq: 0, limit: 100 })).map((e) => JSON.parse(e.text));
      expect(entries.map((e) => [e.event, e.role ?? null])).toEqual([
        ['create_key', 'timestamp'],
        ['create_key', 'snapshot'],
        ['publish', null],
      ]);
      expect(entries[2]).toMatchObject({
        gun: GUN,
        signer: `remote ${address}`,
        signed: [
          { role: 'snapshot', keyId: repo.serverSnapshotPub!.id, version: 1 },
          { role: 'timestamp', keyId: repo.timestampPub!.id, version: 1 },
        ],
      });
    } finally {
      await signet.app.close();
      await signer.close();
    }
  });

  it('after a restart with the signer unreachable: 503 naming it before any transaction, nothing stored', async () => {
    down = true;
    const { signet, signer } = await app();
    try {
      repo.http = signet.app as unknown as Injector;
      repo.addTarget('v2', 'two');
      const r = await repo.publish();
      expect(r.statusCode).toBe(503);
      expect(errorOf(r.body)).toEqual({
        code: 'UNAVAILABLE',
        message: 'service unavailable',
        detail: `the remote signer at ${address} is unavailable`,
      });
      expect((await store.getLatest(GUN, 'timestamp'))?.version).toBe(1);
      const last = (await store.audit.recent(1)).map((e) => JSON.parse(e.text))[0];
      expect(last).toMatchObject({ event: 'refused', route: 'publish', status: 503 });
    } finally {
      down = false;
      await signet.app.close();
      await signer.close();
    }
  });
});
