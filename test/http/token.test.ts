// The one token flow: expires_in honoured, concurrent requests share one fetch, a rejected token is renewed.
import { describe, expect, it } from 'vitest';
import { TokenCache } from '../../src/http/index.js';

describe('TokenCache', () => {
  it('shares one in-flight fetch between concurrent callers', async () => {
    const cache = new TokenCache(() => 0);
    let fetches = 0;
    const fetch = async () => {
      fetches++;
      await new Promise((r) => setTimeout(r, 10));
      return { token: `t${fetches}`, expiresAt: 1000 };
    };
    const all = await Promise.all(Array.from({ length: 10 }, () => cache.get('k', fetch)));
    expect(new Set(all)).toEqual(new Set(['t1']));
    expect(fetches).toBe(1);
  });

  it('renews after expiresAt and when the server rejected the cached token', async () => {
    let now = 0;
    const cache = new TokenCache(() => now);
    let n = 0;
    const fetch = async () => ({ token: `t${++n}`, expiresAt: now + 100 });
    expect(await cache.get('k', fetch)).toBe('t1');
    expect(await cache.get('k', fetch)).toBe('t1');
    expect(cache.peek('k')).toBe('t1');
    now = 100;
    expect(cache.peek('k')).toBeUndefined();
    expect(await cache.get('k', fetch)).toBe('t2');
    expect(await cache.get('k', fetch, 't2')).toBe('t3');
  });

  it('does not cache a failed fetch', async () => {
    const cache = new TokenCache(() => 0);
    await expect(cache.get('k', () => Promise.reject(new Error('down')))).rejects.toThrow('down');
    expect(await cache.get('k', async () => ({ token: 'ok', expiresAt: 1 }))).toBe('ok');
  });
});

describe('requestToken', () => {
  it('reads token or access_token and honours expires_in (60 s at least, as distribution)', async () => {
    const { createServer } = await import('node:http');
    const { closeNow, listenLoopback } = await import('../helpers/http.js');
    const { HttpClient, requestToken } = await import('../../src/http/index.js');
    const bodies = [{ token: 'a', expires_in: 3600 }, { access_token: 'b' }, { token: 'c', expires_in: 5 }];
    let i = 0;
    const srv = createServer((_req, res) => res.end(JSON.stringify(bodies[i++])));
    const host = await listenLoopback(srv);
    const http = new HttpClient({
      timeoutMs: 5000,
      userAgent: 't',
      errors: {
        tooLarge: () => new Error('x') as never,
        failed: (_r, _u, _k, c) => c as never,
        tooManyRedirects: () => new Error('x') as never,
      },
    });
    try {
      const req = {
        realm: new URL(`http://${host}/token`),
        service: 's',
        scope: 'repository:a:pull',
        credential: undefined,
      };
      const got = [
        await requestToken(http, req, 0),
        await requestToken(http, req, 0),
        await requestToken(http, req, 0),
      ];
      expect(got).toEqual([
        { ok: true, token: { token: 'a', expiresAt: 3590_000 } },
        { ok: true, token: { token: 'b', expiresAt: 50_000 } },
        { ok: true, token: { token: 'c', expiresAt: 50_000 } },
      ]);
    } finally {
      await http.close();
      await closeNow(srv);
    }
  });
});
