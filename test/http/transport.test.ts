/**
 * The HTTP floor under the trust-server and registry clients (src/http/transport.ts), against a
 * plain Node server on 127.0.0.1: the deadline covers the body too, repeated headers reach the
 * clients as lists, one connection serves a command's requests, and a closed client holds nothing
 * open.
 */
import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { SignetError } from '../../src/errors.js';
import { HttpClient, type HttpErrors } from '../../src/http/index.js';
import { closeNow, listenLoopback } from '../helpers/http.js';

const errors: HttpErrors = {
  tooLarge: (_r, url, reason) => new SignetError('ENDLESS_DATA', `${url}: ${reason}`),
  failed: (_r, url, kind) => new SignetError(kind === 'timeout' ? 'TIMEOUT' : 'NETWORK', `${url}: ${kind}`),
  tooManyRedirects: (_r, url) => new SignetError('NETWORK', `${url}: redirects`),
};

const servers: http.Server[] = [];
const clients: HttpClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  for (const s of servers.splice(0)) await closeNow(s);
});

async function serve(handler: http.RequestListener): Promise<{ url: string; server: http.Server }> {
  const server = http.createServer(handler);
  servers.push(server);
  const host = await listenLoopback(server);
  return { url: `http://${host}`, server };
}

function client(timeoutMs = 5000): HttpClient {
  const c = new HttpClient({ timeoutMs, userAgent: 'signet-test', errors });
  clients.push(c);
  return c;
}

const get = (url: string) => ({ method: 'GET' as const, url, maxBytes: 1024, otherBytes: 1024, what: 'test' });

describe('HttpClient', () => {
  it('times out a body that stops arriving after the headers (the deadline covers the whole exchange)', async () => {
    const { url } = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('part of it');
    });
    const started = Date.now();
    await expect(client(300).exchange(get(`${url}/stall`))).rejects.toMatchObject({ code: 'TIMEOUT' });
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('gives a repeated header as its list of values, a single one as a string', async () => {
    const { url } = await serve((_req, res) => {
      res.setHeader('www-authenticate', ['Bearer realm="https://a.example/token"', 'Basic realm="r"']);
      res.setHeader('docker-content-digest', 'sha256:00');
      res.writeHead(401).end('{}');
    });
    const res = await client().exchange(get(`${url}/v2/`));
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toEqual(['Bearer realm="https://a.example/token"', 'Basic realm="r"']);
    expect(res.headers['docker-content-digest']).toBe('sha256:00');
  });

  it("sends a command's requests over one kept-alive connection; close() ends it", async () => {
    const ports = new Set<number>();
    const { url, server } = await serve((req, res) => {
      ports.add(req.socket.remotePort!);
      res.end('ok');
    });
    const c = client();
    for (let i = 0; i < 4; i++) expect((await c.exchange(get(`${url}/${i}`))).body.toString()).toBe('ok');
    expect(ports.size).toBe(1);
    await c.close();
    // the server sees the connection go away
    await expect.poll(() => new Promise((r) => server.getConnections((_e, n) => r(n))), { timeout: 2000 }).toBe(0);
  });

  it('sends a body, or a body in pieces, with its Content-Length', async () => {
    let seen: { length?: string; body: string } | undefined;
    const { url } = await serve((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (b: Buffer) => chunks.push(b));
      req.on('end', () => {
        seen = { length: req.headers['content-length'], body: Buffer.concat(chunks).toString() };
        res.end();
      });
    });
    await client().exchange({ ...get(`${url}/post`), method: 'POST', body: 'héllo' });
    expect(seen).toEqual({ length: '6', body: 'héllo' });
    const pieces = [Buffer.from('--b\r\n'), Buffer.alloc(300_000, 'x'), Buffer.from('\r\n--b--')];
    await client().exchange({ ...get(`${url}/post`), method: 'POST', body: pieces });
    expect(seen).toEqual({ length: String(300_012), body: `--b\r\n${'x'.repeat(300_000)}\r\n--b--` });
  });
});
