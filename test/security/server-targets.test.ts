/**
 * Attacks on the server's targets, delegation, snapshot and timestamp checks and on its upload
 * parsing (N:server/handlers/default.go, N:server/handlers/validation.go steps 3–5, N:tuf/data/targets.go, N:tuf/data/*.go). Every attempt ends in a 4xx with notary's
 * error code; the accepted variants are the ones notary accepts too.
 */
import { describe, expect, it } from 'vitest';
import {
  canonicalJson,
  fileMeta,
  formatExpires,
  newTargets,
  parseTimestamp,
  serializeEnvelope,
  signMetadata,
  type Signer,
  type SnapshotSigned,
  type TargetsSigned,
} from '../../src/tuf/index.js';
import { TestRepo, ecdsaKey, expectInvalidUpdate, expectRefused, keyOf, multipart, serverSuite } from './helpers.js';

const suite = serverSuite('example.com/sec-targets/r');
const { fresh, initialised, published } = suite;
const YEAR = 365 * 24 * 3600 * 1000;
const THRESHOLD_MSG = (role: string): string => `valid signatures did not meet threshold for ${role}`;

function targetsBody(version: number, extra: Partial<TargetsSigned> = {}): TargetsSigned {
  return { ...newTargets(new Date(Date.now() + YEAR), version), ...extra };
}

/** Envelope bytes with `signed` given as raw JSON text (to keep duplicate or odd keys). */
function rawEnvelope(signedJson: string, signatures: { keyid: string; method: string; sig: string }[]): Buffer {
  return Buffer.from(`{"signed":${signedJson},"signatures":${JSON.stringify(signatures)}}`);
}

async function sigOver(signedBytes: Buffer, signer: Signer) {
  const { method, sig } = await signer.sign(signedBytes);
  return { keyid: signer.publicKey.id, method, sig: sig.toString('base64') };
}

describe('targets and delegations', () => {
  it('targets signed by the (client-held) snapshot key: ErrBadTargets threshold', async () => {
    const repo = await new TestRepo(suite.srv, fresh()).init();
    await repo.signDirty(new Map([['targets', [repo.snapshotKey!.signer]]]));
    repo.dirty.clear();
    repo.dirty.add('root');
    const parts = await repo.parts(); // root + snapshot (listing the forged targets)
    parts.push(['targets', repo.files.get('targets') as Buffer]);
    expectInvalidUpdate(await repo.post(parts), 'ErrBadTargets', THRESHOLD_MSG('targets'));
  });

  it('targets/a/b uploaded when targets/a does not delegate it: ErrBadTargets', async () => {
    const repo = await initialised();
    repo.addDelegation('targets/a', [ecdsaKey()]);
    expect((await repo.publish()).statusCode).toBe(200);
    const k = ecdsaKey();
    const md = await signMetadata('targets/a/b', targetsBody(1), [k.signer]);
    expectInvalidUpdate(
      await repo.post([['targets/a/b', md.bytes]]),
      'ErrBadTargets',
      'tuf: invalid role targets/a/b. delegation does not exist',
    );
    // nor when its parent does not exist at all
    const orphan = await signMetadata('targets/x/y', targetsBody(1), [k.signer]);
    expectInvalidUpdate(
      await repo.post([['targets/x/y', orphan.bytes]]),
      'ErrBadTargets',
      'tuf: invalid role targets/x/y. parent role targets/x does not exist',
    );
  });

  it('a delegation that claims wider paths than its parent cannot sign outside the parent: ErrBadTargets', async () => {
    const repo = await initialised();
    repo.addDelegation('targets/a', [ecdsaKey()], ['team/']);
    repo.addDelegation('targets/a/b', [ecdsaKey()], ['', 'other/'], 'targets/a');
    repo.addTarget('team/ok', 'x', 'targets/a/b');
    expect((await repo.publish()).statusCode).toBe(200);
    repo.addTarget('other/evil', 'x', 'targets/a/b');
    expectInvalidUpdate(await repo.publish(), 'ErrBadTargets', /outside the paths delegated to targets\/a\/b/);
  });

  it.each([
    ['targets/../root'],
    ['targets//x'],
    ['targets/X'],
    ['targets/x/'],
    ['targets/./x'],
    ['targets/' + 'a'.repeat(249)],
    ['targets/a/targets'.replace('/targets', '/b c')],
    ['targets/a\\b'],
  ])('delegation role name %j in a parent: ErrBadTargets (malformed delegation)', async (name) => {
    const repo = await published();
    const k = ecdsaKey();
    const body = targetsBody(2, {
      delegations: {
        keys: { [k.pub.id]: keyOf(k.pub) },
        roles: [{ keyids: [k.pub.id], name, paths: [''], threshold: 1 }],
      },
    });
    const md = await signMetadata('targets', body, [repo.targetsKey.signer]).catch(() => undefined);
    // signMetadata refuses to sign it; an attacker writes the envelope itself
    expect(md).toBeUndefined();
    const bytes = serializeEnvelope(body, [await sigOver(canonicalJson(body as never), repo.targetsKey.signer)]);
    expectInvalidUpdate(await repo.post([['targets', bytes]]), 'ErrBadTargets', /not a valid delegation role name/);
  });

  it('a grandchild listed directly under targets: ErrBadTargets (not a direct child)', async () => {
    const repo = await published();
    const k = ecdsaKey();
    const body = targetsBody(2, {
      delegations: {
        keys: { [k.pub.id]: keyOf(k.pub) },
        roles: [{ keyids: [k.pub.id], name: 'targets/a/b', paths: [''], threshold: 1 }],
      },
    });
    const bytes = serializeEnvelope(body, [await sigOver(canonicalJson(body as never), repo.targetsKey.signer)]);
    expectInvalidUpdate(await repo.post([['targets', bytes]]), 'ErrBadTargets', /is not a direct child of targets/);
  });

  it.each([
    ['targets/../root'],
    ['targets//x'],
    ['targets/X'],
    ['targets/x/'],
    ['../root'],
    ['/targets'],
    ['targets/' + 'a'.repeat(300)],
    ['targets/a\\..\\..\\root'],
    ['timestamp/../root'],
  ])('upload part named %j: 400 INVALID_ROLE', async (name) => {
    const repo = await published();
    const r = await repo.post([[name, repo.files.get('targets') as Buffer]]);
    expectRefused(r, 400, 'INVALID_ROLE');
  });
});

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

