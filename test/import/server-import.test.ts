/**
 * `signet server import` against the real notary-server and notary-signer 0.7 on PostgreSQL, with
 * the schema made by notary's own migrations and the data made by the real notary and docker CLIs
 * (several repositories, delegations, root/snapshot/timestamp rotations, a deleted repository).
 * After the import the notary deployment is stopped and the same warm clients (notary CLI trust
 * dir, docker config, signet trust dir with a pin) are pointed at Signet's server.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/server/index.js';
import { parseRoot, parseTimestamp } from '../../src/tuf/index.js';
import { signetCli } from '../cli/signet.js';
import { dockerCli, type DockerCli } from '../harness/docker-cli.js';
import { notaryCli, type NotaryCli } from '../harness/notary-cli.js';
import {
  createNotarySchema,
  startNotaryPeers,
  type NotaryPeers,
  type NotaryPostgres,
} from '../harness/notary-peers.js';
import { startPostgres } from '../harness/postgres.js';
import { run } from '../harness/proc.js';
import { pushImage, type PushedImage } from '../harness/push-image.js';
import { startRegistry, type TestRegistry } from '../harness/registry.js';

const SIGNER_ALIAS = 'timestamp_1';
const SIGNET_PASS = 'signet-signer-pass-for-import';
type Result = { code: number | null; stdout: string; stderr: string };

function ok(what: string, r: Result): Result {
  expect(r.code, `${what}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`).toBe(0);
  return r;
}

async function importCli(
  args: string[],
  dataDir: string,
  aliasPass: string | null = 'signer-alias-pass',
): Promise<{ r: Result; report: ImportJson }> {
  const { ensureBuilt, SIGNET_MAIN } = await import('../cli/signet.js');
  await ensureBuilt();
  const r = await run(process.execPath, [SIGNET_MAIN, 'server', 'import', '--data-dir', dataDir, '--json', ...args], {
    env: {
      PATH: process.env.PATH,
      HOME: dataDir,
      ...(aliasPass !== null ? { [`NOTARY_SIGNER_${SIGNER_ALIAS.toUpperCase()}`]: aliasPass } : {}),
      SIGNET_SIGNER_PASSPHRASE: SIGNET_PASS,
    },
    timeoutMs: 120_000,
  });
  return { r, report: JSON.parse(r.stdout === '' ? '{}' : r.stdout) as ImportJson };
}

interface ImportJson {
  repositories: { source: number; imported: number; alreadyCurrent: number; verified: number };
  files: { source: number; imported: number; alreadyPresent: number };
  changefeed: { sourceUpdates: number; sourceDeletions: number; updatesPresent: number; updatesOfDeleted: number };
  keys: { source: number; imported: number; alreadyPresent: number; skipped: unknown[] };
  withoutTimestampKey: string[];
  failures: unknown[];
  checks: { gun: string; rootVersion: number; delegations: number; timestampKeyHeld: boolean }[];
}

async function getJson(url: string, ca: Buffer): Promise<Buffer> {
  const { request } = await import('node:https');
  return new Promise((resolve, reject) => {
    request(url, { ca, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        res.statusCode === 200 ? resolve(Buffer.concat(chunks)) : reject(new Error(`${url}: ${res.statusCode}`)),
      );
    })
      .on('error', reject)
      .end();
  });
}

/** Signet's server on the imported data dir (the only server left once notary's peers stop). */
function startSignet(dataDir: string, options?: { resignWindowMs: number }): ReturnType<typeof startServer> {
  return startServer({
    listen: '127.0.0.1:0',
    dataDir,
    tls: { mode: 'auto' },
    signerPassphrase: SIGNET_PASS,
    logger: pino({ level: 'silent' }),
    handleSignals: false,
    auditLog: false,
    ...(options !== undefined ? { options } : {}),
  });
}

