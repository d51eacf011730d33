// Signet's signer service run as users run it (`signet server signer`, the CLI bundled by
// bundle.ts) on a free port, plus helpers the interop tests share: a role's JSON from a trust
// server, and a stored timestamp made expired in notary-server's PostgreSQL database.
import https from 'node:https';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { startOnFreePort } from './notary-peers.js';
import { portOpen } from './ports.js';
import { startProc, type Proc } from './proc.js';

/**
 * `node <cli> server signer` with `<tlsDir>/signer.crt|key` and `<tlsDir>/ca.crt` as client CA,
 * data in `dataDir`, the passphrase (when given) from SIGNET_SIGNER_PASSPHRASE; logs in `<dir>/logs`.
 * `port` = start on that port (a restart after stop()), else a free one; `args`/`env` are added
 * (e.g. the PKCS#11 flags and SOFTHSM2_CONF).
 */
export function startSignetSigner(opts: {
  cli: string;
  dir: string;
  tlsDir: string;
  dataDir: string;
  passphrase?: string;
  port?: number;
  args?: string[];
  env?: NodeJS.ProcessEnv;
}): Promise<{ proc: Proc; port: number }> {
  const start = (port: number, attempt: number): Promise<Proc> =>
    startProc({
      name: attempt === 0 ? 'signet-signer' : `signet-signer.${attempt}`,
      cmd: process.execPath,
      args: [
        opts.cli,
        'server',
        'signer',
        '--listen',
        `127.0.0.1:${port}`,
        '--tls-cert',
        path.join(opts.tlsDir, 'signer.crt'),
        '--tls-key',
        path.join(opts.tlsDir, 'signer.key'),
        '--client-ca',
        path.join(opts.tlsDir, 'ca.crt'),
        '--data-dir',
        opts.dataDir,
        ...(opts.args ?? []),
      ],
      env: {
        PATH: process.env.PATH,
        HOME: opts.dir,
        ...(opts.passphrase !== undefined ? { SIGNET_SIGNER_PASSPHRASE: opts.passphrase } : {}),
        ...opts.env,
      },
      logDir: path.join(opts.dir, 'logs'),
      listenPort: port,
      timeoutMs: 30_000,
      ready: () => portOpen(port),
    });
  const fixed = opts.port;
  if (fixed !== undefined) return start(fixed, 0).then((proc) => ({ proc, port: fixed }));
  return startOnFreePort(start);
}

export interface TufFile {
  signed: Record<string, unknown>;
  signatures: { keyid: string }[];
}

/** GET <server>/v2/<gun>/_trust/tuf/<role>.json, trusting `caFile`. */
export function tufJson(server: string, gun: string, role: string, caFile: string): Promise<TufFile> {
  return new Promise<TufFile>((resolve, reject) => {
    https
      .get(`${server}/v2/${gun}/_trust/tuf/${role}.json`, { ca: readFileSync(caFile), agent: false }, (r) => {
        const chunks: Buffer[] = [];
        r.on('data', (c: Buffer) => chunks.push(c));
        r.on('end', () =>
          r.statusCode === 200
            ? resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as TufFile)
            : reject(new Error(`GET ${role}.json: ${String(r.statusCode)}`)),
        );
      })
      .on('error', reject);
  });
}

/** Key ids the current root lists for `role`. */
export async function rootKeyIds(server: string, gun: string, role: string, caFile: string): Promise<string[]> {
  const root = await tufJson(server, gun, 'root', caFile);
  return (root.signed.roles as Record<string, { keyids: string[] }>)[role]?.keyids ?? [];
}

/**
 * notary-server 0.7 has no timestamp-expiry setting (14 days, N:const.go NotaryTimestampExpiry),
 * so a test makes the stored timestamp expired in its database: on the next GET notary-server signs
 * a new one (N:server/timestamp/timestamp.go GetOrCreateTimestamp), without checking the old one's
 * signatures.
 */
export async function expireStoredTimestamp(serverDb: string, gun: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverDb });
  await client.connect();
  try {
    const { rows } = await client.query<{ id: number; data: Buffer }>(
      "select id, data from tuf_files where gun = $1 and role = 'timestamp' order by version desc limit 1",
      [gun],
    );
    const row = rows[0];
    if (row === undefined) throw new Error(`no timestamp of ${gun} in notary-server's database`);
    const parsed = JSON.parse(row.data.toString('utf8')) as { signed: { expires: string } };
    parsed.signed.expires = '2001-01-01T00:00:00Z';
    await client.query('update tuf_files set data = $1 where id = $2', [Buffer.from(JSON.stringify(parsed)), row.id]);
  } finally {
    await client.end();
  }
}
