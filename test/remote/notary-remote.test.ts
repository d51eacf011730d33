import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { NotaryRemote, buildMultipart } from '../../src/remote/index.js';
import { isSignetError } from '../../src/errors.js';
import { codeOf } from '../helpers/errors.js';
import { closeNow, listenLoopback } from '../helpers/http.js';

type Handler = (req: http.IncomingMessage, body: Buffer, res: http.ServerResponse) => void;

interface Fake {
  url: string;
  requests: Array<{ method: string; url: string; headers: http.IncomingHttpHeaders; body: Buffer }>;
  close(): Promise<void>;
}

const opened: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  while (opened.length > 0) await opened.pop()?.close();
});

async function fakeServer(handler: Handler): Promise<Fake> {
  const requests: Fake['requests'] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      handler(req, body, res);
    });
  });
  const host = await listenLoopback(server);
  const fake = {
    url: `http://${host}`,
    requests,
    close: () => closeNow(server),
  };
  opened.push(fake);
  return fake;
}

function remote(url: string, extra: Partial<ConstructorParameters<typeof NotaryRemote>[0]> = {}): NotaryRemote {
  const r = new NotaryRemote({ serverUrl: url, retryDelayMs: () => 0, timeoutMs: 5000, ...extra });
  opened.push(r);
  return r;
}

const GUN = '127.0.0.1:5000/library/app';

describe('NotaryRemote.getRole', () => {
  it('builds current, by-checksum and by-version URLs by concatenation and strips a trailing slash', async () => {
    const srv = await fakeServer((_req, _b, res) => res.end('{}'));
    const r = remote(srv.url + '//');
    await r.getRole(GUN, 'root', { maxBytes: 100 });
    await r.getRole(GUN, 'targets/releases', { maxBytes: 100, checksum: 'ab'.repeat(32) });
    await r.getRole(GUN, 'root', { maxBytes: 100, version: 3 });
    expect(srv.requests.map((q) => q.url)).toEqual([
      `/v2/${GUN}/_trust/tuf/root.json`,
      `/v2/${GUN}/_trust/tuf/targets/releases.${'ab'.repeat(32)}.json`,
      `/v2/${GUN}/_trust/tuf/3.root.json`,
    ]);
  });

  it('returns the exact body bytes', async () => {
    const bytes = Buffer.from('{"signed":{"a":"\\u003c"},"signatures":[]}');
    const srv = await fakeServer((_req, _b, res) => res.end(bytes));
    expect((await remote(srv.url).getRole(GUN, 'timestamp', { maxBytes: 1000 })).equals(bytes)).toBe(true);
  });

  it('refuses a Content-Length larger than the cap (ENDLESS_DATA)', async () => {
    const srv = await fakeServer((_req, _b, res) => {
      res.writeHead(200, { 'content-length': '5000' });
      res.end('x'.repeat(5000));
    });
    expect(await codeOf(remote(srv.url).getRole(GUN, 'snapshot', { maxBytes: 100 }))).toBe('ENDLESS_DATA');
  });

  it('stops reading a never-ending chunked body past the cap (ENDLESS_DATA)', async () => {
    const srv = await fakeServer((_req, _b, res) => {
      res.writeHead(200);
      const timer = setInterval(() => {
        if (res.destroyed || res.writableEnded) return clearInterval(timer);
        res.write('y'.repeat(4096));
      }, 1);
      res.on('close', () => clearInterval(timer));
    });
    expect(await codeOf(remote(srv.url).getRole(GUN, 'timestamp', { maxBytes: 1024 * 1024 }))).toBe('ENDLESS_DATA');
  });

  it('maps 404 to NOT_FOUND', async () => {
    const srv = await fakeServer((_req, _b, res) => {
      res.writeHead(404, { 'content-type': 'application/json; charset=utf-8' });
      res.end(
        '{"errors":[{"code":"METADATA_NOT_FOUND","message":"You have requested metadata that does not exist.","detail":{}}]}\n',
      );
    });
    expect(await codeOf(remote(srv.url).getRole(GUN, 'root', { maxBytes: 100 }))).toBe('NOT_FOUND');
  });

  it('retries GETs on 5xx and then succeeds', async () => {
    let n = 0;
    const srv = await fakeServer((_req, _b, res) => {
      n++;
      if (n < 3) {
        res.writeHead(503);
        res.end('busy');
      } else res.end('ok');
    });
    expect((await remote(srv.url, { retries: 2 }).getRole(GUN, 'timestamp', { maxBytes: 10 })).toString()).toBe('ok');
    expect(srv.requests).toHaveLength(3);
  });

  it('gives up after the configured retries with HTTP', async () => {
    const srv = await fakeServer((_req, _b, res) => {
      res.writeHead(500);
      res.end();
    });
    expect(await codeOf(remote(srv.url, { retries: 1 }).getRole(GUN, 'timestamp', { maxBytes: 10 }))).toBe('HTTP');
    expect(srv.requests).toHaveLength(2);
  });

  it('maps a refused connection to NETWORK', async () => {
    const srv = await fakeServer((_req, _b, res) => res.end());
    const url = srv.url;
    await srv.close();
    opened.pop();
    expect(await codeOf(remote(url, { retries: 0 }).getRole(GUN, 'root', { maxBytes: 10 }))).toBe('NETWORK');
  });

  it('times out a server that never answers (TIMEOUT)', async () => {
    const srv = await fakeServer(() => undefined);
    expect(await codeOf(remote(srv.url, { retries: 0, timeoutMs: 200 }).getRole(GUN, 'root', { maxBytes: 10 }))).toBe(
      'TIMEOUT',
    );
  });
});

