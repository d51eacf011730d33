/**
 * The hostile trust server: serves a SimRepo over the Notary v1 GET API on 127.0.0.1 and lets a test
 * replace any response (named swizzles below). Every request is logged so tests can count them.
 */
import http from 'node:http';
import { closeNow, listenLoopback } from '../helpers/http.js';
import type { SimRepo } from './repo.js';

export type Override = (req: http.IncomingMessage, res: http.ServerResponse) => void;

export interface SimServer {
  url: string;
  /** request paths below /_trust/tuf/ (e.g. `timestamp.json`, `snapshot.<hex>.json`), plus `/v2/` pings */
  requests: string[];
  /** answer requests for `file` (exact name below _trust/tuf/, or a predicate) with `fn` */
  override(file: string | ((file: string) => boolean), fn: Override): void;
  clearOverrides(): void;
  close(): Promise<void>;
}

const NOT_FOUND =
  '{"errors":[{"code":"METADATA_NOT_FOUND","message":"You have requested metadata that does not exist.","detail":{}}]}\n';

export async function startSimServer(repo: SimRepo): Promise<SimServer> {
  const requests: string[] = [];
  const overrides: Array<{ match: (f: string) => boolean; fn: Override }> = [];
  const prefix = `/v2/${repo.gun}/_trust/tuf/`;

  const server = http.createServer((req, res) => {
    const url = decodeURIComponent((req.url ?? '/').split('?')[0] ?? '/');
    if (url === '/v2/') {
      requests.push('/v2/');
      res.end('{}');
      return;
    }
    if (!url.startsWith(prefix)) {
      requests.push(url);
      res.writeHead(404, { 'content-type': 'application/json; charset=utf-8' });
      res.end(NOT_FOUND);
      return;
    }
    const file = url.slice(prefix.length);
    requests.push(file);
    const ov = overrides.find((o) => o.match(file));
    if (ov !== undefined) {
      ov.fn(req, res);
      return;
    }
    let body: Buffer | undefined;
    let m: RegExpExecArray | null;
    if ((m = /^(\d+)\.root\.json$/.exec(file)) !== null) body = repo.rootByVersion.get(Number(m[1]));
    else if ((m = /^(.+)\.([0-9a-f]{64})\.json$/.exec(file)) !== null) body = repo.byChecksum.get(`${m[1]}.${m[2]}`);
    else if ((m = /^(.+)\.json$/.exec(file)) !== null) body = repo.current.get(m[1] ?? '');
    if (body === undefined) {
      res.writeHead(404, { 'content-type': 'application/json; charset=utf-8' });
      res.end(NOT_FOUND);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'content-length': String(body.length) });
    res.end(body);
  });
  const host = await listenLoopback(server);
  return {
    url: `http://${host}`,
    requests,
    override(file, fn) {
      overrides.unshift({ match: typeof file === 'string' ? (f) => f === file : file, fn });
    },
    clearOverrides() {
      overrides.length = 0;
    },
    close: () => closeNow(server),
  };
}

// ---- named swizzles (responses) ------------------------------------------------------------

/** Serve these bytes with an honest Content-Length. */
export function serveBytes(bytes: Buffer): Override {
  return (_req, res) => {
    res.writeHead(200, { 'content-length': String(bytes.length) });
    res.end(bytes);
  };
}

/** Claim a huge Content-Length (the client must refuse before reading). */
export function lyingLength(claimed: number, bytes: Buffer = Buffer.from('{}')): Override {
  return (_req, res) => {
    res.writeHead(200, { 'content-length': String(claimed) });
    res.write(bytes);
    // never finish: the client must give up on the header alone
  };
}

/** A body that never ends (chunked, no Content-Length). */
export function endlessBody(chunk = 64 * 1024): Override {
  return (_req, res) => {
    res.writeHead(200);
    const block = Buffer.alloc(chunk, 0x20);
    const pump = (): void => {
      while (!res.destroyed && res.write(block)) {
        /* keep writing until backpressure */
      }
      if (!res.destroyed) res.once('drain', pump);
    };
    res.on('close', () => res.removeAllListeners('drain'));
    pump();
  };
}

/** A status code with notary's error envelope. */
export function status(code: number, body = NOT_FOUND): Override {
  return (_req, res) => {
    res.writeHead(code, { 'content-type': 'application/json; charset=utf-8' });
    res.end(body);
  };
}
