/**
 * Numbers, dates and JSON tricks in uploaded metadata (N:tuf/data/*.go).
 * Every attempt ends in a 4xx with notary's error code; the accepted variants are the ones notary accepts too.
 */
import { describe, expect, it } from 'vitest';
import { canonicalJson, fileMeta, signMetadata } from '../../src/tuf/index.js';
import { expectInvalidUpdate, expectRefused, serverSuite } from './helpers.js';
import { THRESHOLD_MSG, rawEnvelope, sigOver, targetsBody } from './server-targets-helpers.js';

const suite = serverSuite('example.com/sec-targets/r');
const { initialised, published } = suite;

describe('numbers, dates and JSON tricks', () => {
  it.each([
    ['2^53', 2 ** 53],
    ['2^31 (above the SQL integer)', 2 ** 31],
    ['negative', -1],
    ['zero', 0],
    ['float', 1.5],
    ['1e400', '1e400'],
    ['string', '"2"'],
    ['integral with a fraction', '2.0'],
    ['integral with an exponent', '2e0'],
  ])('targets version %s: refused with 400', async (_label, version) => {
    const repo = await published();
    const body = targetsBody(2);
    const json = canonicalJson(body as never)
      .toString()
      .replace('"version":2', `"version":${String(version)}`);
    const bytes = rawEnvelope(json, [await sigOver(Buffer.from(json), repo.targetsKey.signer)]);
    const r = await repo.post([['targets', bytes]]);
    expect(r.statusCode, r.body).toBe(400);
    if (version === 0) expectInvalidUpdate(r, 'ErrBadTargets', /signed.version must be an integer ≥ 1/);
    else expectRefused(r, 400, 'MALFORMED_JSON');
  });

  it.each([
    ['lower-case t and z', '2030-01-01t00:00:00z'],
    ['no seconds', '2030-01-01T00:00Z'],
    ['leap second', '2030-12-31T23:59:60Z'],
    ['year 10000', '10000-01-01T00:00:00Z'],
    ['offset +24:00', '2030-01-01T00:00:00+24:00'],
    ['one-digit hour', '2030-01-01T1:00:00Z'],
    ['date only', '2030-01-01'],
  ])('targets expires with %s: refused as MALFORMED_JSON, as Go time.Time does', async (_label, expires) => {
    const repo = await published();
    const body = targetsBody(2, { expires });
    const json = canonicalJson(body as never).toString();
    const r = await repo.post([
      ['targets', rawEnvelope(json, [await sigOver(Buffer.from(json), repo.targetsKey.signer)])],
    ]);
    expectRefused(r, 400, 'MALFORMED_JSON');
  });

  it('a fractional, offset expires in the future is accepted (Go RFC 3339)', async () => {
    const repo = await published();
    const body = targetsBody(2, { expires: '2099-01-01T00:00:00.123456789-05:00' });
    const md = await signMetadata('targets', body, [repo.targetsKey.signer]);
    expect((await repo.post([['targets', md.bytes]])).statusCode).toBe(200);
  });

  it('duplicate "version" keys: the last one is the value verified and stored, as in Go', async () => {
    const repo = await published();
    const v3 = canonicalJson(targetsBody(3) as never).toString();
    const sig3 = await sigOver(Buffer.from(v3), repo.targetsKey.signer);
    const dup = v3.replace('"version":3', '"version":2,"version":3');
    const ok = await repo.post([['targets', rawEnvelope(dup, [sig3])]]);
    expect(ok.statusCode, ok.body).toBe(200);
    const served = (await repo.get('targets.json')).rawPayload.toString();
    expect(served).toBe(rawEnvelope(dup, [sig3]).toString()); // stored verbatim
    // a signature over version 4 cannot be replayed onto a body whose last version key says 5
    const v4 = canonicalJson(targetsBody(4) as never).toString();
    const sig4 = await sigOver(Buffer.from(v4), repo.targetsKey.signer);
    const replay = v4.replace('"version":4', '"version":4,"version":5');
    expectInvalidUpdate(
      await repo.post([['targets', rawEnvelope(replay, [sig4])]]),
      'ErrBadTargets',
      THRESHOLD_MSG('targets'),
    );
    // nor a duplicate "signed": the last body is the one checked
    const twoBodies = `{"signed":${v4},"signatures":[${JSON.stringify(sig4)}],"signed":${replay.replace('"version":4,', '')}}`;
    expectInvalidUpdate(
      await repo.post([['targets', Buffer.from(twoBodies)]]),
      'ErrBadTargets',
      THRESHOLD_MSG('targets'),
    );
  });

  it('a second, case-folded "Targets" map (what notary clients would read) is refused: ErrBadTargets', async () => {
    const repo = await published();
    const evil = fileMeta(Buffer.from('evil'), ['sha256']);
    const json = canonicalJson(targetsBody(2) as never)
      .toString()
      .replace('{"_type"', `{"Targets":{"latest":${JSON.stringify(evil)}},"_type"`);
    const r = await repo.post([
      ['targets', rawEnvelope(json, [await sigOver(canonicalJson(JSON.parse(json)), repo.targetsKey.signer)])],
    ]);
    expectInvalidUpdate(r, 'ErrBadTargets', /is decoded by Go as the field "targets"/);
  });

  it('__proto__ and constructor as target names are plain targets; they pollute nothing', async () => {
    const repo = await published();
    const fm = fileMeta(Buffer.from('x'), ['sha256']);
    const json = canonicalJson(targetsBody(2) as never)
      .toString()
      .replace('"targets":{}', `"targets":{"__proto__":${JSON.stringify(fm)},"constructor":${JSON.stringify(fm)}}`);
    const r = await repo.post([
      ['targets', rawEnvelope(json, [await sigOver(Buffer.from(json), repo.targetsKey.signer)])],
    ]);
    expect(r.statusCode, r.body).toBe(200);
    expect(({} as Record<string, unknown>)['hashes']).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('length');
  });

  it.each([['constructor'], ['__proto__'], ['toString'], ['hasOwnProperty']])(
    'a delegation listing key ID %j that is not in its keys: ErrBadTargets',
    async (keyid) => {
      const repo = await published();
      const json = canonicalJson(targetsBody(2) as never)
        .toString()
        .replace(
          '"roles":[]',
          `"roles":[{"keyids":[${JSON.stringify(keyid)}],"name":"targets/a","paths":[""],"threshold":1}]`,
        );
      const r = await repo.post([
        ['targets', rawEnvelope(json, [await sigOver(Buffer.from(json), repo.targetsKey.signer)])],
      ]);
      expectInvalidUpdate(r, 'ErrBadTargets', /which is not in signed.delegations.keys/);
    },
  );

  it.each([['constructor'], ['__proto__'], ['valueOf']])(
    'a root role listing key ID %j that is not in root.keys: ErrBadRoot',
    async (keyid) => {
      const repo = await initialised();
      const body = repo.rootBody(1);
      const json = canonicalJson(body as never)
        .toString()
        .replace(
          `"targets":{"keyids":["${repo.targetsKey.pub.id}"]`,
          `"targets":{"keyids":["${repo.targetsKey.pub.id}",${JSON.stringify(keyid)}]`,
        );
      expect(json).toContain(keyid);
      await repo.signDirty();
      const r = await repo.post([
        ['root', rawEnvelope(json, [await sigOver(Buffer.from(json), repo.rootKeys[0]!.signer)])],
        ['targets', repo.files.get('targets') as Buffer],
      ]);
      expectInvalidUpdate(r, 'ErrBadRoot', /which is not in signed.keys/);
    },
  );

  it('a NUL in a target name is refused (it cannot be canonically encoded): ErrBadTargets', async () => {
    const repo = await published();
    const fm = fileMeta(Buffer.from('x'), ['sha256']);
    const json = canonicalJson(targetsBody(2) as never)
      .toString()
      .replace('"targets":{}', `"targets":{"a\\u0000b":${JSON.stringify(fm)}}`);
    const r = await repo.post([
      ['targets', rawEnvelope(json, [await sigOver(Buffer.from(json), repo.targetsKey.signer)])],
    ]);
    expectInvalidUpdate(r, 'ErrBadTargets', /control character/);
  });

  it('a 64 KiB target name is accepted and served back byte for byte (no truncation, no 5xx)', async () => {
    const repo = await published();
    repo.addTarget('n'.repeat(64 * 1024), 'x');
    const r = await repo.publish();
    expect(r.statusCode, r.body).toBe(200);
    expect((await repo.get('targets.json')).rawPayload.equals(repo.files.get('targets') as Buffer)).toBe(true);
  });
});