describe('NotaryRemote.publish', () => {
  it('sends one multipart POST with Go CreateFormFile parts', async () => {
    const srv = await fakeServer((_req, _b, res) => res.end());
    await remote(srv.url).publish(GUN, [
      { role: 'targets/releases', bytes: Buffer.from('{"a":1}') },
      { role: 'snapshot', bytes: Buffer.from('{"b":2}') },
    ]);
    const q = srv.requests[0];
    expect(q?.method).toBe('POST');
    expect(q?.url).toBe(`/v2/${GUN}/_trust/tuf/`);
    const boundary = /boundary=([0-9a-f]{60})$/.exec(String(q?.headers['content-type']))?.[1];
    expect(boundary).toBeDefined();
    expect(q?.body.toString()).toBe(
      `--${boundary}\r\nContent-Disposition: form-data; name="files"; filename="targets/releases"\r\nContent-Type: application/octet-stream\r\n\r\n{"a":1}` +
        `\r\n--${boundary}\r\nContent-Disposition: form-data; name="files"; filename="snapshot"\r\nContent-Type: application/octet-stream\r\n\r\n{"b":2}` +
        `\r\n--${boundary}--\r\n`,
    );
  });

  it("turns a typed INVALID_UPDATE into SERVER_REJECTED with notary's message, without retrying", async () => {
    const srv = await fakeServer((_req, _b, res) => {
      res.writeHead(400, { 'content-type': 'application/json; charset=utf-8' });
      res.end(
        '{"errors":[{"code":"INVALID_UPDATE","message":"Update sent by the client is invalid.","detail":{"Name":"ErrBadTargets","Error":{"Msg":"valid signatures did not meet threshold for targets"}}}]}\n',
      );
    });
    try {
      await remote(srv.url).publish(GUN, [{ role: 'targets', bytes: Buffer.from('{}') }]);
      expect.unreachable();
    } catch (e) {
      expect(isSignetError(e, 'SERVER_REJECTED')).toBe(true);
      const err = e as { message: string; details: Record<string, unknown> };
      expect(err.message).toContain(
        'The targets metadata is invalid: valid signatures did not meet threshold for targets',
      );
      expect(err.details.status).toBe(400);
      expect(err.details.code).toBe('INVALID_UPDATE');
    }
    expect(srv.requests).toHaveLength(1);
  });

  it('maps a 500 on publish to SERVER_REJECTED (no retry of writes)', async () => {
    const srv = await fakeServer((_req, _b, res) => {
      res.writeHead(500);
      res.end('{"errors":[{"code":"UPDATING","message":"An error has occurred while updating the TUF repository."}]}');
    });
    expect(await codeOf(remote(srv.url).publish(GUN, []))).toBe('SERVER_REJECTED');
    expect(srv.requests).toHaveLength(1);
  });
});

