/**
 * Moving one half of a notary deployment: a repository published through the real notary-server
 * and notary-signer 0.7 (PostgreSQL), whose timestamp and snapshot keys notary-signer holds. Its
 * keys are imported into Signet's signer service store (`signet server import`), notary-signer is
 * replaced by `signet server signer`, and the same notary-server (same database) keeps serving: the
 * owner's notary client reads, publishes again and gets a re-signed timestamp, all signed with the
 * keys notary-signer made, now held and used by Signet.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/storage/index.js';
import { bundleEntry } from '../harness/bundle.js';
import { notaryCli } from '../harness/notary-cli.js';
import { createNotarySchema, startNotaryPeers, type NotaryPostgres } from '../harness/notary-peers.js';
import { startNotaryServerWithSigner, type NotaryServerWithSigner } from '../harness/notary-server-remote.js';
import { startPostgres } from '../harness/postgres.js';
import { run, tailFile, type Proc } from '../harness/proc.js';
import { expireStoredTimestamp, rootKeyIds, startSignetSigner, tufJson } from '../harness/signet-signer.js';
import { makeTestCA } from '../harness/tls.js';

const GUN = 'example.com/swap/app';
const ALIAS = 'swapalias';
const PASS = 'swap-signet-passphrase';
const dir = mkdtempSync(path.join(os.tmpdir(), 'signet-sservice-swap-'));
const tls = path.join(dir, 'tls');
const dataDir = path.join(dir, 'signer-data');
const trustDir = path.join(dir, 'trust');
const stops: (() => Promise<void>)[] = [];
let db: NotaryPostgres;
let cli: string;
let before: { timestamp: string[]; snapshot: string[] };

function target(name: string): string {
  const f = path.join(dir, `${name}.txt`);
  writeFileSync(f, `content of ${name}\n`);
  return f;
}

type Result = { code: number | null; stdout: string; stderr: string };
function ok(what: string, r: Result, logs: string[] = []): string {
  if (r.code !== 0) {
    throw new Error(
      `${what} exited ${String(r.code)}:\n${r.stderr}\n${logs.map((l) => `--- ${l}:\n${tailFile(l)}`).join('\n')}`,
    );
  }
  return r.stdout;
}

beforeAll(async () => {
  const [serverDb, signerDb] = [await startPostgres(), await startPostgres()];
  stops.push(serverDb.stop, signerDb.stop);
  db = { serverDb: serverDb.url, signerDb: signerDb.url, alias: ALIAS, passphrase: 'notary-signer-alias-pass' };
  await createNotarySchema(db);
  cli = await bundleEntry('src/cli/main.ts', dir, 'signet.mjs');
  // the notary deployment: publish with both server keys held by notary-signer
  const peers = await startNotaryPeers({ postgres: db });
  try {
    const notary = notaryCli({ server: peers.url, caFile: peers.caFile, trustDir });
    ok('init', await notary.run(['init', GUN, '-p']));
    ok('snapshot to the server', await notary.run(['key', 'rotate', GUN, 'snapshot', '-r']));
    ok('add v1', await notary.run(['add', GUN, 'v1', target('v1'), '-p']));
    before = {
      timestamp: await rootKeyIds(peers.url, GUN, 'timestamp', peers.caFile),
      snapshot: await rootKeyIds(peers.url, GUN, 'snapshot', peers.caFile),
    };
  } finally {
    await peers.stop();
  }
}, 180_000);

afterAll(async () => {
  for (const s of stops.reverse()) await s().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

describe('replacing notary-signer with Signet signer service under the same notary-server', () => {
  let server: NotaryServerWithSigner;
  let signer: { proc: Proc; port: number };

  it("imports notary-signer's keys into the signer service's store", async () => {
    const r = await run(
      process.execPath,
      [
        cli,
        'server',
        'import',
        '--from-server-db',
        db.serverDb,
        '--from-signer-db',
        db.signerDb,
        '--data-dir',
        dataDir,
        '--json',
      ],
      {
        env: {
          PATH: process.env.PATH,
          HOME: dir,
          [`NOTARY_SIGNER_${ALIAS.toUpperCase()}`]: db.passphrase,
          SIGNET_SIGNER_PASSPHRASE: PASS,
        },
        timeoutMs: 120_000,
      },
    );
    const report = JSON.parse(ok('signet server import', r)) as { keys: { imported: number } };
    expect(report.keys.imported).toBeGreaterThanOrEqual(2);
  });

  it('notary-server on the same database, now with the signer service: read, publish, timestamp re-sign', async () => {
    const ca = await makeTestCA(tls);
    await Promise.all([
      ca.issue('signer', { cn: 'signet-signer', eku: 'serverAuth' }),
      ca.issue('server', { cn: 'notary-server', eku: 'serverAuth' }),
      ca.issue('server-client', { cn: 'notary-server-client', eku: 'clientAuth' }),
    ]);
    signer = await startSignetSigner({ cli, dir, tlsDir: tls, dataDir, passphrase: PASS });
    stops.push(() => signer.proc.stop());
    server = await startNotaryServerWithSigner({
      dir,
      tlsCert: path.join(tls, 'server.crt'),
      tlsKey: path.join(tls, 'server.key'),
      caFile: ca.caCert,
      serverDb: db.serverDb,
      createSchema: false,
      signer: {
        host: '127.0.0.1',
        port: signer.port,
        caFile: ca.caCert,
        clientCert: path.join(tls, 'server-client.crt'),
        clientKey: path.join(tls, 'server-client.key'),
      },
    });
    stops.push(() => server.stop());
    const logs = [server.log, signer.proc.logFile];
    const notary = notaryCli({ server: server.url, caFile: ca.caCert, trustDir });
    expect(ok('lookup v1', await notary.run(['lookup', GUN, 'v1']), logs)).toContain('v1');
    ok('add v2', await notary.run(['add', GUN, 'v2', target('v2'), '-p']), logs);
    const tsBefore = await tufJson(server.url, GUN, 'timestamp', ca.caCert);
    await expireStoredTimestamp(db.serverDb, GUN);
    const tsAfter = await tufJson(server.url, GUN, 'timestamp', ca.caCert);
    expect(tsAfter.signed.version).toBe((tsBefore.signed.version as number) + 1);
    const list = ok(
      'list',
      await notaryCli({ server: server.url, caFile: ca.caCert, trustDir: path.join(dir, 'trust2') }).run(['list', GUN]),
      logs,
    );
    expect(list).toContain('v1');
    expect(list).toContain('v2');
    // the keys did not change: notary-signer's keys, now used by Signet's signer service
    expect(await rootKeyIds(server.url, GUN, 'timestamp', ca.caCert)).toEqual(before.timestamp);
    expect(await rootKeyIds(server.url, GUN, 'snapshot', ca.caCert)).toEqual(before.snapshot);
    expect(tsAfter.signatures.map((s) => s.keyid)).toEqual(before.timestamp);
  });

  it("the signer's audit trail shows the signs with notary-signer's key ids", async () => {
    await signer.proc.stop();
    const store = await openStore({ dataDir });
    try {
      const signs = (await store.audit.list({ afterSeq: 0, limit: 10_000 }))
        .map((e) => JSON.parse(e.text) as Record<string, unknown>)
        .filter((e) => e.event === 'sign');
      // the publish of v2 signs snapshot and timestamp; the GET after the expiry signs a timestamp
      expect(
        signs.filter((e) => e.role === 'timestamp' && e.keyId === before.timestamp[0]).length,
      ).toBeGreaterThanOrEqual(2);
      expect(
        signs.filter((e) => e.role === 'snapshot' && e.keyId === before.snapshot[0]).length,
      ).toBeGreaterThanOrEqual(1);
      for (const e of signs) expect(e).toMatchObject({ gun: GUN, service: 'signer', client: 'notary-server-client' });
    } finally {
      await store.close();
    }
  });
});
