/**
 * Attacks on the server's snapshot and timestamp upload checks (N:server/handlers/validation.go steps 3–5).
 * Every attempt ends in a 4xx with notary's error code; the accepted variants are the ones notary accepts too.
 */
import { describe, expect, it } from 'vitest';
import { fileMeta, formatExpires, parseTimestamp, signMetadata, type SnapshotSigned } from '../../src/tuf/index.js';
import { TestRepo, ecdsaKey, expectInvalidUpdate, serverSuite } from './helpers.js';
import { YEAR } from './server-targets-helpers.js';

const suite = serverSuite('example.com/sec-targets/r');
const { fresh, published } = suite;

describe('snapshot and timestamp uploads', () => {
  it('a client timestamp is ignored: the server signs its own (version +1, its key)', async () => {
    const repo = await published();
    const before = parseTimestamp((await repo.get('timestamp.json')).rawPayload);
    const forged = await signMetadata(
      'timestamp',
      {
        _type: 'Timestamp',
        expires: formatExpires(new Date(Date.now() + 100 * YEAR)),
        meta: { snapshot: fileMeta(Buffer.from('x')) },
        version: 1000,
      },
      [ecdsaKey().signer],
    );
    repo.addTarget('t', 'x');
    const parts = await repo.parts();
    const r = await repo.post([...parts, ['timestamp', forged.bytes]]);
    expect(r.statusCode, r.body).toBe(200);
    const after = parseTimestamp((await repo.get('timestamp.json')).rawPayload);
    expect(after.signed.version).toBe(before.signed.version + 1);
    expect(after.signatures.map((s) => s.keyid)).toEqual([repo.timestampPub!.id]);
    expect(after.bytes.equals(forged.bytes)).toBe(false);
  });

  it('a client snapshot that omits an uploaded delegation: ErrBadSnapshot', async () => {
    const repo = await new TestRepo(suite.srv, fresh()).init();
    repo.addDelegation('targets/a', [ecdsaKey()]);
    await repo.signDirty();
    repo.files.delete('targets/a');
    const body = repo.snapshotBody(); // lists root + targets only
    await repo.signDirty(); // re-create targets/a (and bump the others) …
    const sn = await signMetadata('snapshot', body, [repo.snapshotKey!.signer]);
    const parts: [string, Buffer][] = [
      ['root', repo.files.get('root') as Buffer],
      ['targets', repo.files.get('targets') as Buffer],
      ['targets/a', repo.files.get('targets/a') as Buffer],
      ['snapshot', sn.bytes],
    ];
    expectInvalidUpdate(await repo.post(parts), 'ErrBadSnapshot', /snapshot does not list|does not match/);
  });

  it('a client snapshot with a wrong length for targets: ErrBadSnapshot', async () => {
    const repo = await new TestRepo(suite.srv, fresh()).init();
    await repo.signDirty();
    repo.dirty.clear();
    const body = repo.snapshotBody();
    (body.meta['targets'] as { length: number }).length += 1;
    const sn = await signMetadata('snapshot', body, [repo.snapshotKey!.signer]);
    const r = await repo.post([
      ['root', repo.files.get('root') as Buffer],
      ['targets', repo.files.get('targets') as Buffer],
      ['snapshot', sn.bytes],
    ]);
    expectInvalidUpdate(r, 'ErrBadSnapshot', /length is \d+, expected \d+/);
  });

  it('a client snapshot when the server holds the snapshot key (signed by another key): ErrBadSnapshot', async () => {
    const repo = await published(true);
    repo.addTarget('t', 'x');
    await repo.signDirty();
    const meta: SnapshotSigned['meta'] = {};
    for (const [role, bytes] of repo.files) meta[role] = fileMeta(bytes);
    const sn = await signMetadata(
      'snapshot',
      { _type: 'Snapshot', expires: formatExpires(new Date(Date.now() + YEAR)), meta, version: 50 },
      [ecdsaKey().signer],
    );
    const r = await repo.post([
      ['targets', repo.files.get('targets') as Buffer],
      ['snapshot', sn.bytes],
    ]);
    expectInvalidUpdate(r, 'ErrBadSnapshot', /0 valid signature/);
  });
});
