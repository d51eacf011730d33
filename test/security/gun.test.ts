/** GUN tricks end to end: a unicode GUN is its own repository; look-alikes do not share trust. */
import { describe, expect, it } from 'vitest';
import { MSG } from '../../src/validation/index.js';
import { TestRepo, expectInvalidUpdate, serverSuite } from './helpers.js';

const suite = serverSuite('example.com/sec-gun/r');

describe('GUN tricks', () => {
  it('a unicode GUN publishes and serves; its NFD look-alike is another GUN its root does not cover', async () => {
    const nfc = 'example.com/caf\u00e9/app';
    const repo = await new TestRepo(suite.srv, encodeURI(nfc)).init({ serverSnapshot: true, rootCn: nfc });
    const r = await repo.publish();
    expect(r.statusCode, r.body).toBe(200);
    expect((await repo.get('root.json')).statusCode).toBe(200);
    const nfd = 'example.com/cafe\u0301/app';
    const twin = new TestRepo(suite.srv, encodeURI(nfd));
    const rr = await twin.get('root.json');
    expect(rr.statusCode).toBe(404);
    // the NFC root (CN café) is refused for the NFD GUN
    const copy = await new TestRepo(suite.srv, encodeURI(nfd)).init({ serverSnapshot: true, rootCn: nfc });
    expectInvalidUpdate(await copy.publish(), 'ErrBadRoot', MSG.leafCerts);
  });
});
