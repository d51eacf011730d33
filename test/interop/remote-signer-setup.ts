/** Shared by the remote signer interop tests: Signet's server signing through a notary-signer, HTTPS calls, notary CLI steps. */
import https from 'node:https';
import pino from 'pino';
import { startServer, type RunningServer, type ServerOptions } from '../../src/server/index.js';
import type { NotaryCli } from '../harness/notary-cli.js';
import type { NotarySigner } from '../harness/notary-signer.js';

/** Signet's server on 127.0.0.1 (HTTPS, own CA) whose only signer is `ns` (notary-signer or Signet's signer service); no passphrase is given. */
export function startRemoteSigned(
  ns: Pick<NotarySigner, 'address' | 'caFile' | 'clientCert' | 'clientKey'>,
  dataDir: string,
  options: Partial<ServerOptions> = {},
): Promise<RunningServer> {
  return startServer({
    listen: '127.0.0.1:0',
    dataDir,
    tls: { mode: 'auto' },
    logger: pino({ level: process.env.SIGNET_TEST_LOG ?? 'silent' }),
    handleSignals: false,
    remoteSigner: {
      address: ns.address,
      caFile: ns.caFile,
      certFile: ns.clientCert,
      keyFile: ns.clientKey,
      timeoutMs: 5_000,
    },
    options,
  });
}

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One HTTPS request trusting `ca` (the server's own CA). */
export function request(url: string, method: string, ca: Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method, ca, agent: false, timeout: 20_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }),
      );
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${url}: timeout`)));
    req.on('error', reject);
    req.end();
  });
}

export async function ok(n: NotaryCli, args: string[]): Promise<string> {
  const r = await n.run(args);
  if (r.code !== 0) throw new Error(`notary ${args.join(' ')} → ${r.code}\n${r.stdout}\n${r.stderr}`);
  return r.stdout + r.stderr;
}

/** `notary list` rows as {name → role}. */
export async function list(n: NotaryCli, gun: string): Promise<Record<string, string>> {
  const out = await ok(n, ['list', gun]);
  const rows: Record<string, string> = {};
  for (const line of out.split('\n')) {
    const cols = line.trim().split(/\s+/);
    if (cols.length === 4 && /^[0-9a-f]{64}$/.test(cols[1] ?? '')) rows[cols[0] as string] = cols[3] as string;
  }
  return rows;
}

/** The audit trail's entries, oldest first, as objects. */
export async function auditEntries(s: RunningServer): Promise<Record<string, unknown>[]> {
  const entries = await s.store.audit.list({ afterSeq: 0, limit: 10_000 });
  return entries.map((e) => JSON.parse(e.text) as Record<string, unknown>);
}
