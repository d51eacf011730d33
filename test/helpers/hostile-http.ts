/**
 * Hostile HTTP(S) servers on 127.0.0.1 that record everything a credential could ride in: every
 * request's Authorization and Cookie headers, its full URL (query strings) and its body. Tests
 * then assert that a server received no credential, or (for the legitimate flow) that it did.
 */
import { createServer as createHttp, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttps } from 'node:https';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';

export interface Recorded {
  /** `http://127.0.0.1:<port>` of the server that received it */
  origin: string;
  method: string;
  url: string;
  authorization: string | undefined;
  cookie: string | undefined;
  body: string;
}

export interface HostileServer {
  origin: string;
  /** `127.0.0.1:<port>` */
  host: string;
  port: number;
  close(): Promise<void>;
}

export type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

/** Starts a server that logs every request into `log` before `handler` answers it. */
export async function hostileServer(
  log: Recorded[],
  handler: Handler,
  tls?: { cert: string; key: string },
): Promise<HostileServer> {
  let origin = '';
  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      log.push({
        origin,
        method: req.method ?? '',
        url: req.url ?? '',
        authorization: req.headers.authorization,
        cookie: req.headers.cookie,
        body,
      });
      handler(req, res, body);
    });
  };
  const server =
    tls !== undefined
      ? createHttps({ cert: readFileSync(tls.cert), key: readFileSync(tls.key) }, listener)
      : createHttp(listener);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  origin = `${tls !== undefined ? 'https' : 'http'}://127.0.0.1:${port}`;
  return {
    origin,
    host: `127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/**
 * The recorded requests that carry any credential: an Authorization or Cookie header, or one of
 * `secrets` (raw, URL-encoded, or inside base64 `user:password`) in the URL or the body.
 */
export function credentialsIn(log: readonly Recorded[], secrets: readonly string[]): Recorded[] {
  return log.filter((r) => {
    if (r.authorization !== undefined || r.cookie !== undefined) return true;
    const hay = `${r.url}\n${r.body}`;
    let decoded = hay;
    try {
      decoded = decodeURIComponent(hay.replace(/\+/g, ' '));
    } catch {
      /* keep the raw text */
    }
    return secrets.some(
      (s) => hay.includes(s) || decoded.includes(s) || hay.includes(Buffer.from(s).toString('base64')),
    );
  });
}
