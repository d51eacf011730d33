/**
 * Signet's signer service backed by a PKCS#11 token (`signet server signer --pkcs11 …`, SoftHSM2),
 * used by the real notary-server 0.7 in place of notary-signer and driven by the real notary client:
 * init + publish, lookup, a timestamp notary-server re-signs on GET, snapshot and timestamp rotation
 * to the server, publish again. Each key is generated on the token and labelled with its key ID;
 * DeleteKey destroys the token objects. The service's data dir holds no private key bytes and no
 * passphrase; its audit trail records every CreateKey, Sign and DeleteKey and verifies.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signerServices } from '../../src/signer/grpc/proto.js';
import { openStore } from '../../src/storage/index.js';
import { bundleEntry } from '../harness/bundle.js';
import { notaryCli, type NotaryCli } from '../harness/notary-cli.js';
import { startNotaryServerWithSigner, type NotaryServerWithSigner } from '../harness/notary-server-remote.js';
import { startPostgres } from '../harness/postgres.js';
import { run, tailFile, type Proc } from '../harness/proc.js';
import {
  expireStoredTimestamp,
  rootKeyIds as rootKeyIdsOf,
  startSignetSigner,
  tufJson,
  type TufFile,
} from '../harness/signet-signer.js';
import { createSoftHsmToken, type SoftHsmToken } from '../harness/softhsm.js';
import { makeTestCA } from '../harness/tls.js';
import { call } from '../signer/service-harness.js';

const GUN = 'example.com/signer-pkcs11/app';
const dir = mkdtempSync(path.join(os.tmpdir(), 'signet-sservice-p11-'));
const dataDir = path.join(dir, 'signer-data');
const tls = path.join(dir, 'tls');
let token: SoftHsmToken;
let signer: { proc: Proc; port: number } | undefined;
let server: NotaryServerWithSigner | undefined;
let dbs: { url: string; stop(): Promise<void> }[] = [];
let notary: NotaryCli;
let cli: string;
let km: grpc.Client | undefined;
let deletedKey = '';

beforeAll(async () => {
  token = await createSoftHsmToken(dir, 'signer-token');
  const ca = await makeTestCA(tls);
  await Promise.all([
    ca.issue('signer', { cn: 'signet-signer', eku: 'serverAuth' }),
    ca.issue('server', { cn: 'notary-server', eku: 'serverAuth' }),
    ca.issue('server-client', { cn: 'notary-server-client', eku: 'clientAuth' }),
  ]);
  cli = await bundleEntry('src/cli/main.ts', dir, 'signet.mjs');
  signer = await startSignetSigner({
    cli,
    dir,
    tlsDir: tls,
    dataDir,
    args: [
      '--pkcs11',
      `pkcs11:token=${token.label}`,
      '--pkcs11-module',
      token.module,
      '--pkcs11-pin-file',
      token.pinFile,
    ],
    env: token.env(),
  });
  const serverDb = await startPostgres();
  const spare = await startPostgres();
  dbs = [serverDb, spare];
  server = await startNotaryServerWithSigner({
    dir,
    tlsCert: path.join(tls, 'server.crt'),
    tlsKey: path.join(tls, 'server.key'),
    caFile: ca.caCert,
    serverDb: serverDb.url,
    signerDbForSchema: spare.url,
    signer: {
      host: '127.0.0.1',
      port: signer.port,
      caFile: ca.caCert,
      clientCert: path.join(tls, 'server-client.crt'),
      clientKey: path.join(tls, 'server-client.key'),
    },
  });
  notary = notaryCli({ server: server.url, caFile: ca.caCert, trustDir: path.join(dir, 'trust') });
}, 120_000);

afterAll(async () => {
  km?.close();
  await server?.stop();
  await signer?.proc.stop();
  for (const d of dbs) await d.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function ok(cli: NotaryCli, args: string[]): Promise<string> {
  const r = await cli.run(args);
  if (r.code !== 0) {
    throw new Error(
      `notary ${args.join(' ')} exited ${String(r.code)}:\n${r.stderr}\n--- notary-server log:\n${tailFile(server?.log ?? '')}\n--- signer log:\n${tailFile(signer?.proc.logFile ?? '')}`,
    );
  }
  return r.stdout;
}

function target(name: string): string {
  const f = path.join(dir, `${name}.txt`);
  writeFileSync(f, `content of ${name}\n`);
  return f;
}

/** The token's ECDSA P-256 keys as `signet key list --pkcs11` (the client's token access) sees them. */
async function tokenKeys(): Promise<{ id: string; label: string }[]> {
  const r = await run(
    process.execPath,
    [cli, 'key', 'list', '--pkcs11', `pkcs11:token=${token.label}`, '--json', '-d', path.join(dir, 'lister')],
    {
      env: {
        PATH: process.env.PATH,
        HOME: dir,
        SIGNET_PKCS11_MODULE: token.module,
        SIGNET_PKCS11_PIN_FILE: token.pinFile,
        ...token.env(),
      },
      timeoutMs: 30_000,
    },
  );
  if (r.code !== 0) throw new Error(`signet key list --pkcs11: ${r.stderr}`);
  return JSON.parse(r.stdout) as { id: string; label: string }[];
}

