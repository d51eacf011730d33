/**
 * The webhook's HTTPS server: POST /validate and /mutate (the API server appends `?timeout=…`),
 * the same under /report/ for namespaces still in report mode,
 * GET /healthz (the process answers) and /readyz (the enforcer is up and listening). Bodies are
 * read up to a limit; every failure is a JSON error, never a crash.
 */
import { readFile } from 'node:fs/promises';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignetError } from '../errors.js';
import {
  AdmissionHandler,
  type AdmissionEndpoint,
  type AdmissionHandlerOptions,
  type HandlerResult,
} from './handler.js';

/**
 * The API server limits a request object to 3 MiB (k8s.io/apiserver MaxRequestBodyBytes); a review
 * carries `object` and `oldObject`, so twice that plus the envelope is plenty.
 */
export const DEFAULT_MAX_BODY_BYTES = 7 * 1024 * 1024;

export interface AdmissionServerOptions extends AdmissionHandlerOptions {
  host: string;
  port: number;
  /** PEM files, re-read when they change (cert-manager renews them in place). */
  tlsCertFile: string;
  tlsKeyFile: string;
  maxBodyBytes?: number;
  /** One line per decision and per error (no request bodies). */
  log?: (line: string) => void;
  /** How often the certificate files are checked for renewal (default 60 s; 0 = never). */
  tlsReloadMs?: number;
}

export interface AdmissionServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** /report/… answer as --report-only does, so namespaces can move to enforcement one at a time (docs/admission.md). */
const ROUTES: Readonly<Record<string, { endpoint: AdmissionEndpoint; reportOnly: boolean }>> = {
  '/validate': { endpoint: 'validate', reportOnly: false },
  '/mutate': { endpoint: 'mutate', reportOnly: false },
  '/report/validate': { endpoint: 'validate', reportOnly: true },
  '/report/mutate': { endpoint: 'mutate', reportOnly: true },
};

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const bytes = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': bytes.length });
  res.end(bytes);
}

const jsonError = (res: ServerResponse, status: number, code: string, message: string): void =>
  sendJson(res, status, { error: { code, message } });

/** A refused body is read and dropped up to this much, and for this long, before the 413 is sent. */
const DRAIN_BYTES = 64 * 1024 * 1024;
const DRAIN_MS = 5_000;

/** The body, or undefined after answering 413 when it passes `max`. */
function readBody(req: IncomingMessage, res: ServerResponse, max: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? NaN);
    const tooLarge = (): void => {
      // Read and drop the rest of the refused body, then answer: a client answered (and then closed on)
      // while still writing sees a connection reset instead of the 413. A body past the cap, or one that
      // is still arriving after DRAIN_MS, is answered at once and the connection closed after the reply.
      let dropped = 0;
      let answered = false;
      const answer = (close: boolean): void => {
        if (answered) return;
        answered = true;
        clearTimeout(timer);
        if (close) res.setHeader('Connection', 'close');
        jsonError(res, 413, 'BODY_TOO_LARGE', `the AdmissionReview is larger than ${max} bytes`);
        if (close) res.once('finish', () => req.destroy());
        resolve(undefined);
      };
      const timer = setTimeout(() => answer(true), DRAIN_MS);
      timer.unref();
      req.removeAllListeners('data');
      req.removeAllListeners('end');
      req.on('data', (c: Buffer) => {
        dropped += c.length;
        if (dropped > DRAIN_BYTES) answer(true);
      });
      req.once('end', () => answer(false));
      req.once('error', () => answer(true));
      req.resume();
    };
    if (declared > max) return tooLarge();
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) {
        tooLarge();
        return;
      }
      chunks.push(c);
    });
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
  });
}

function describe(result: HandlerResult, endpoint: string): string {
  const r = result.request;
  if (r === undefined) return `${endpoint} ${result.status}`;
  const what = `${r.kind.kind} ${r.namespace ?? '-'}/${r.name ?? '-'} ${r.operation} uid=${r.uid}`;
  const d = result.decision;
  if (d === undefined) return `${endpoint} ${what}: allowed (nothing to check)`;
  const refused = d.refused.map((x) => `${x.image} ${x.code}`).join(', ');
  const verdict = d.allowed ? 'allowed' : 'denied';
  return `${endpoint} ${what}: ${verdict}${refused ? ` refused=[${refused}]` : ''}${d.patch.length > 0 ? ` pinned=${d.patch.length / 2}` : ''}`;
}

