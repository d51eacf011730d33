/**
 * Multipart tricks in the server's upload parsing (N:server/handlers/default.go).
 * Every attempt ends in a 4xx with notary's error code; the accepted variants are the ones notary accepts too.
 */
import { describe, expect, it } from 'vitest';
import { signMetadata } from '../../src/tuf/index.js';
import { ecdsaKey, expectInvalidUpdate, expectRefused, multipart, serverSuite } from './helpers.js';
import { THRESHOLD_MSG, targetsBody } from './server-targets-helpers.js';

const suite = serverSuite('example.com/sec-targets/r');
const { published } = suite;

describe('multipart tricks', () => {
  it('duplicate role parts: the last one is validated (as notary), so a forged last part is refused', async () => {
    const repo = await published();
    repo.addTarget('t', 'x');
    await repo.signDirty();
    const good = repo.files.get('targets') as Buffer;
    const forged = await signMetadata('targets', targetsBody(9), [ecdsaKey().signer]);
    expectInvalidUpdate(
      await repo.post([
        ['targets', good],
        ['targets', forged.bytes],
      ]),
      'ErrBadTargets',
      THRESHOLD_MSG('targets'),
    );
    const r = await repo.post([
      ['targets', forged.bytes],
      ['targets', good],
    ]);
    expect(r.statusCode, r.body).toBe(200);
    expect((await repo.get('targets.json')).rawPayload.equals(good)).toBe(true);
  });

  it('a part named root.json is the root role; a part named root.json.json is refused', async () => {
    const repo = await published();
    const old = repo.rootKeys[0]!;
    await repo.signRoot(); // root v2 signed by the same key
    const r = await repo.post([['root.json', repo.files.get('root') as Buffer]]);
    expect(r.statusCode, r.body).toBe(200);
    void old;
    expectRefused(await repo.post([['root.json.json', repo.files.get('root') as Buffer]]), 400, 'INVALID_ROLE');
  });

  it('a filename with quotes and a CR/LF header injection attempt is refused', async () => {
    const repo = await published();
    const boundary = 'b0undary';
    const body = Buffer.concat([
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="files"; filename="targets\\"; filename=\\"root"\r\nContent-Type: application/octet-stream\r\n\r\n`,
      ),
      repo.files.get('targets') as Buffer,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const r = await suite.srv.signet.app.inject({
      method: 'POST',
      url: repo.url(''),
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
      payload: body,
    });
    expectRefused(r, 400, 'INVALID_ROLE');
  });

  it('GUN tricks on publish: NUL, backslash and encoded // are refused with INVALID_GUN', async () => {
    // (inject() resolves dot segments, %2e%2e included, before routing: test/server/refusals checks raw paths)
    for (const g of ['example.com/a%00b', 'example.com/a%5C..%5Cb', 'example.com/a%2F%2F..%2Fb']) {
      const { body, contentType } = multipart([['targets', Buffer.from('{}')]]);
      const r = await suite.srv.signet.app.inject({
        method: 'POST',
        url: `/v2/${g}/_trust/tuf/`,
        headers: { 'content-type': contentType },
        payload: body,
      });
      expectRefused(r, 400, 'INVALID_GUN');
    }
  });
});
