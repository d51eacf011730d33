import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseSnapshot, parseTimestamp, parseTargets } from '../../src/tuf/index.js';
import { TestRepo, errorOf, testServer, type TestServer } from './helpers.js';

let srv: TestServer;
beforeEach(async () => {
  srv = await testServer();
});
afterEach(async () => {
  await srv.close();
});

describe('publish', () => {
  it('accepts a first publish with a client-held snapshot and serves root, targets, snapshot and a server timestamp', async () => {
    const repo = await new TestRepo(srv, 'example.com/acme/app').init();
    repo.addTarget('v1', 'hello');
    const r = await repo.publish();
    expect(r.statusCode, r.body).toBe(200);
    expect(r.body).toBe('');
    const root = await repo.get('root.json');
    expect(root.statusCode).toBe(200);
    expect(root.rawPayload.equals(repo.files.get('root') as Buffer)).toBe(true);
    expect(root.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(root.headers['cache-control']).toBe('public, max-age=300, s-maxage=300, must-revalidate');
    expect(String(root.headers['last-modified'])).toMatch(/^\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d UTC$/);
    const targets = await repo.get('targets.json');
    expect(parseTargets('targets', targets.rawPayload).signed.targets.v1).toBeDefined();
    const ts = parseTimestamp((await repo.get('timestamp.json')).rawPayload);
    expect(ts.signed.version).toBe(1);
    expect(ts.signatures[0]?.keyid).toBe(repo.timestampPub?.id);
    const snHex = Buffer.from(ts.signed.meta.snapshot.hashes.sha256 as string, 'base64').toString('hex');
    const sn = await repo.get(`snapshot.${snHex}.json`);
    expect(sn.statusCode).toBe(200);
    expect(sn.headers['cache-control']).toBe('public, max-age=2592000, s-maxage=2592000');
    expect((await repo.get('1.root.json')).statusCode).toBe(200);
  });

  it('generates the snapshot when the server holds the snapshot key', async () => {
    const repo = await new TestRepo(srv, 'example.com/acme/srvsnap').init({ serverSnapshot: true });
    repo.addTarget('v1', 'x');
    expect((await repo.publish()).statusCode).toBe(200);
    const sn = parseSnapshot((await repo.get('snapshot.json')).rawPayload);
    expect(sn.signatures[0]?.keyid).toBe(repo.serverSnapshotPub?.id);
    expect(Object.keys(sn.signed.meta).sort()).toEqual(['root', 'targets']);
    repo.addTarget('v2', 'y');
    expect((await repo.publish()).statusCode).toBe(200);
    const sn2 = parseSnapshot((await repo.get('snapshot.json')).rawPayload);
    expect(sn2.signed.version).toBe(2);
    expect(parseTimestamp((await repo.get('timestamp.json')).rawPayload).signed.version).toBe(2);
  });

  it('refuses a second publish of the same version with 400 VERSION', async () => {
    const repo = await new TestRepo(srv, 'example.com/acme/ver').init();
    const parts = await repo.parts();
    expect((await repo.post(parts)).statusCode).toBe(200);
    const again = await repo.post(parts);
    expect(again.statusCode).toBe(400);
    expect(again.body).toBe(
      '{"errors":[{"code":"VERSION","message":"A newer version of metadata is already available.","detail":{}}]}\n',
    );
  });

  it('refuses a first publish without root (ErrValidation), byte-identical to notary', async () => {
    const repo = await new TestRepo(srv, 'example.com/acme/noroot').init();
    const parts = (await repo.parts()).filter(([r]) => r !== 'root');
    const r = await repo.post(parts);
    expect(r.statusCode).toBe(400);
    expect(r.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(r.body).toBe(
      '{"errors":[{"code":"INVALID_UPDATE","message":"Update sent by the client is invalid.","detail":{"Name":"ErrValidation","Error":{"Msg":"no pre-existing root and no root provided in update."}}}]}\n',
    );
  });

  it('rotates the root: v2 signed by old and new root keys is accepted; one signed only by the new key is refused', async () => {
    const repo = await new TestRepo(srv, 'example.com/acme/rot').init();
    expect((await repo.publish()).statusCode).toBe(200);
    const old = repo.rootKeys[0]!;
    const { rootKey } = await import('./helpers.js');
    repo.rootKeys = [await rootKey(repo.gun)];
    await repo.signRoot(); // only the new key
    let r = await repo.publish();
    expect(r.statusCode).toBe(400);
    expect(errorOf(r.body).detail).toMatchObject({ Name: 'ErrBadRoot' });
    repo.rootVersion--;
    await repo.signRoot([old.signer]);
    r = await repo.publish();
    expect(r.statusCode, r.body).toBe(200);
    expect((await repo.get('2.root.json')).statusCode).toBe(200);
  });

  it('deletes a GUN: everything 404 afterwards, also for an unknown GUN 200', async () => {
    const repo = await new TestRepo(srv, 'example.com/acme/del').init();
    expect((await repo.publish()).statusCode).toBe(200);
    expect((await repo.get('timestamp.json')).statusCode).toBe(200);
    const d = await srv.signet.app.inject({ method: 'DELETE', url: repo.url('') });
    expect(d.statusCode).toBe(200);
    expect(d.body).toBe('');
    for (const f of ['root.json', 'timestamp.json', 'targets.json', '1.root.json'])
      expect((await repo.get(f)).statusCode).toBe(404);
    expect((await srv.signet.app.inject({ method: 'DELETE', url: '/v2/never/seen/_trust/tuf/' })).statusCode).toBe(200);
  });
});
