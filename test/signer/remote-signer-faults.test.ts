/**
 * RemoteServerSigner against a misbehaving signer: an in-process gRPC server with notary-signer's
 * services (proto.ts) over mutual TLS, whose answers each test chooses. A signer that never
 * answers hits the per-call deadline; one that lies about keys or signatures is refused; errors
 * name the signer's address; created keys are recorded in the audit trail without key material.
 */
import crypto from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { isSignetError } from '../../src/errors.js';
import { RemoteServerSigner } from '../../src/signer/index.js';
import { signerServices } from '../../src/signer/grpc/proto.js';
import { openStore, type MetaStore } from '../../src/storage/index.js';
import { keyJson, newRoot, publicKeyFromSpki, type PublicKey, type RootSigned } from '../../src/tuf/index.js';
import { makeTestCA, type TestCA } from '../harness/tls.js';

type Handler = (req: Record<string, unknown>) => Promise<unknown>;
/** What the fake answers, per method; a thrown {code, details} is a gRPC error. */
const behaviour: Record<string, Handler> = {};

interface Pair {
  key: crypto.KeyObject;
  pub: PublicKey;
  der: Buffer;
}
function ecdsa(): Pair {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return { key: privateKey, pub: publicKeyFromSpki(der, 'ecdsa'), der };
}
const keyMsg = (p: Pair, algorithm = 'ecdsa', id = p.pub.id) => ({
  keyInfo: { keyID: { ID: id }, algorithm: { algorithm } },
  publicKey: p.der,
});

function rootListing(role: 'timestamp' | 'snapshot', k: PublicKey): RootSigned {
  return newRoot(
    { [k.id]: keyJson(k.keytype, k.public) },
    {
      root: { keyids: [], threshold: 1 },
      targets: { keyids: [], threshold: 1 },
      snapshot: { keyids: role === 'snapshot' ? [k.id] : [], threshold: 1 },
      timestamp: { keyids: role === 'timestamp' ? [k.id] : [], threshold: 1 },
    },
    new Date(Date.now() + 1e10),
  );
}

let dir: string;
let ca: TestCA;
let server: grpc.Server;
let address: string;
let client: { cert: Buffer; key: Buffer };
let store: MetaStore;
let signer: RemoteServerSigner;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'signet-remote-fake-'));
  ca = await makeTestCA(path.join(dir, 'tls'));
  const s = await ca.issue('signer', { eku: 'serverAuth' });
  const c = await ca.issue('client', { eku: 'clientAuth' });
  client = { cert: readFileSync(c.cert), key: readFileSync(c.key) };
  const services = await signerServices();
  server = new grpc.Server();
  const route =
    (method: string) =>
    (call: grpc.ServerUnaryCall<Record<string, unknown>, unknown>, cb: grpc.sendUnaryData<unknown>): void => {
      const h = behaviour[method];
      if (h === undefined) {
        cb({ code: grpc.status.UNIMPLEMENTED, details: `${method} not scripted` });
        return;
      }
      h(call.request).then(
        (res) => cb(null, res),
        (err: grpc.ServiceError) => cb(err),
      );
    };
  server.addService(services.KeyManagement.service, {
    CreateKey: route('CreateKey'),
    GetKeyInfo: route('GetKeyInfo'),
    DeleteKey: route('DeleteKey'),
  });
  server.addService(services.Signer.service, { Sign: route('Sign') });
  server.addService(services.Health.service, { Check: route('Check') });
  const creds = grpc.ServerCredentials.createSsl(
    readFileSync(ca.caCert),
    [{ private_key: readFileSync(s.key), cert_chain: readFileSync(s.cert) }],
    true,
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', creds, (err, p) => (err ? reject(err) : resolve(p))),
  );
  address = `127.0.0.1:${port}`;
  store = await openStore({ dataDir: dir });
  signer = await RemoteServerSigner.connect({
    address,
    ca: readFileSync(ca.caCert),
    ...client,
    timeoutMs: 300,
    audit: store.audit,
  });
});
afterAll(async () => {
  await signer?.close();
  server?.forceShutdown();
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  for (const k of Object.keys(behaviour)) delete behaviour[k];
});

const errorOf = (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    () => undefined,
    (e: unknown) => e,
  );

