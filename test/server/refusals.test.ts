/** Bad updates are refused with 4xx and notary's envelope; nothing a client sends yields a 5xx. */
import crypto from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signMetadata } from '../../src/tuf/index.js';
import { matchRoute } from '../../src/server/index.js';
import { TestRepo, ecdsaKey, errorOf, multipart, rootKey, testServer, type TestServer } from './helpers.js';

let srv: TestServer;
beforeAll(async () => {
  srv = await testServer({ options: { bodyLimit: 256 * 1024, roleSizeLimit: 64 * 1024 } });
});
afterAll(async () => {
  await srv.close();
});

let n = 0;
const fresh = (): string => `example.com/refuse/r${++n}`;

function expectEnvelope(
  r: { statusCode: number; headers: Record<string, unknown>; body: string },
  status: number,
  code: string,
): void {
  expect(r.statusCode, r.body).toBe(status);
  expect(r.headers['content-type']).toBe('application/json; charset=utf-8');
  expect(r.body.endsWith('\n')).toBe(true);
  expect(Buffer.byteLength(r.body)).toBeLessThan(1024);
  expect(errorOf(r.body).code).toBe(code);
}

describe('refused updates', () => {
  it('refuses targets with a wrong signature (ErrBadTargets, notary text)', async () => {
    const repo = await new TestRepo(srv, fresh()).init();
    expect((await repo.publish()).statusCode).toBe(200);
    repo.addTarget('evil', 'x');
    await repo.signDirty(new Map([['targets', [ecdsaKey().signer]]]));
    const parts: [string, Buffer][] = [['targets', repo.files.get('targets') as Buffer]];
    const r = await repo.post(parts);
    expect(r.body).toBe(
      '{"errors":[{"code":"INVALID_UPDATE","message":"Update sent by the client is invalid.","detail":{"Name":"ErrBadTargets","Error":{"Msg":"valid signatures did not meet threshold for targets"}}}]}\n',
    );
    expect(r.statusCode).toBe(400);
  });

  it('refuses a root whose certificate is for another GUN (ErrBadRoot, notary text)', async () => {
    const repo = await new TestRepo(srv, fresh()).init({ rootCn: 'example.com/someone/else' });
    const r = await repo.publish();
    expect(r.statusCode).toBe(400);
    expect(r.body).toBe(
      '{"errors":[{"code":"INVALID_UPDATE","message":"Update sent by the client is invalid.","detail":{"Name":"ErrBadRoot","Error":{"Msg":"could not validate the path to a trusted root: unable to retrieve valid leaf certificates"}}}]}\n',
    );
  });

  it('refuses a targets version going backwards (VERSION)', async () => {
    const repo = await new TestRepo(srv, fresh()).init({ serverSnapshot: true });
    repo.addTarget('a', '1');
    expect((await repo.publish()).statusCode).toBe(200); // targets v1
    repo.addTarget('b', '2');
    expect((await repo.publish()).statusCode).toBe(200); // targets v2
    repo.targets.version = 0; // next signature makes v1 again
    repo.addTarget('c', '3');
    const r = await repo.publish();
    expectEnvelope(r, 400, 'VERSION');
  });

  it('refuses a root version that skips ahead (ErrBadRoot)', async () => {
    const repo = await new TestRepo(srv, fresh()).init();
    expect((await repo.publish()).statusCode).toBe(200);
    repo.rootVersion += 5;
    await repo.signRoot();
    const r = await repo.publish();
    expectEnvelope(r, 400, 'INVALID_UPDATE');
    expect(errorOf(r.body).detail).toEqual({
      Name: 'ErrBadRoot',
      Error: { Msg: 'Root modifications must increment the version. Current 1, new 7' },
    });
  });

  it('refuses a delegation target outside the delegation paths (ErrBadTargets; stricter than notary)', async () => {
    const repo = await new TestRepo(srv, fresh()).init({ serverSnapshot: true });
    repo.addDelegation('targets/releases', [ecdsaKey()], ['prod/']);
    repo.addTarget('prod/app', 'ok', 'targets/releases');
    expect((await repo.publish()).statusCode).toBe(200);
    repo.addTarget('dev/app', 'nope', 'targets/releases');
    const r = await repo.publish();
    expectEnvelope(r, 400, 'INVALID_UPDATE');
    expect(errorOf(r.body).detail).toMatchObject({ Name: 'ErrBadTargets' });
  });

  it('refuses a nested delegation whose targets escape the parent paths', async () => {
    const repo = await new TestRepo(srv, fresh()).init({ serverSnapshot: true });
    repo.addDelegation('targets/a', [ecdsaKey()], ['team/']);
    repo.addDelegation('targets/a/b', [ecdsaKey()], [''], 'targets/a');
    repo.addTarget('other/x', 'x', 'targets/a/b');
    const r = await repo.publish();
    expectEnvelope(r, 400, 'INVALID_UPDATE');
  });

  it('refuses a delegation signed by a key its parent does not list', async () => {
    const repo = await new TestRepo(srv, fresh()).init({ serverSnapshot: true });
    repo.addDelegation('targets/releases', [ecdsaKey()]);
    expect((await repo.publish()).statusCode).toBe(200);
    repo.addTarget('x', 'x', 'targets/releases');
    await repo.signDirty(new Map([['targets/releases', [ecdsaKey().signer]]]));
    const r = await repo.post([['targets/releases', repo.files.get('targets/releases') as Buffer]]);
    expectEnvelope(r, 400, 'INVALID_UPDATE');
    expect(errorOf(r.body).detail).toMatchObject({
      Name: 'ErrBadTargets',
      Error: { Msg: 'valid signatures did not meet threshold for targets/releases' },
    });
  });

  it('refuses a client snapshot that does not match the uploaded targets (ErrBadSnapshot)', async () => {
    const repo = await new TestRepo(srv, fresh()).init();
    const parts = await repo.parts();
    const sn = parts.find(([r]) => r === 'snapshot') as [string, Buffer];
    repo.addTarget('late', 'x');
    await repo.signDirty();
    const r = await repo.post([
      ['root', repo.files.get('root') as Buffer],
      ['targets', repo.files.get('targets') as Buffer],
      sn,
    ]);
    expectEnvelope(r, 400, 'INVALID_UPDATE');
    expect(errorOf(r.body).detail).toMatchObject({ Name: 'ErrBadSnapshot' });
  });

  it('refuses a publish without snapshot when the server does not hold the snapshot key (ErrBadHierarchy)', async () => {
    const repo = await new TestRepo(srv, fresh()).init();
    const parts = (await repo.parts()).filter(([r]) => r !== 'snapshot');
    const r = await repo.post(parts);
    expectEnvelope(r, 400, 'INVALID_UPDATE');
    expect(errorOf(r.body).detail).toEqual({
      Name: 'ErrBadHierarchy',
      Error: {
        Missing: 'snapshot',
        Msg: 'no snapshot was included in update and server does not hold current snapshot key for repository',
      },
    });
  });

  it('refuses a root whose timestamp key the server does not hold (ErrBadRoot "no  timestamp keys")', async () => {
    const repo = new TestRepo(srv, fresh());
    repo.rootKeys = [await rootKey(repo.gun)];
    repo.timestampPub = ecdsaKey().pub;
    await repo.signRoot();
    repo.dirty.add('targets');
    const r = await repo.publish();
    expect(errorOf(r.body).detail).toEqual({
      Name: 'ErrBadRoot',
      Error: { Msg: 'no  timestamp keys exist on the server' },
    });
  });

  it('refuses malformed JSON (MALFORMED_JSON, notary body)', async () => {
    const repo = await new TestRepo(srv, fresh()).init();
    const r = await repo.post([['targets', Buffer.from('{"signed": nope')]]);
    expect(r.statusCode).toBe(400);
    expect(r.body).toBe(
      '{"errors":[{"code":"MALFORMED_JSON","message":"JSON sent by the client could not be parsed by the server"}]}\n',
    );
  });

  it('refuses a non-multipart body (MALFORMED_UPLOAD, notary body)', async () => {
    const r = await srv.signet.app.inject({
      method: 'POST',
      url: `/v2/${fresh()}/_trust/tuf/`,
      headers: { 'content-type': 'application/json' },
      payload: '{}',
    });
    expect(r.statusCode).toBe(400);
    expect(r.body).toBe(
      '{"errors":[{"code":"MALFORMED_UPLOAD","message":"The body of your request is malformed."}]}\n',
    );
    const none = await srv.signet.app.inject({ method: 'POST', url: `/v2/${fresh()}/_trust/tuf/` });
    expectEnvelope(none, 400, 'MALFORMED_UPLOAD');
  });

  it('refuses an unknown role name (INVALID_ROLE with the role as detail) and a part without filename', async () => {
    const repo = await new TestRepo(srv, fresh()).init();
    const r = await repo.post([['bogus.json', Buffer.from('{}')]]);
    expect(r.body).toBe(
      '{"errors":[{"code":"INVALID_ROLE","message":"The role you are attempting to operate on is invalid.","detail":"bogus"}]}\n',
    );
    const trav = await repo.post([['targets/../root', Buffer.from('{}')]]);
    expectEnvelope(trav, 400, 'INVALID_ROLE');
    const empty = await repo.post([['', Buffer.from('{}')]]);
    expectEnvelope(empty, 400, 'NO_FILENAME');
  });

  it('refuses an oversized body (413) and an oversized role file (413), with the envelope', async () => {
    const repo = await new TestRepo(srv, fresh()).init();
    const big = Buffer.alloc(300 * 1024, 0x20);
    const { body, contentType } = multipart([['targets', big]]);
    const r = await srv.signet.app.inject({
      method: 'POST',
      url: repo.url(''),
      headers: { 'content-type': contentType },
      payload: body,
    });
    expectEnvelope(r, 413, 'PAYLOAD_TOO_LARGE');
    const chunked = await srv.signet.app.inject({
      method: 'POST',
      url: repo.url(''),
      headers: { 'content-type': contentType, 'transfer-encoding': 'chunked' },
      payload: multipart([['targets', Buffer.alloc(100 * 1024, 0x20)]]).body,
    });
    expect([400, 413]).toContain(chunked.statusCode);
    const role = multipart([['targets', Buffer.alloc(100 * 1024, 0x20)]]);
    const r2 = await srv.signet.app.inject({
      method: 'POST',
      url: repo.url(''),
      headers: { 'content-type': role.contentType },
      payload: role.body,
    });
    expectEnvelope(r2, 413, 'PAYLOAD_TOO_LARGE');
  });

  it('refuses path-traversal and otherwise invalid GUNs with 400 INVALID_GUN on every route', async () => {
    // (inject() cleans dot segments like a browser would, so those are checked on the raw path below)
    const guns = ['a%5Cb', 'a%00b', 'a%2e%2e/b', 'x'.repeat(256), 'a%0ab', 'a%09b', 'a%2F..%2Fb', 'a%2a', 'a%20b'];
    for (const g of guns) {
      for (const [method, suffix] of [
        ['GET', '_trust/tuf/root.json'],
        ['POST', '_trust/tuf/'],
        ['DELETE', '_trust/tuf/'],
        ['GET', '_trust/tuf/timestamp.key'],
        ['GET', '_trust/changefeed?records=1'],
      ] as const) {
        const r = await srv.signet.app.inject({ method, url: `/v2/${g}/${suffix}` });
        expect(r.statusCode, `${method} ${g} ${suffix}: ${r.body}`).toBeLessThan(500);
        if (g === 'a%2e%2e/b')
          expect(r.statusCode).not.toBe(500); // "a.." is an odd but legal name
        else expectEnvelope(r, 400, 'INVALID_GUN');
      }
    }
    // literal dot segments as a raw HTTP client sends them
    for (const raw of [
      '/v2/a/../b/_trust/tuf/root.json',
      '/v2/./x/_trust/tuf/',
      '/v2/a\\b/_trust/tuf/root.json',
      '/v2/a/%2e%2e/b/_trust/tuf/root.json',
      '/v2/%2E/x/_trust/tuf/timestamp.key',
      '/v2/../_trust/tuf/root.json',
    ]) {
      expect(matchRoute(raw.endsWith('/') ? 'POST' : 'GET', raw).gunError, raw).toBeDefined();
    }
  });

  it('never answers 5xx to random bodies, headers and paths (property test)', async () => {
    const gun = fresh();
    const repo = await new TestRepo(srv, gun).init({ serverSnapshot: true });
    expect((await repo.publish()).statusCode).toBe(200);
    const roles = ['root', 'targets', 'snapshot', 'timestamp', 'targets/x', 'bogus', '', 'targets/../x', 'root.json'];
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.tuple(
            fc.constantFrom(...roles),
            fc.oneof(
              fc.uint8Array({ maxLength: 300 }),
              fc.json().map((s) => new TextEncoder().encode(s)),
            ),
          ),
          {
            maxLength: 4,
          },
        ),
        fc.constantFrom(
          'multipart/form-data; boundary=XYZ',
          'multipart/form-data',
          'application/json',
          'text/plain',
          '',
        ),
        fc.boolean(),
        async (parts, ctype, wellFormed) => {
          let payload: Buffer;
          let contentType: string = ctype;
          if (wellFormed) {
            const m = multipart(parts.map(([r, b]) => [r, Buffer.from(b)]));
            payload = m.body;
            contentType = m.contentType;
          } else {
            payload = Buffer.concat(
              parts.map(([r, b]) =>
                Buffer.concat([
                  Buffer.from(`--XYZ\r\nContent-Disposition: form-data; filename="${r}"\r\n\r\n`),
                  Buffer.from(b),
                ]),
              ),
            );
          }
          const r = await srv.signet.app.inject({
            method: 'POST',
            url: repo.url(''),
            headers: contentType ? { 'content-type': contentType } : {},
            payload,
          });
          expect(r.statusCode, r.body).toBeLessThan(500);
          if (r.statusCode !== 200) expect(() => errorOf(r.body)).not.toThrow();
        },
      ),
      { numRuns: 150 },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.string({ maxLength: 80 }),
        fc.constantFrom('GET', 'POST', 'DELETE', 'PUT', 'HEAD'),
        async (p, method) => {
          const url = `/v2/${encodeURI(p)}/_trust/tuf/${encodeURI(p)}.json`;
          const r = await srv.signet.app.inject({ method, url });
          expect(r.statusCode, `${method} ${url} ${r.body}`).toBeLessThan(500);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('still serves the last good state after refusals', async () => {
    const repo = await new TestRepo(srv, fresh()).init({ serverSnapshot: true });
    repo.addTarget('good', 'g');
    expect((await repo.publish()).statusCode).toBe(200);
    const before = (await repo.get('timestamp.json')).rawPayload;
    const bad = await signMetadata('targets', { ...repo.targets, version: repo.targets.version + 1 }, [
      ecdsaKey().signer,
    ]);
    expect((await repo.post([['targets', bad.bytes]])).statusCode).toBe(400);
    expect((await repo.get('timestamp.json')).rawPayload.equals(before)).toBe(true);
    expect(
      crypto
        .createHash('sha256')
        .update((await repo.get('targets.json')).rawPayload)
        .digest('hex'),
    ).toBe(
      crypto
        .createHash('sha256')
        .update(repo.files.get('targets') as Buffer)
        .digest('hex'),
    );
  });
});
