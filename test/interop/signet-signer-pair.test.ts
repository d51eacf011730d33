/**
 * Both halves Signet: the trust server signs through `signet server signer` (remote signer over
 * mutual TLS, as `signet server --remote-signer` configures it), driven by the real notary 0.7 client:
 * init + publish, lookup, snapshot and timestamp rotation to the server, a timestamp re-signed on
 * read, publish again; the signer service stopped (503s, reads still served) and started again on
 * the same port (the pending change publishes); `signet server --remote-signer` run from the CLI
 * initialises a second repository through it. The server holds no key and no passphrase; the
 * keys are in the signer service's store; both audit trails record the signatures and pass
 * `signet audit verify`.
 */
import crypto from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/server/index.js';
import { openStore } from '../../src/storage/index.js';
import { bundleEntry } from '../harness/bundle.js';
import { notaryCli, type NotaryCli } from '../harness/notary-cli.js';
import { httpOk } from '../harness/notary-peers.js';
import { freePort } from '../harness/ports.js';
import { run, startProc, type Proc } from '../harness/proc.js';
import { startSignetSigner } from '../harness/signet-signer.js';
import { makeTestCA } from '../harness/tls.js';
import { auditEntries, list, ok, request, startRemoteSigned } from './remote-signer-setup.js';

const sha = (s: string): string => crypto.createHash('sha256').update(s).digest('hex');
const GUN = '127.0.0.1:5000/pair/app';
const GUN2 = '127.0.0.1:5000/pair/cli';
const RESIGN_ALWAYS = { resignWindowMs: 15 * 24 * 3600 * 1000 };
type Signed = { role: string; keyId: string; version: number };

const dir = mkdtempSync(path.join(os.tmpdir(), 'signet-pair-'));
const tls = path.join(dir, 'tls');
const serverData = path.join(dir, 'server-data');
const signerData = path.join(dir, 'signer-data');
let cli: string;
let signer: { proc: Proc; port: number } | undefined;
let srv: RunningServer | undefined;
let remote: { address: string; caFile: string; clientCert: string; clientKey: string };
let cold = 0;

/** the publisher's client (its trust dir kept across server restarts, which change the port) */
const notary = (): NotaryCli =>
  notaryCli({ server: srv!.url, caFile: srv!.caFile as string, trustDir: path.join(dir, 'trust') });
const fresh = (): NotaryCli =>
  notaryCli({ server: srv!.url, caFile: srv!.caFile as string, trustDir: path.join(dir, `cold${cold++}`) });
const startSigner = (port?: number): Promise<{ proc: Proc; port: number }> =>
  startSignetSigner({
    cli,
    dir,
    tlsDir: tls,
    dataDir: signerData,
    passphrase: 'pair-signer-passphrase',
    ...(port !== undefined ? { port } : {}),
  });
const get = async (p: string, method = 'GET') => request(`${srv!.url}${p}`, method, await readFile(srv!.caFile!));
const signaturesOf = async (event: string): Promise<Signed[][]> =>
  (await auditEntries(srv!)).filter((e) => e.event === event).map((e) => e.signed as Signed[]);

beforeAll(async () => {
  const ca = await makeTestCA(tls);
  await Promise.all([
    ca.issue('signer', { cn: 'signet-signer', eku: 'serverAuth' }),
    ca.issue('server-client', { cn: 'signet-server', eku: 'clientAuth' }),
  ]);
  cli = await bundleEntry('src/cli/main.ts', dir, 'signet.mjs');
  signer = await startSigner();
  remote = {
    address: `127.0.0.1:${signer.port}`,
    caFile: ca.caCert,
    clientCert: path.join(tls, 'server-client.crt'),
    clientKey: path.join(tls, 'server-client.key'),
  };
  srv = await startRemoteSigned(remote, serverData);
}, 120_000);