describe('signature-check floods', () => {
  it('a delegation listing 257 keys is refused: ErrBadTargets', async () => {
    const repo = await published();
    const keys = Array.from({ length: 257 }, () => ecdsaKey());
    repo.addDelegation('targets/wide', keys);
    repo.targets.version++;
    const t = repo.targets;
    const bytes = serializeEnvelope(t, [await sigOver(canonicalJson(t as never), repo.targetsKey.signer)]);
    expectInvalidUpdate(
      await repo.post([['targets', bytes]]),
      'ErrBadTargets',
      /lists 257 keys; at most 256 are allowed/,
    );
  });

  it('80 delegation parts each validly signed by 256 keys are refused within the per-update check budget', async () => {
    // the role name is not in the body: one body signed once by the attacker's 256 keys serves as all
    // 80 parts, and the server would check 20,480 signatures (~6 s of its one event loop)
    const repo = await published();
    const keys = Array.from({ length: 256 }, () => ecdsaKey());
    const roles = Array.from({ length: 80 }, (_, i) => `targets/r${i}`);
    for (const r of roles) repo.addDelegation(r, keys);
    for (const r of roles) {
      const d = repo.targets.delegations.roles?.find((x) => x.name === r);
      if (d !== undefined) d.threshold = 256;
    }
    repo.dirty = new Set(['targets']);
    const ok = await repo.publish();
    expect(ok.statusCode, ok.body).toBe(200);
    const md = await signMetadata(
      'targets/r0',
      targetsBody(1),
      keys.map((k) => k.signer),
    );
    const t0 = Date.now();
    const r = await repo.post(roles.map((role) => [role, md.bytes]));
    const ms = Date.now() - t0;
    expectInvalidUpdate(r, 'ErrBadTargets', /targets\/r\d+: the signature checks of this update went over the budget/);
    expect(ms).toBeLessThan(2500);
  });
});