const caFile = (): string => path.join(tls, 'ca.crt');
const serverJson = (role: string): Promise<TufFile> => tufJson(server?.url ?? '', GUN, role, caFile());
const rootKeyIds = (role: string): Promise<string[]> => rootKeyIdsOf(server?.url ?? '', GUN, role, caFile());

describe('notary-server 0.7 on the Signet signer service with keys on a PKCS#11 token', () => {
  it('init + publish, lookup: the timestamp key was generated on the token, labelled with its key ID', async () => {
    await ok(notary, ['init', GUN, '-p']);
    await ok(notary, ['add', GUN, 'v1', target('v1'), '-p']);
    expect(await ok(notary, ['lookup', GUN, 'v1'])).toContain('v1');
    const ts = await serverJson('timestamp');
    const tsIds = await rootKeyIds('timestamp');
    expect(ts.signatures.map((s) => s.keyid)).toEqual(tsIds);
    const onToken = await tokenKeys();
    for (const id of tsIds) expect(onToken).toContainEqual(expect.objectContaining({ id, label: id }));
  });

  it('notary-server re-signs an expired timestamp on GET with the token key', async () => {
    const before = await serverJson('timestamp');
    await expireStoredTimestamp(dbs[0]?.url ?? '', GUN);
    const after = await serverJson('timestamp');
    expect(after.signed.version).toBe((before.signed.version as number) + 1);
    expect(after.signatures.map((s) => s.keyid)).toEqual(await rootKeyIds('timestamp'));
    expect(await ok(notary, ['lookup', GUN, 'v1'])).toContain('v1');
  });

  it('snapshot and timestamp rotation to the server, publish again, a fresh client lists both', async () => {
    const oldTs = await rootKeyIds('timestamp');
    await ok(notary, ['key', 'rotate', GUN, 'snapshot', '-r']);
    await ok(notary, ['key', 'rotate', GUN, 'timestamp', '-r']);
    const newTs = await rootKeyIds('timestamp');
    expect(newTs).not.toEqual(oldTs);
    await ok(notary, ['add', GUN, 'v2', target('v2'), '-p']);
    const fresh = notaryCli({ server: server?.url ?? '', caFile: caFile(), trustDir: path.join(dir, 'trust2') });
    const list = await ok(fresh, ['list', GUN]);
    expect(list).toContain('v1');
    expect(list).toContain('v2');
    expect((await serverJson('snapshot')).signatures.map((s) => s.keyid)).toEqual(await rootKeyIds('snapshot'));
    expect((await serverJson('timestamp')).signatures.map((s) => s.keyid)).toEqual(newTs);
    const onToken = (await tokenKeys()).map((k) => k.id);
    expect(onToken).toEqual(expect.arrayContaining([...oldTs, ...newTs, ...(await rootKeyIds('snapshot'))]));
    deletedKey = oldTs[0] ?? '';
  });

  it('DeleteKey of the rotated-out timestamp key destroys it on the token', async () => {
    const services = await signerServices();
    const grpcJs = await import('@grpc/grpc-js');
    km = new services.KeyManagement(
      `127.0.0.1:${signer?.port ?? 0}`,
      grpcJs.credentials.createSsl(
        readFileSync(caFile()),
        readFileSync(path.join(tls, 'server-client.key')),
        readFileSync(path.join(tls, 'server-client.crt')),
      ),
    );
    expect(await call(km, 'GetKeyInfo', { ID: deletedKey })).toMatchObject({ role: 'timestamp' });
    await call(km, 'DeleteKey', { ID: deletedKey });
    await expect(call(km, 'GetKeyInfo', { ID: deletedKey })).rejects.toMatchObject({ code: 5 });
    expect((await tokenKeys()).map((k) => k.id)).not.toContain(deletedKey);
    // the current keys still sign
    expect(await ok(notary, ['list', GUN])).toContain('v2');
  });

  it('no private key bytes or passphrase in the data dir; the trail records CreateKey, Sign and DeleteKey and verifies', async () => {
    const held = [...(await rootKeyIds('snapshot')), ...(await rootKeyIds('timestamp'))];
    await signer?.proc.stop();
    signer = undefined;
    const verify = await run(process.execPath, [cli, 'audit', 'verify', '--data-dir', dataDir], {
      env: { PATH: process.env.PATH, HOME: dir },
      timeoutMs: 30_000,
    });
    expect(verify.code, verify.stderr).toBe(0);
    expect(existsSync(path.join(dataDir, 'signer.passphrase'))).toBe(false);
    const store = await openStore({ dataDir });
    try {
      for (const id of held) {
        const row = await store.keys.get(id);
        expect(row).toMatchObject({ gun: GUN, algorithm: 'ecdsa' });
        expect(row?.lastUsed).not.toBeNull();
        // the row names the token object: no key bytes, no module, no PIN
        expect(row?.privateKey.toString('utf8')).toBe(`pkcs11:token=${token.label};object=${id};id=${pctHex(id)}`);
      }
      expect(await store.keys.get(deletedKey)).toBeNull();
      const events = (await store.audit.list({ afterSeq: 0, limit: 10_000 })).map(
        (e) => JSON.parse(e.text) as Record<string, unknown>,
      );
      const signs = events.filter((e) => e.event === 'sign');
      for (const id of held) expect(signs.some((e) => e.keyId === id)).toBe(true);
      for (const e of signs) expect(e).toMatchObject({ service: 'signer', gun: GUN, client: 'notary-server-client' });
      expect(signs.filter((e) => e.role === 'timestamp').length).toBeGreaterThanOrEqual(4);
      expect(events.filter((e) => e.event === 'create_key').length).toBeGreaterThanOrEqual(3);
      expect(events.find((e) => e.event === 'delete_key')).toMatchObject({
        keyId: deletedKey,
        gun: GUN,
        role: 'timestamp',
      });
      expect(JSON.stringify(events)).not.toContain(token.pin);
    } finally {
      await store.close();
    }
    // nothing in the data dir holds a PKCS#8 P-256 key, an encrypted key blob or the PIN
    const pkcs8Prefix = Buffer.from('308187020100301306072a8648ce3d020106082a8648ce3d030107', 'hex');
    for (const f of readdirSync(dataDir, { withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => e.name)) {
      const bytes = readFileSync(path.join(dataDir, f));
      expect(bytes.includes(pkcs8Prefix), f).toBe(false);
      expect(bytes.includes(Buffer.from('SGK1')), f).toBe(false);
      expect(bytes.includes(Buffer.from(token.pin)), f).toBe(false);
    }
  });
});

function pctHex(hex: string): string {
  return hex.replace(/../g, (b) => `%${b}`);
}