describe('RemoteServerSigner against a misbehaving signer', () => {
  it('asks CreateKey for an ecdsa key of the GUN and role, and records the creation (no key bytes) in the trail', async () => {
    const k = ecdsa();
    let asked: Record<string, unknown> | undefined;
    behaviour.CreateKey = async (req) => {
      asked = req;
      return keyMsg(k);
    };
    const pk = await signer.rotateKey('example.com/a', 'snapshot', { event: 'rotate_key', user: 'alice' });
    expect(pk.id).toBe(k.pub.id);
    expect(asked).toEqual({ algorithm: 'ecdsa', gun: 'example.com/a', role: 'snapshot' });
    const [entry] = await store.audit.recent(1);
    expect(JSON.parse(entry!.text)).toMatchObject({
      event: 'rotate_key',
      user: 'alice',
      gun: 'example.com/a',
      role: 'snapshot',
      keyId: k.pub.id,
      algorithm: 'ecdsa',
      signer: `remote ${address}`,
    });
    expect(entry!.text).not.toContain(k.pub.public.slice(0, 40));
  });

  it('a signer that does not answer in time: SIGNER_UNAVAILABLE naming the address', async () => {
    behaviour.CreateKey = () => new Promise(() => undefined);
    const err = await errorOf(signer.getOrCreateKey('example.com/slow', 'timestamp'));
    expect(isSignetError(err, 'SIGNER_UNAVAILABLE')).toBe(true);
    expect((err as Error).message).toBe(
      `the remote signer at ${address} is unavailable (CreateKey: no answer before the deadline)`,
    );
  });

  it('a public key that does not hash to the key ID given is refused (SIGNER)', async () => {
    const k = ecdsa();
    behaviour.CreateKey = async () => keyMsg(k, 'ecdsa', 'a'.repeat(64));
    const err = await errorOf(signer.getOrCreateKey('example.com/liar', 'timestamp'));
    expect(isSignetError(err, 'SIGNER')).toBe(true);
    expect((err as Error).message).toContain(address);
  });

  it('a key of another algorithm is refused on creation and not used when listed', async () => {
    const k = ecdsa();
    behaviour.CreateKey = async () => keyMsg(k, 'ed25519');
    expect(isSignetError(await errorOf(signer.rotateKey('example.com/ed', 'timestamp')), 'SIGNER')).toBe(true);
    behaviour.GetKeyInfo = async () => ({ ...keyMsg(k, 'ed25519'), role: 'timestamp' });
    expect(await signer.signerFor('example.com/ed', 'timestamp', rootListing('timestamp', k.pub))).toBeNull();
  });

  it('NOT_FOUND for a listed key: not held (a new key is created for a key request)', async () => {
    const listed = ecdsa();
    const made = ecdsa();
    behaviour.GetKeyInfo = async () => {
      throw { code: grpc.status.NOT_FOUND, details: 'key not found' };
    };
    behaviour.CreateKey = async () => keyMsg(made);
    const root = rootListing('snapshot', listed.pub);
    expect(await signer.signerFor('example.com/nf', 'snapshot', root)).toBeNull();
    expect((await signer.getOrCreateKey('example.com/nf', 'snapshot', root)).id).toBe(made.pub.id);
  });

  it('signs through Sign with the key ID and the bytes; a signature that does not verify is refused', async () => {
    const k = ecdsa();
    behaviour.GetKeyInfo = async () => ({ ...keyMsg(k), role: 'timestamp' });
    let asked: Record<string, unknown> | undefined;
    behaviour.Sign = async (req) => {
      asked = req;
      const sig = crypto.sign('sha256', req.content as Buffer, { key: k.key, dsaEncoding: 'ieee-p1363' });
      return { keyInfo: keyMsg(k).keyInfo, algorithm: { algorithm: 'ecdsa' }, content: sig };
    };
    const s = await signer.signerFor('example.com/sig', 'timestamp', rootListing('timestamp', k.pub));
    const data = Buffer.from('{"_type":"Timestamp"}');
    expect((await s!.sign(data)).sig).toHaveLength(64);
    expect(asked).toEqual({ keyID: { ID: k.pub.id }, content: data });

    const other = ecdsa();
    behaviour.Sign = async (req) => ({
      content: crypto.sign('sha256', req.content as Buffer, { key: other.key, dsaEncoding: 'ieee-p1363' }),
    });
    const err = await errorOf(s!.sign(data));
    expect(isSignetError(err, 'SIGNER')).toBe(true);
    expect((err as Error).message).toContain(`does not verify with key ${k.pub.id}`);
  });

  it('health: NOT_SERVING of either service is SIGNER_UNAVAILABLE', async () => {
    behaviour.Check = async (req) => ({
      status: req.service === 'grpc.health.v1.Health.Signer' ? 'NOT_SERVING' : 'SERVING',
    });
    const err = await errorOf(signer.checkHealth());
    expect(isSignetError(err, 'SIGNER_UNAVAILABLE')).toBe(true);
    expect((err as Error).message).toBe(`the remote signer at ${address} reports Signer NOT_SERVING`);
    behaviour.Check = async () => ({ status: 'SERVING' });
    await expect(signer.checkHealth()).resolves.toBeUndefined();
  });

  it('a server certificate from another CA: SIGNER_UNAVAILABLE', async () => {
    const other = await makeTestCA(path.join(dir, 'other'));
    const s = await RemoteServerSigner.connect({
      address,
      ca: readFileSync(other.caCert),
      ...client,
      timeoutMs: 2_000,
    });
    try {
      expect(isSignetError(await errorOf(s.checkHealth()), 'SIGNER_UNAVAILABLE')).toBe(true);
    } finally {
      await s.close();
    }
  });
});