async function readTls(certFile: string, keyFile: string): Promise<{ cert: Buffer; key: Buffer }> {
  try {
    const [cert, key] = await Promise.all([readFile(certFile), readFile(keyFile)]);
    return { cert, key };
  } catch (e) {
    throw new SignetError('USAGE', `cannot read the webhook's TLS certificate or key: ${(e as Error).message}`, {
      fix: 'check --tls-cert and --tls-key (docs/admission.md shows how to make them)',
      cause: e,
    });
  }
}

export async function startAdmissionServer(opts: AdmissionServerOptions): Promise<AdmissionServer> {
  const handler = new AdmissionHandler(opts);
  const max = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const log = opts.log ?? (() => undefined);
  let tls = await readTls(opts.tlsCertFile, opts.tlsKeyFile);
  let ready = false;

  const onRequest = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (path === '/healthz' || path === '/readyz') {
      if (req.method !== 'GET' && req.method !== 'HEAD') return jsonError(res, 405, 'METHOD_NOT_ALLOWED', 'use GET');
      if (path === '/readyz' && !ready) return jsonError(res, 503, 'NOT_READY', 'the webhook is starting');
      return sendJson(res, 200, { status: 'ok' });
    }
    const route = ROUTES[path];
    if (route === undefined)
      return jsonError(
        res,
        404,
        'NOT_FOUND',
        `no route ${path}: use POST /validate, /mutate, /report/validate or /report/mutate`,
      );
    if (req.method !== 'POST') return jsonError(res, 405, 'METHOD_NOT_ALLOWED', `use POST ${path}`);
    const type = req.headers['content-type'];
    if (type !== undefined && !/^application\/json\b/i.test(type)) {
      return jsonError(res, 415, 'UNSUPPORTED_MEDIA_TYPE', `Content-Type must be application/json, got ${type}`);
    }
    const body = await readBody(req, res, max);
    if (body === undefined) return;
    const result = await handler.handle(route.endpoint, body, route.reportOnly);
    log(describe(result, path));
    sendJson(res, result.status, result.body);
  };

  const server = https.createServer({ cert: tls.cert, key: tls.key, minVersion: 'TLSv1.2' }, (req, res) => {
    onRequest(req, res).catch((e: unknown) => {
      log(`${req.method ?? '?'} ${req.url ?? '?'}: ${(e as Error).message}`);
      if (!res.headersSent) jsonError(res, 500, 'INTERNAL', 'internal error');
      else res.destroy();
    });
  });
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;
  server.on('clientError', (_e, socket) => socket.destroy());

  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(
        new SignetError('USAGE', `cannot listen on ${opts.host}:${opts.port}: ${e.message}`, {
          fix: 'choose another --listen HOST:PORT',
          cause: e,
        }),
      ),
    );
    server.listen(opts.port, opts.host, resolve);
  });
  ready = true;

  const reloadMs = opts.tlsReloadMs ?? 60_000;
  const reload =
    reloadMs > 0
      ? setInterval(() => {
          readTls(opts.tlsCertFile, opts.tlsKeyFile)
            .then((next) => {
              if (next.cert.equals(tls.cert) && next.key.equals(tls.key)) return;
              server.setSecureContext({ cert: next.cert, key: next.key });
              tls = next;
              log('reloaded the TLS certificate');
            })
            .catch((e: unknown) =>
              log(`TLS reload failed (serving the previous certificate): ${(e as Error).message}`),
            );
        }, reloadMs)
      : undefined;
  reload?.unref();

  const port = (server.address() as AddressInfo).port;
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  return {
    url: `https://${host}:${port}`,
    port,
    close: async () => {
      ready = false;
      if (reload !== undefined) clearInterval(reload);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