describe('signet server import: a notary-server + notary-signer deployment on PostgreSQL', () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'signet-import-'));
  const stops: (() => Promise<void>)[] = [];
  let db: NotaryPostgres;
  let peers: NotaryPeers;
  let registry: TestRegistry;
  let imgA: PushedImage;
  let imgB: PushedImage;
  let gunA: string;
  let gunB: string;
  let gunC: string;
  let notary: NotaryCli;
  let docker: DockerCli;
  let signetTrust: string;
  let notaryTrust: string;
  let rootKeyA: string;
  let signet: RunningServer | undefined;
  const dataDir = path.join(tmp, 'signet-data');
  let first: ImportJson;

  beforeAll(async () => {
    const [serverDb, signerDb] = [await startPostgres(), await startPostgres()];
    stops.push(serverDb.stop, signerDb.stop);
    db = { serverDb: serverDb.url, signerDb: signerDb.url, alias: SIGNER_ALIAS, passphrase: 'signer-alias-pass' };
    await createNotarySchema(db);
    [peers, registry] = await Promise.all([startNotaryPeers({ postgres: db }), startRegistry()]);
    stops.push(
      () => peers.stop(),
      () => registry.stop(),
    );
    imgA = await pushImage(registry.host, 'imp/app', 'v1');
    imgB = await pushImage(registry.host, 'imp/dockerapp', 'v1');
    gunA = imgA.gun;
    gunB = imgB.gun;
    gunC = `${registry.host}/imp/gone`;

    // A: notary CLI; root, snapshot (to the server) and timestamp rotations; three publishes
    notaryTrust = path.join(tmp, 'notary-trust');
    notary = notaryCli({ server: peers.url, caFile: peers.caFile, trustDir: notaryTrust });
    const n = (args: string[]): Promise<Result> => notary.run(args).then((r) => ok(`notary ${args.join(' ')}`, r));
    const hex = (d: string): string => d.slice('sha256:'.length);
    await n(['init', gunA]);
    await n(['addhash', gunA, 'v1', String(imgA.size), '--sha256', hex(imgA.digest)]);
    await n(['publish', gunA]);
    await n(['key', 'rotate', gunA, 'root']);
    await n(['key', 'rotate', gunA, 'snapshot', '-r']);
    await n(['key', 'rotate', gunA, 'timestamp', '-r']);
    await n(['addhash', gunA, 'v2', String(imgA.size), '--sha256', hex(imgA.digest), '-p']);
    // C: created and deleted again (a deletion record in the changefeed)
    await n(['init', gunC, '-p']);
    await n(['delete', gunC, '--remote']);

    // B: docker trust: signer add makes targets/releases and targets/alice; the tag goes into both
    docker = dockerCli({ trustServer: peers.url, dir: path.join(tmp, 'docker') });
    const d = (args: string[]): Promise<Result> => docker.run(args).then((r) => ok(`docker ${args.join(' ')}`, r));
    await d(['trust', 'key', 'generate', 'alice', '--dir', tmp]);
    await d(['trust', 'signer', 'add', '--key', path.join(tmp, 'alice.pub'), 'alice', gunB]);
    const nd = notaryCli({ server: peers.url, caFile: peers.caFile, trustDir: docker.trustDir });
    ok('addhash B', await nd.run(['addhash', gunB, 'v1', String(imgB.size), '--sha256', hex(imgB.digest), '-p']));
    await d(['trust', 'sign', `${gunB}:v1`]);

    // warm clients: notary's cache, docker's cache, signet's cache and pin
    expect(ok('list A', await notary.run(['list', gunA])).stdout).toContain('v2');
    expect(ok('inspect B', await docker.run(['trust', 'inspect', gunB])).stdout).toContain(hex(imgB.digest));
    rootKeyA = parseRoot(await getJson(`${peers.url}/v2/${gunA}/_trust/tuf/root.json`, await readFile(peers.caFile)))
      .signed.roles['root']!.keyids[0]!;
    signetTrust = path.join(tmp, 'signet-trust');
    const s = signetCli({ server: peers.url, caFile: peers.caFile, trustDir: signetTrust });
    await s.ok(['pin', gunA, rootKeyA]);
    expect((await s.ok(['verify', '--digest-only', `${gunA}:v2`])).stdout.trim()).toContain(imgA.digest);
    const rootKeyB = parseRoot(
      await getJson(`${peers.url}/v2/${gunB}/_trust/tuf/root.json`, await readFile(peers.caFile)),
    ).signed.roles['root']!.keyids[0]!;
    await s.ok(['pin', gunB, rootKeyB]);
    expect((await s.ok(['verify', '--digest-only', `${gunB}:v1`])).stdout.trim()).toContain(imgB.digest);
  }, 400_000);

  afterAll(async () => {
    await signet?.close();
    for (const s of stops.reverse()) await s().catch(() => undefined);
    rmSync(tmp, { recursive: true, force: true });
  });

  it("refuses without the signer alias's passphrase, or with a wrong one, before importing anything", async () => {
    const from = ['--from-server-db', db.serverDb, '--from-signer-db', db.signerDb];
    const missing = await importCli(from, path.join(tmp, 'refused'), null);
    expect(missing.r.code, missing.r.stdout + missing.r.stderr).toBe(7);
    expect(missing.r.stderr).toContain('PASSPHRASE_REQUIRED');
    expect(missing.r.stderr).toContain('NOTARY_SIGNER_TIMESTAMP_1');
    const wrong = await importCli(from, path.join(tmp, 'refused'), 'not-the-passphrase');
    expect(wrong.r.code).toBe(7);
    expect(wrong.r.stderr).toContain('BAD_PASSPHRASE');
    expect(wrong.r.stderr).not.toContain('not-the-passphrase');
  }, 60_000);

  it('imports every repository, version and server key, verifies each chain, and reports counts', async () => {
    const { r, report } = await importCli(['--from-server-db', db.serverDb, '--from-signer-db', db.signerDb], dataDir);
    ok('import', r);
    expect(existsSync(path.join(dataDir, 'signet.db'))).toBe(true);
    first = report;
    expect(report.failures).toEqual([]);
    expect(report.repositories).toMatchObject({ source: 2, imported: 2, alreadyCurrent: 0, verified: 2 });
    expect(report.files.imported).toBe(report.files.source);
    expect(report.files.source).toBeGreaterThan(10);
    // A: root v3 after the root and snapshot rotations; B: docker's two delegations
    const byGun = new Map(report.checks.map((c) => [c.gun, c]));
    expect(report.checks.map((c) => c.gun).sort()).toEqual([gunA, gunB].sort());
    expect(byGun.get(gunA)?.rootVersion).toBeGreaterThanOrEqual(3);
    expect(byGun.get(gunA)?.timestampKeyHeld).toBe(true);
    expect(byGun.get(gunB)).toMatchObject({ delegations: 2, timestampKeyHeld: true });
    // every update record of notary's changefeed has its timestamp row in Signet; C's deletion is counted
    expect(report.changefeed.updatesOfDeleted).toBeGreaterThanOrEqual(1);
    expect(report.changefeed.updatesPresent + report.changefeed.updatesOfDeleted).toBe(report.changefeed.sourceUpdates);
    expect(report.changefeed.sourceDeletions).toBeGreaterThanOrEqual(1);
    // timestamp keys (A twice: rotated; B; C), snapshot keys (A, B)
    expect(report.keys.imported).toBe(report.keys.source);
    expect(report.keys.source).toBeGreaterThanOrEqual(5);
  }, 120_000);

  it('is idempotent: a second run imports nothing and verifies again', async () => {
    const { r, report } = await importCli(['--from-server-db', db.serverDb, '--from-signer-db', db.signerDb], dataDir);
    ok('re-import', r);
    expect(report.repositories).toMatchObject({ source: 2, imported: 0, alreadyCurrent: 2, verified: 2 });
    expect(report.files).toEqual({ source: first.files.source, imported: 0, alreadyPresent: first.files.source });
    expect(report.keys).toMatchObject({ imported: 0, alreadyPresent: first.keys.source });
  }, 120_000);

  it('imports the same from a psql \\copy CSV dump, resuming an interrupted import', async () => {
    const dump = path.join(tmp, 'dump');
    await mkdir(dump);
    const copy = async (url: string, table: string): Promise<void> => {
      ok(
        `psql \\copy ${table}`,
        await run('/usr/bin/psql', [
          url,
          '-c',
          `\\copy ${table} to '${path.join(dump, table)}.csv' with (format csv, header)`,
        ]),
      );
    };
    await copy(db.serverDb, 'tuf_files');
    await copy(db.serverDb, 'changefeed');
    await copy(db.signerDb, 'private_keys');
    // an import interrupted after the first repository: a dump holding only A's rows, then the whole dump
    const partial = path.join(tmp, 'dump-partial');
    await mkdir(partial);
    const csv = (await readFile(path.join(dump, 'tuf_files.csv'), 'utf8')).split('\n');
    await writeFile(
      path.join(partial, 'tuf_files.csv'),
      [csv[0], ...csv.slice(1).filter((l) => l.includes(`,${gunA},`))].join('\n') + '\n',
    );
    for (const t of ['changefeed', 'private_keys'])
      await writeFile(path.join(partial, `${t}.csv`), await readFile(path.join(dump, `${t}.csv`)));
    const target = path.join(tmp, 'signet-from-dump');
    const part = await importCli(['--from-dump', partial], target);
    ok('partial import', part.r);
    expect(part.report.repositories).toMatchObject({ source: 1, imported: 1, verified: 1 });

    const { r, report } = await importCli(['--from-dump', dump], target);
    ok('import from dump', r);
    expect(report.repositories).toMatchObject({ source: 2, imported: 1, alreadyCurrent: 1, verified: 2 });
    expect(report.files.alreadyPresent).toBe(part.report.files.imported);
    expect(report.files.imported + report.files.alreadyPresent).toBe(first.files.source);
    expect(report.keys.alreadyPresent).toBe(first.keys.source);
    expect(report.failures).toEqual([]);
    expect(report.changefeed).toEqual(first.changefeed);
  }, 120_000);

  it('serves the same clients afterwards: notary list, docker trust inspect and signet verify with their caches and pin', async () => {
    await peers.stop(); // the notary deployment is gone; only Signet answers from here on
    signet = await startSignet(dataDir);
    const url = signet.url;
    const ca = signet.caFile as string;
    const n = notaryCli({ server: url, caFile: ca, trustDir: notaryTrust });
    const list = ok('notary list via Signet', await n.run(['list', gunA]));
    expect(list.stdout).toContain('v1');
    expect(list.stdout).toContain('v2');

    const d = dockerCli({ trustServer: url, dir: path.join(tmp, 'docker') });
    await d.installCA(new URL(url).host, ca);
    const inspect = ok('docker trust inspect via Signet', await d.run(['trust', 'inspect', gunB]));
    const signers = (JSON.parse(inspect.stdout) as { Signers: { Name: string }[] }[])[0]!.Signers.map((s) => s.Name);
    expect(signers).toContain('alice');

    const s = signetCli({ server: url, caFile: ca, trustDir: signetTrust });
    expect((await s.ok(['verify', '--digest-only', `${gunA}:v2`])).stdout).toContain(imgA.digest);
    expect((await s.ok(['verify', '--digest-only', `${gunB}:v1`])).stdout).toContain(imgB.digest);

    // a new publish with the notary client: Signet signs the new timestamp (and snapshot) with the imported keys
    const rootA = parseRoot(await getJson(`${url}/v2/${gunA}/_trust/tuf/root.json`, await readFile(ca)));
    const before = parseTimestamp(await getJson(`${url}/v2/${gunA}/_trust/tuf/timestamp.json`, await readFile(ca)));
    ok(
      'publish via Signet',
      await n.run(['addhash', gunA, 'v3', String(imgA.size), '--sha256', imgA.digest.slice(7), '-p']),
    );
    const after = parseTimestamp(await getJson(`${url}/v2/${gunA}/_trust/tuf/timestamp.json`, await readFile(ca)));
    expect(after.signed.version).toBeGreaterThan(before.signed.version);
    expect(rootA.signed.roles['timestamp']!.keyids).toContain(after.signatures[0]!.keyid);
    expect(ok('list after publish', await n.run(['list', gunA])).stdout).toContain('v3');
    expect(ok('docker sees it too', await d.run(['trust', 'inspect', gunA])).stdout).toContain('v3');
  }, 240_000);

  it('re-signs an expiring timestamp with the imported key, and the notary client accepts it', async () => {
    await signet?.close();
    // every notary timestamp expires within 14 days: a 15-day window makes the next read re-sign it
    signet = await startSignet(dataDir, { resignWindowMs: 15 * 24 * 3600 * 1000 });
    const ca = await readFile(signet.caFile as string);
    const url = signet.url;
    const stored = await signet.store.getLatest(gunB, 'timestamp');
    const rootB = parseRoot(await getJson(`${url}/v2/${gunB}/_trust/tuf/root.json`, ca));
    const served = parseTimestamp(await getJson(`${url}/v2/${gunB}/_trust/tuf/timestamp.json`, ca));
    expect(served.signed.version).toBeGreaterThan(stored!.version);
    expect(rootB.signed.roles['timestamp']!.keyids).toContain(served.signatures[0]!.keyid);
    // the warm docker client and a warm notary client read it through their caches
    const n = notaryCli({
      server: url,
      caFile: signet.caFile as string,
      trustDir: path.join(tmp, 'docker', 'config', 'trust'),
    });
    expect(ok('notary list B after re-sign', await n.run(['list', gunB])).stdout).toContain('v1');
    const d = dockerCli({ trustServer: url, dir: path.join(tmp, 'docker') });
    expect(ok('docker inspect after re-sign', await d.run(['trust', 'inspect', gunB])).stdout).toContain(
      imgB.digest.slice(7),
    );
    await writeFile(path.join(tmp, 'done'), '');
  }, 120_000);
});
