/**
 * The real notary-server 0.7 uses Signet's signer service (`signet server signer`, run as users run
 * it) in place of notary-signer, and the real notary client sees nothing different: init + publish,
 * lookup, a timestamp notary-server re-signs on GET, snapshot and timestamp key rotation to the
 * server, publish again, lookup. Afterwards the keys notary-server signs with are in Signet's store,
 * encrypted, and the signer's audit trail holds every Sign with GUN, role and key id.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
import { makeTestCA } from '../harness/tls.js';

const GUN = 'example.com/signer-service/app';
const dir = mkdtempSync(path.join(os.tmpdir(), 'signet-sservice-interop-'));
const dataDir = path.join(dir, 'signer-data');
const tls = path.join(dir, 'tls');
let signer: { proc: Proc; port: number } | undefined;
let server: NotaryServerWithSigner | undefined;
let dbs: { url: string; stop(): Promise<void> }[] = [];
let notary: NotaryCli;
let cli: string;

beforeAll(async () => {
  const ca = await makeTestCA(tls);
  await Promise.all([
    ca.issue('signer', { cn: 'signet-signer', eku: 'serverAuth' }),
    ca.issue('server', { cn: 'notary-server', eku: 'serverAuth' }),
    ca.issue('server-client', { cn: 'notary-server-client', eku: 'clientAuth' }),
  ]);
  cli = await bundleEntry('src/cli/main.ts', dir, 'signet.mjs');
  signer = await startSignetSigner({ cli, dir, tlsDir: tls, dataDir, passphrase: 'interop-signer-passphrase' });
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

const caFile = (): string => path.join(tls, 'ca.crt');
const serverJson = (role: string): Promise<TufFile> => tufJson(server?.url ?? '', GUN, role, caFile());
const rootKeyIds = (role: string): Promise<string[]> => rootKeyIdsOf(server?.url ?? '', GUN, role, caFile());

describe('notary-server 0.7 on Signet signer service', () => {
  it('init + publish, lookup', async () => {
    await ok(notary, ['init', GUN, '-p']);
    await ok(notary, ['add', GUN, 'v1', target('v1'), '-p']);
    expect(await ok(notary, ['lookup', GUN, 'v1'])).toContain('v1');
    const ts = await serverJson('timestamp');
    expect(ts.signatures.map((s) => s.keyid)).toEqual(await rootKeyIds('timestamp'));
  });

  it('notary-server re-signs an expired timestamp on GET, through the signer service', async () => {
    // (N:server/timestamp/timestamp.go GetOrCreateTimestamp; see expireStoredTimestamp)
    const before = await serverJson('timestamp');
    await expireStoredTimestamp(dbs[0]?.url ?? '', GUN);
    const after = await serverJson('timestamp');
    expect(after.signed.version).toBe((before.signed.version as number) + 1);
    expect(Date.parse(after.signed.expires as string)).toBeGreaterThan(Date.now());
    // and the notary client accepts it
    expect(await ok(notary, ['lookup', GUN, 'v1'])).toContain('v1');
  });

  it('snapshot and timestamp rotation to the server, publish again, lookup from a fresh client', async () => {
    const oldTs = await rootKeyIds('timestamp');
    const oldSn = await rootKeyIds('snapshot');
    await ok(notary, ['key', 'rotate', GUN, 'snapshot', '-r']);
    await ok(notary, ['key', 'rotate', GUN, 'timestamp', '-r']);
    const newTs = await rootKeyIds('timestamp');
    expect(newTs).not.toEqual(oldTs);
    expect(await rootKeyIds('snapshot')).not.toEqual(oldSn);
    await ok(notary, ['add', GUN, 'v2', target('v2'), '-p']);
    const fresh = notaryCli({
      server: server?.url ?? '',
      caFile: path.join(tls, 'ca.crt'),
      trustDir: path.join(dir, 'trust2'),
    });
    const list = await ok(fresh, ['list', GUN]);
    expect(list).toContain('v1');
    expect(list).toContain('v2');
    expect((await serverJson('snapshot')).signatures.map((s) => s.keyid)).toEqual(await rootKeyIds('snapshot'));
    expect((await serverJson('timestamp')).signatures.map((s) => s.keyid)).toEqual(newTs);
  });

  it("the keys are in Signet's store, encrypted, and every Sign is in the signer's audit trail", async () => {
    const snapshotIds = await rootKeyIds('snapshot');
    const timestampIds = await rootKeyIds('timestamp');
    await signer?.proc.stop();
    signer = undefined;
    // the trail is the same hash chain `signet audit verify` checks for a trust server
    const verify = await run(process.execPath, [cli, 'audit', 'verify', '--data-dir', dataDir], {
      env: { PATH: process.env.PATH, HOME: dir },
      timeoutMs: 30_000,
    });
    expect(verify.code, verify.stderr).toBe(0);
    const store = await openStore({ dataDir });
    try {
      for (const [role, ids] of [
        ['snapshot', snapshotIds],
        ['timestamp', timestampIds],
      ] as const) {
        for (const id of ids) {
          const row = await store.keys.get(id);
          expect(row).toMatchObject({ gun: GUN, role, algorithm: 'ecdsa' });
          expect(row?.privateKey.subarray(0, 4).toString()).toBe('SGK1');
          expect(row?.lastUsed).not.toBeNull();
        }
      }
      const events = (await store.audit.list({ afterSeq: 0, limit: 10_000 })).map(
        (e) => JSON.parse(e.text) as Record<string, unknown>,
      );
      const signs = events.filter((e) => e.event === 'sign');
      for (const id of [...snapshotIds, ...timestampIds]) {
        expect(signs.some((e) => e.keyId === id)).toBe(true);
      }
      for (const e of signs) expect(e).toMatchObject({ service: 'signer', gun: GUN, client: 'notary-server-client' });
      // timestamp signs: first publish, the re-sign on GET, rotation, publish again
      expect(signs.filter((e) => e.role === 'timestamp').length).toBeGreaterThanOrEqual(4);
      expect(signs.filter((e) => e.role === 'snapshot').length).toBeGreaterThanOrEqual(1);
      expect(events.filter((e) => e.event === 'create_key').length).toBeGreaterThanOrEqual(3);
      expect(JSON.stringify(events)).not.toMatch(/PRIVATE KEY|interop-signer-passphrase/);
    } finally {
      await store.close();
    }
    // no plaintext key bytes in the database files
    const pkcs8Prefix = Buffer.from('308187020100301306072a8648ce3d020106082a8648ce3d030107', 'hex');
    for (const f of ['signet.db', 'signet.db-wal']) {
      let bytes: Buffer;
      try {
        bytes = readFileSync(path.join(dataDir, f));
      } catch {
        continue;
      }
      expect(bytes.includes(pkcs8Prefix)).toBe(false);
      expect(bytes.includes(Buffer.from('interop-signer-passphrase'))).toBe(false);
    }
  });
});