describe('NotaryRemote keys', () => {
  it('parses the Go-ordered key JSON of GET timestamp.key into a TUF public key', async () => {
    const body =
      '{"keytype":"ecdsa","keyval":{"public":"MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAENgK7kx/HdvmLUG4733JIJd0Bv6FML8SVEmgGynvhl64nCVmWzTLdziS1bMUgb6hlSkqTYtvyOCC5YMY+GrAH+Q==","private":null}}';
    const srv = await fakeServer((_req, _b, res) => res.end(body));
    const key = await remote(srv.url).getServerKey(GUN, 'timestamp');
    expect(key.id).toBe('041b64dab281324ef2b62fd2d04f4758269e120ff063b7bc78709272821a0a02');
    expect(srv.requests[0]?.url).toBe(`/v2/${GUN}/_trust/tuf/timestamp.key`);
    const rotated = await remote(srv.url).rotateServerKey(GUN, 'snapshot');
    expect(rotated.keytype).toBe('ecdsa');
    expect(srv.requests[1]?.method).toBe('POST');
    expect(srv.requests[1]?.url).toBe(`/v2/${GUN}/_trust/tuf/snapshot.key`);
  });

  it('refuses a key body over 256 KiB (ENDLESS_DATA)', async () => {
    const srv = await fakeServer((_req, _b, res) => res.end('x'.repeat(300 * 1024)));
    expect(await codeOf(remote(srv.url).getServerKey(GUN, 'timestamp'))).toBe('ENDLESS_DATA');
  });

  it('deletes with DELETE on the GUN path', async () => {
    const srv = await fakeServer((_req, _b, res) => res.end());
    await remote(srv.url).deleteRepository(GUN);
    expect(srv.requests[0]).toMatchObject({ method: 'DELETE', url: `/v2/${GUN}/_trust/tuf/` });
  });
});

describe('NotaryRemote auth', () => {
  it('fetches a bearer token for the GUN scope on a 401 challenge and retries once', async () => {
    const srv = await fakeServer((req, _b, res) => {
      const u = new URL(req.url ?? '/', 'http://x');
      if (u.pathname === '/token') {
        expect(req.headers.authorization).toBe('Basic ' + Buffer.from('alice:pw').toString('base64'));
        res.end(JSON.stringify({ token: `tok-${u.searchParams.get('scope')}` }));
        return;
      }
      if (req.headers.authorization?.startsWith('Bearer tok-') === true) {
        res.end('{}');
        return;
      }
      res.writeHead(401, {
        'www-authenticate': `Bearer realm="${srvUrl}/token",service="notary",scope="repository:${GUN}:pull"`,
      });
      res.end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}\n');
    });
    const srvUrl = srv.url;
    const r = remote(srv.url, { auth: { username: 'alice', password: 'pw' } });
    await r.getRole(GUN, 'root', { maxBytes: 100 });
    const tokenReq = srv.requests.find((q) => q.url.startsWith('/token'));
    expect(new URL(tokenReq?.url ?? '', 'http://x').searchParams.get('scope')).toBe(`repository:${GUN}:pull`);
    expect(srv.requests.at(-1)?.headers.authorization).toBe(`Bearer tok-repository:${GUN}:pull`);
    // the token is reused for the next pull
    const before = srv.requests.length;
    await r.getRole(GUN, 'timestamp', { maxBytes: 100 });
    expect(srv.requests.length).toBe(before + 1);
    // a write asks for pull,push
    await r.publish(GUN, []);
    expect(srv.requests.some((q) => q.url.includes(encodeURIComponent(`repository:${GUN}:pull,push`)))).toBe(true);
  });

  it('answers a 401 without credentials with UNAUTHORIZED', async () => {
    const srv = await fakeServer((_req, _b, res) => {
      res.writeHead(401, { 'www-authenticate': 'Bearer realm="http://127.0.0.1:1/token",service="notary"' });
      res.end();
    });
    expect(await codeOf(remote(srv.url).getRole(GUN, 'root', { maxBytes: 100 }))).toBe('UNAUTHORIZED');
  });

  it('sends a fixed bearer token and reports UNAUTHORIZED when it is refused', async () => {
    const srv = await fakeServer((_req, _b, res) => {
      res.writeHead(401, { 'www-authenticate': 'Bearer realm="http://127.0.0.1:1/token"' });
      res.end();
    });
    expect(await codeOf(remote(srv.url, { auth: { token: 'abc' } }).getRole(GUN, 'root', { maxBytes: 100 }))).toBe(
      'UNAUTHORIZED',
    );
    expect(srv.requests[0]?.headers.authorization).toBe('Bearer abc');
  });

  it('ping accepts 200 and 401', async () => {
    const srv = await fakeServer((req, _b, res) => {
      res.writeHead(req.headers['x-n'] === undefined ? 401 : 200);
      res.end('{}');
    });
    await remote(srv.url).ping();
    expect(srv.requests[0]?.url).toBe('/v2/');
  });
});

describe('helpers', () => {
  it('escapes quotes in multipart filenames like Go', () => {
    const mp = buildMultipart([{ role: 'a"b\\c', bytes: Buffer.from('x') }], 'B');
    expect(Buffer.concat(mp.body).toString()).toContain('filename="a\\"b\\\\c"');
  });
});
