/**
 * RegistryClient against small in-test HTTP servers that misbehave: wrong digests, endless or
 * oversized bodies, non-JSON, 5xx, redirects.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../../src/registry/index.js';
import { expectCode } from '../helpers/errors.js';
import { closeNow, listenLoopback } from '../helpers/http.js';
import { withClient } from './helpers.js';

const MT = 'application/vnd.docker.distribution.manifest.v2+json';
const sha = (b: Buffer | string): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const GOOD = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MT, config: {}, layers: [] }));
const OTHER = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MT, config: { x: 1 }, layers: [] }));

describe('RegistryClient vs a hostile registry', () => {
  let server: Server;
  let host: string;
  const stats = { endlessWritten: 0, endlessClosed: false, flakyHits: 0, brokenHits: 0 };

  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const url = req.url ?? '';
      const send = (body: Buffer, headers: Record<string, string> = {}): void => {
        res.writeHead(200, { 'Content-Type': MT, 'Content-Length': String(body.length), ...headers });
        res.end(body);
      };
      switch (url) {
        case '/v2/evil/manifests/good':
          return send(GOOD, { 'Docker-Content-Digest': sha(GOOD) });
        case '/v2/evil/manifests/mismatch':
          return send(GOOD, { 'Docker-Content-Digest': sha(OTHER) });
        case `/v2/evil/manifests/${sha(GOOD)}`:
          return send(OTHER); // wrong bytes for the digest asked for, no header
        case `/v2/evil/manifests/${sha(OTHER)}`:
          return send(GOOD, { 'Docker-Content-Digest': sha(OTHER) }); // header agrees with request, bytes do not
        case '/v2/evil/manifests/badheader':
          return send(GOOD, { 'Docker-Content-Digest': 'sha256:nothex' });
        case '/v2/evil/manifests/notjson':
          return send(Buffer.from('<html>hello</html>'), { 'Content-Type': 'text/html' });
        case '/v2/evil/manifests/bigcl':
          res.writeHead(200, { 'Content-Type': MT, 'Content-Length': String(100 * 1024 * 1024) });
          res.write(Buffer.alloc(1024, 0x20));
          return; // never finishes
        case '/v2/evil/manifests/endless': {
          res.writeHead(200, { 'Content-Type': MT }); // chunked, no length
          const chunk = Buffer.alloc(64 * 1024, 0x20);
          const pump = (): void => {
            while (!res.destroyed && stats.endlessWritten < 512 * 1024 * 1024) {
              stats.endlessWritten += chunk.length;
              if (!res.write(chunk)) return void res.once('drain', pump);
            }
          };
          res.on('close', () => (stats.endlessClosed = true));
          return pump();
        }
        case '/v2/evil/manifests/exact1000':
          return send(Buffer.concat([Buffer.from('{"a":"'), Buffer.alloc(1000 - 8, 0x61), Buffer.from('"}')]));
        case '/v2/evil/manifests/flaky':
          if (++stats.flakyHits === 1) {
            res.writeHead(503);
            return void res.end('busy');
          }
          return send(GOOD);
        case '/v2/evil/manifests/broken':
          stats.brokenHits++;
          res.writeHead(500, { 'Content-Type': 'application/json' });
          return void res.end(JSON.stringify({ errors: [{ code: 'UNKNOWN', message: 'boom' }] }));
        case '/v2/evil/manifests/moved':
          res.writeHead(307, { Location: '/v2/evil/manifests/good' });
          return void res.end();
        case '/v2/evil/manifests/loop':
          res.writeHead(302, { Location: '/v2/evil/manifests/loop' });
          return void res.end();
        case '/v2/evil/manifests/oci-no-mediatype':
          return send(Buffer.from('{"schemaVersion":2,"config":{},"layers":[]}'), {
            'Content-Type': 'application/vnd.oci.image.manifest.v1+json',
          });
        default:
          res.writeHead(404, { 'Content-Type': 'application/json' });
          return void res.end(JSON.stringify({ errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }] }));
      }
    });
    host = await listenLoopback(server);
  });
  afterAll(async () => {
    await closeNow(server);
  });

  it('accepts an honest response', async () => {
    await withClient({}, async (c) => {
      const m = await c.resolve(`${host}/evil:good`);
      expect(m.digest).toBe(sha(GOOD));
      expect(m.size).toBe(GOOD.length);
      expect(m.mediaType).toBe(MT);
    });
  });

  it('Docker-Content-Digest differing from the body → DIGEST_MISMATCH', async () => {
    await withClient({}, async (c) => {
      const e = await expectCode(c.resolve(`${host}/evil:mismatch`), 'DIGEST_MISMATCH');
      expect(e.message).toContain(sha(GOOD));
      expect(e.message).toContain(sha(OTHER));
    });
  });

  it('digest reference whose bytes hash to something else → DIGEST_MISMATCH', async () => {
    await withClient({}, async (c) => {
      await expectCode(c.resolve(`${host}/evil@${sha(GOOD)}`), 'DIGEST_MISMATCH');
      await expectCode(c.fetchByDigest(`${host}/evil`, sha(GOOD)), 'DIGEST_MISMATCH');
      await expectCode(c.fetchByDigest(`${host}/evil:anything`, sha(OTHER)), 'DIGEST_MISMATCH');
    });
  });

  it.each([
    ['an invalid Docker-Content-Digest header', 'badheader'],
    ['a non-JSON manifest', 'notjson'],
  ])('%s → REGISTRY', async (_what, tag) => {
    await withClient({}, async (c) => {
      await expectCode(c.resolve(`${host}/evil:${tag}`), 'REGISTRY');
    });
  });

  it('a Content-Length over the limit → ENDLESS_DATA without reading it', async () => {
    await withClient({ timeoutMs: 5000 }, async (c) => {
      const t0 = Date.now();
      const e = await expectCode(c.resolve(`${host}/evil:bigcl`), 'ENDLESS_DATA');
      expect(e.message).toMatch(/4194304/);
      expect(Date.now() - t0).toBeLessThan(3000);
    });
  });

  it('an endless chunked body → ENDLESS_DATA, and reading stops', async () => {
    await withClient({ timeoutMs: 5000 }, async (c) => {
      await expectCode(c.resolve(`${host}/evil:endless`), 'ENDLESS_DATA');
      for (let i = 0; i < 50 && !stats.endlessClosed; i++) await new Promise((r) => setTimeout(r, 20));
      expect(stats.endlessClosed).toBe(true);
      expect(stats.endlessWritten).toBeLessThan(32 * 1024 * 1024);
    });
  });

  it('maxManifestBytes is inclusive', async () => {
    const ok = new RegistryClient({ maxManifestBytes: 1000 });
    const tight = new RegistryClient({ maxManifestBytes: 999 });
    try {
      expect((await ok.resolve(`${host}/evil:exact1000`)).size).toBe(1000);
      await expectCode(tight.resolve(`${host}/evil:exact1000`), 'ENDLESS_DATA');
    } finally {
      await ok.close();
      await tight.close();
    }
  });

  it('retries a 503, gives up on a persistent 500 with REGISTRY', async () => {
    await withClient({ retries: 2 }, async (c) => {
      expect((await c.resolve(`${host}/evil:flaky`)).digest).toBe(sha(GOOD));
      expect(stats.flakyHits).toBe(2);
      const e = await expectCode(c.resolve(`${host}/evil:broken`), 'REGISTRY');
      expect(e.message).toMatch(/500.*boom/);
      expect(stats.brokenHits).toBe(3);
    });
  });

  it('follows a redirect; a redirect loop → REGISTRY', async () => {
    await withClient({}, async (c) => {
      expect((await c.resolve(`${host}/evil:moved`)).digest).toBe(sha(GOOD));
      await expectCode(c.resolve(`${host}/evil:loop`), 'REGISTRY');
    });
  });

  it('takes the media type from Content-Type when the manifest has none', async () => {
    await withClient({}, async (c) => {
      expect((await c.resolve(`${host}/evil:oci-no-mediatype`)).mediaType).toBe(
        'application/vnd.oci.image.manifest.v1+json',
      );
    });
  });

  it('unknown tag → NOT_FOUND', async () => {
    await withClient({}, async (c) => {
      const e = await expectCode(c.resolve(`${host}/evil:nope`), 'NOT_FOUND');
      expect(e.message).toBe(`manifest unknown: ${host}/evil:nope is not in ${host}`);
    });
  });
});

describe('RegistryClient input checks', () => {
  it('rejects a hand-built ImageReference that would escape the URL path', async () => {
    await withClient({}, async (c) => {
      const bad = {
        registry: '127.0.0.1:1',
        repository: '../../etc',
        tag: 'x',
        name: '127.0.0.1:1/../../etc',
        familiar: '',
      };
      await expect(c.resolve(bad)).rejects.toMatchObject({ code: 'USAGE' });
      const badTag = { registry: '127.0.0.1:1', repository: 'a', tag: 'x/../y', name: '127.0.0.1:1/a', familiar: '' };
      await expect(c.resolve(badTag)).rejects.toMatchObject({ code: 'USAGE' });
    });
  });

  it('a closed client refuses work', async () => {
    const c = new RegistryClient();
    await c.close();
    await expect(c.resolve('127.0.0.1:1/a:b')).rejects.toMatchObject({ code: 'USAGE' });
  });
});