afterAll(async () => {
  await srv?.close();
  await signer?.proc.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("Signet's server signing through Signet's signer service", () => {
  it('init + publish, lookup: the timestamp is signed through the signer service', async () => {
    await ok(notary(), ['init', GUN]);
    await ok(notary(), ['addhash', GUN, 'v1', '3', '--sha256', sha('one')]);
    await ok(notary(), ['publish', GUN]);
    expect(await ok(notary(), ['lookup', GUN, 'v1'])).toContain(sha('one'));
    expect(await list(fresh(), GUN)).toEqual({ v1: 'targets' });
    const [pub] = await signaturesOf('publish');
    expect(pub).toEqual([{ role: 'timestamp', keyId: expect.stringMatching(/^[0-9a-f]{64}$/), version: 1 }]);
  });

  it('snapshot and timestamp rotation to the server, publish again, lookups', async () => {
    await ok(notary(), ['key', 'rotate', GUN, 'snapshot', '-r']);
    await ok(notary(), ['addhash', GUN, 'v2', '3', '--sha256', sha('two')]);
    await ok(notary(), ['publish', GUN]);
    const tsBefore = (await signaturesOf('publish')).at(-1)!.find((s) => s.role === 'timestamp')!.keyId;
    await ok(notary(), ['key', 'rotate', GUN, 'timestamp', '-r']);
    expect(await list(fresh(), GUN)).toEqual({ v1: 'targets', v2: 'targets' });
    expect(await ok(fresh(), ['lookup', GUN, 'v2'])).toContain(sha('two'));
    const last = (await signaturesOf('publish')).at(-1)!;
    expect(last.map((s) => s.role).sort()).toEqual(['snapshot', 'timestamp']);
    expect(last.find((s) => s.role === 'timestamp')!.keyId).not.toBe(tsBefore);
    const rotations = (await auditEntries(srv!)).filter((e) => e.event === 'rotate_key');
    expect(rotations.map((e) => e.role)).toEqual(['snapshot', 'timestamp']);
    for (const e of rotations) expect(e).toMatchObject({ gun: GUN, signer: `remote ${remote.address}` });
  });

  it('a timestamp due for renewal is re-signed on read through the signer service', async () => {
    const ts = async (): Promise<number> => (await srv!.store.getLatest(GUN, 'timestamp'))!.version;
    await srv!.close();
    srv = await startRemoteSigned(remote, serverData, RESIGN_ALWAYS);
    const v0 = await ts();
    expect(await list(fresh(), GUN)).toEqual({ v1: 'targets', v2: 'targets' });
    expect(await ts()).toBeGreaterThan(v0);
    const resign = (await auditEntries(srv!)).find((e) => e.event === 'resign_timestamp');
    expect(resign).toMatchObject({ gun: GUN, signer: `remote ${remote.address}` });
    expect((resign!.signed as Signed[]).find((s) => s.role === 'timestamp')?.version).toBe(v0 + 1);
  });

  it('signer service stopped: 503s, reads served; started again on its port: the pending change publishes', async () => {
    const port = signer!.port;
    await signer!.proc.stop();
    signer = undefined;
    const h = await get('/_notary_server/health');
    expect(h.status).toBe(503);
    expect(JSON.parse(h.body)).toEqual({ 'Trust operational': `remote ${remote.address} is unavailable` });
    expect((await get(`/v2/${GUN}/_trust/tuf/snapshot.key`, 'POST')).status).toBe(503);
    await ok(notary(), ['addhash', GUN, 'v3', '3', '--sha256', sha('three')]);
    const pub = await notary().run(['publish', GUN]);
    expect(pub.code).not.toBe(0);
    expect(pub.stdout + pub.stderr).toMatch(/503/);
    expect(await list(fresh(), GUN)).toEqual({ v1: 'targets', v2: 'targets' });

    signer = await startSigner(port);
    let back = await get('/_notary_server/health');
    for (let i = 0; i < 50 && back.status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 200));
      back = await get('/_notary_server/health');
    }
    expect([back.status, back.body]).toEqual([200, '{}']);
    await ok(notary(), ['publish', GUN]);
    expect(await list(fresh(), GUN)).toEqual({ v1: 'targets', v2: 'targets', v3: 'targets' });
  });

  it('`signet server --remote-signer` from the CLI signs through the service too, with no passphrase', async () => {
    const port = await freePort();
    const cliData = path.join(dir, 'cli-server-data');
    const ca = path.join(cliData, 'tls', 'ca.crt');
    const proc = await startProc({
      name: 'signet-server-cli',
      cmd: process.execPath,
      args: [
        cli,
        'server',
        '--listen',
        `127.0.0.1:${port}`,
        '--data-dir',
        cliData,
        '--remote-signer',
        remote.address,
        '--remote-signer-ca',
        remote.caFile,
        '--remote-signer-cert',
        remote.clientCert,
        '--remote-signer-key',
        remote.clientKey,
        '--remote-signer-server-name',
        'localhost',
      ],
      env: { PATH: process.env.PATH, HOME: dir },
      logDir: path.join(dir, 'logs'),
      listenPort: port,
      timeoutMs: 30_000,
      ready: async () => existsSync(ca) && httpOk(`https://127.0.0.1:${port}/v2/`, readFileSync(ca)),
    });
    try {
      const n = notaryCli({ server: `https://127.0.0.1:${port}`, caFile: ca, trustDir: path.join(dir, 'cli-trust') });
      await ok(n, ['init', '-p', GUN2]);
      expect(await list(n, GUN2)).toEqual({});
      expect(readFileSync(proc.logFile, 'utf8')).toContain('remote signer ready');
      expect(existsSync(path.join(cliData, 'signer.passphrase'))).toBe(false);
    } finally {
      proc.kill('SIGINT');
    }
    expect(await proc.exited).toBe(0);
  });

  it('the server holds no key; the keys are in the service store; both trails record the signings and verify', async () => {
    expect(await srv!.store.keys.first()).toBeNull();
    expect(existsSync(path.join(serverData, 'signer.passphrase'))).toBe(false);
    const entries = await auditEntries(srv!);
    const signed = entries.flatMap((e) => (e.signed as Signed[] | undefined) ?? []);
    expect(new Set(entries.filter((e) => e.signed !== undefined).map((e) => e.event))).toEqual(
      new Set(['publish', 'resign_timestamp']),
    );
    await srv!.close();
    srv = undefined;
    await signer!.proc.stop();
    signer = undefined;

    for (const dataDir of [serverData, signerData]) {
      const verify = await run(process.execPath, [cli, 'audit', 'verify', '--data-dir', dataDir], {
        env: { PATH: process.env.PATH, HOME: dir },
        timeoutMs: 30_000,
      });
      expect(verify.code, `${dataDir}: ${verify.stderr}`).toBe(0);
    }
    const store = await openStore({ dataDir: signerData });
    try {
      for (const s of signed) {
        const row = await store.keys.get(s.keyId);
        expect(row).toMatchObject({ gun: GUN, role: s.role, algorithm: 'ecdsa' });
        expect(row?.privateKey.subarray(0, 4).toString()).toBe('SGK1');
      }
      const events = (await store.audit.list({ afterSeq: 0, limit: 10_000 })).map(
        (e) => JSON.parse(e.text) as Record<string, unknown>,
      );
      const signs = events.filter((e) => e.event === 'sign');
      for (const e of signs) expect(e).toMatchObject({ service: 'signer', client: 'signet-server' });
      expect(new Set(signs.map((e) => e.gun))).toEqual(new Set([GUN, GUN2]));
      // every signature the server recorded was made by a Sign the service recorded
      expect(signs.length).toBeGreaterThanOrEqual(signed.length);
      for (const s of signed) expect(signs.some((e) => e.keyId === s.keyId && e.role === s.role)).toBe(true);
      expect(events.filter((e) => e.event === 'create_key').map((e) => e.role)).toEqual(
        expect.arrayContaining(['timestamp', 'snapshot', 'timestamp']),
      );
    } finally {
      await store.close();
    }
    const text = readFileSync(path.join(serverData, 'audit.log'), 'utf8');
    expect(text).not.toMatch(/BEGIN|PRIVATE|keyval|"public"|passphrase/i);
  });
});
