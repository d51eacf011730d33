/** Re-sign on read (N:tuf/builder.go): clients never see an expired server-managed timestamp. */
import { afterEach, describe, expect, it } from 'vitest';
import { parseSnapshot, parseTimestamp } from '../../src/tuf/index.js';
import { TestRepo, testServer, type TestServer } from './helpers.js';

const DAY = 24 * 3600 * 1000;
let srv: TestServer | undefined;
afterEach(async () => {
  await srv?.close();
  srv = undefined;
});

async function setup(serverSnapshot: boolean) {
  let now = Date.now();
  srv = await testServer({ now: () => new Date(now) });
  const repo = await new TestRepo(srv, 'example.com/resign/app').init({ serverSnapshot });
  repo.addTarget('v1', 'x');
  expect((await repo.publish()).statusCode).toBe(200);
  return { repo, advance: (ms: number) => (now += ms), now: () => now };
}

describe('re-sign on read', () => {
  it('serves the stored timestamp while it is far from expiry', async () => {
    const { repo, advance } = await setup(false);
    const a = (await repo.get('timestamp.json')).rawPayload;
    advance(5 * DAY);
    expect((await repo.get('timestamp.json')).rawPayload.equals(a)).toBe(true);
  });

  it('re-signs a timestamp within a day of expiry: version + 1, new expiry, same snapshot', async () => {
    const { repo, advance, now } = await setup(false);
    const before = parseTimestamp((await repo.get('timestamp.json')).rawPayload);
    advance(13.5 * DAY);
    const after = parseTimestamp((await repo.get('timestamp.json')).rawPayload);
    expect(after.signed.version).toBe(before.signed.version + 1);
    expect(Date.parse(after.signed.expires)).toBeGreaterThan(now() + 13 * DAY);
    expect(after.signed.meta.snapshot).toEqual(before.signed.meta.snapshot);
    // and the new version is stored (by version, and in the changefeed)
    expect((await repo.get(`${after.signed.version}.timestamp.json`)).statusCode).toBe(200);
  });

  it('re-signs an expired timestamp long after (a client never sees it expired)', async () => {
    const { repo, advance, now } = await setup(false);
    advance(400 * DAY);
    const ts = parseTimestamp((await repo.get('timestamp.json')).rawPayload);
    expect(Date.parse(ts.signed.expires)).toBeGreaterThan(now());
  });

  it('re-dates an expired server-held snapshot and the timestamp that lists it', async () => {
    const { repo, advance, now } = await setup(true);
    const sn1 = parseSnapshot((await repo.get('snapshot.json')).rawPayload);
    advance(3 * 365 * DAY + DAY);
    const sn2 = parseSnapshot((await repo.get('snapshot.json')).rawPayload);
    expect(sn2.signed.version).toBe(sn1.signed.version + 1);
    expect(Date.parse(sn2.signed.expires)).toBeGreaterThan(now());
    expect(sn2.signed.meta).toEqual(sn1.signed.meta);
    const ts = parseTimestamp((await repo.get('timestamp.json')).rawPayload);
    expect(Date.parse(ts.signed.expires)).toBeGreaterThan(now());
  });

  it('publishes still work after a re-sign (versions keep moving forward)', async () => {
    const { repo, advance } = await setup(true);
    advance(14 * DAY);
    await repo.get('timestamp.json');
    repo.addTarget('v2', 'y');
    const r = await repo.publish();
    expect(r.statusCode, r.body).toBe(200);
    expect(parseTimestamp((await repo.get('timestamp.json')).rawPayload).signed.version).toBe(3);
  });
});
