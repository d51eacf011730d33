import crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  canonicalJson,
  checkExpiry,
  checkFileMeta,
  checkVersion,
  defaultExpires,
  fileMeta,
  formatExpires,
  localSigner,
  newRoot,
  newSnapshot,
  newTargets,
  newTimestamp,
  parseMetadata,
  parseRfc3339,
  parseTargets,
  publicKeyFromSpki,
  serializeEnvelope,
  signMetadata,
  verifyThreshold,
  type JsonValue,
} from '../../src/tuf/index.js';
import { thrownError } from '../helpers/errors.js';
import { vector } from './helpers.js';

const NOW = new Date('2026-11-25T20:00:00Z');

/** A metadata file with the given signed body and no signatures, as exact bytes. */
function file(signed: unknown): Buffer {
  return Buffer.from(JSON.stringify({ signed, signatures: [] }));
}

function targetsBody(): Record<string, JsonValue> {
  return JSON.parse(JSON.stringify(newTargets('2030-01-01T00:00:00Z'))) as Record<string, JsonValue>;
}

describe('structural checks name the field at fault', () => {
  const cases: [string, string, (b: Record<string, JsonValue>) => void, string][] = [
    ['targets', 'a lowercase _type', (b) => (b['_type'] = 'targets'), 'signed._type'],
    ['targets', 'version 0', (b) => (b['version'] = 0), 'signed.version'],
    ['targets', 'a fractional version', (b) => (b['version'] = 1.5), 'signed.version'],
    ['targets', 'a non-RFC 3339 expires', (b) => (b['expires'] = '2030-01-01 00:00:00'), 'signed.expires'],
    ['targets', 'targets as an array', (b) => (b['targets'] = []), 'signed.targets'],
    [
      'targets',
      'a target without length',
      (b) => (b['targets'] = { t: { hashes: { sha256: Buffer.alloc(32).toString('base64') } } }),
      'signed.targets["t"].length',
    ],
    [
      'targets',
      'a delegation threshold of 0',
      (b) => (b['delegations'] = { keys: {}, roles: [{ keyids: [], name: 'targets/a', paths: [''], threshold: 0 }] }),
      'signed.delegations.roles[0].threshold',
    ],
    [
      'targets',
      'a delegation that is not a direct child',
      (b) => (b['delegations'] = { keys: {}, roles: [{ keyids: [], name: 'targets/a/b', paths: [''], threshold: 1 }] }),
      'signed.delegations.roles[0].name',
    ],
    [
      'targets',
      'an invalid delegation name',
      (b) => (b['delegations'] = { keys: {}, roles: [{ keyids: [], name: 'targets/A', threshold: 1 }] }),
      'signed.delegations.roles[0].name',
    ],
    [
      'targets',
      'a delegation key ID missing from keys',
      (b) => (b['delegations'] = { keys: {}, roles: [{ keyids: ['abc'], name: 'targets/a', threshold: 1 }] }),
      'signed.delegations.roles[0].keyids[0]',
    ],
    [
      'targets',
      'a key with a private part',
      (b) =>
        (b['delegations'] = {
          keys: { k: { keytype: 'ecdsa', keyval: { private: 'AAAA', public: 'AAAA' } } },
          roles: [],
        }),
      'signed.delegations.keys["k"].keyval.private',
    ],
  ];
  for (const [role, what, mutate, field] of cases) {
    it(`refuses ${role}.json with ${what} (${field})`, () => {
      const body = targetsBody();
      mutate(body);
      const e = thrownError(() => parseMetadata(role, file(body)));
      expect(e.code).toBe('MALFORMED_METADATA');
      expect(e.details?.['field']).toBe(field);
      expect(e.message).toContain(`${role}.json: ${field}`);
    });
  }

  it('says which root role is missing', () => {
    const root = newRoot({}, { root: { keyids: [], threshold: 1 } } as never, '2030-01-01T00:00:00Z');
    expect(thrownError(() => parseMetadata('root', file(root))).details?.['field']).toBe('signed.roles.targets');
  });

  it('refuses a snapshot without a sha256 for targets', () => {
    const meta = { root: fileMeta(Buffer.from('r')), targets: fileMeta(Buffer.from('t'), ['sha512']) };
    const e = thrownError(() => parseMetadata('snapshot', file(newSnapshot(meta, '2030-01-01T00:00:00Z'))));
    expect(e.details?.['field']).toBe('signed.meta["targets"].hashes.sha256');
  });

  it('refuses a timestamp whose snapshot sha256 has the wrong size', () => {
    const fm = { hashes: { sha256: Buffer.alloc(31).toString('base64') }, length: 3 };
    const e = thrownError(() => parseMetadata('timestamp', file(newTimestamp(fm, '2030-01-01T00:00:00Z'))));
    expect(e.details?.['field']).toBe('signed.meta["snapshot"].hashes.sha256');
  });

  it('refuses a file that is not JSON, or whose signed is not an object', () => {
    expect(thrownError(() => parseMetadata('targets', Buffer.from('{"signed":'))).code).toBe('MALFORMED_METADATA');
    expect(thrownError(() => parseMetadata('targets', Buffer.from('{"signed":[],"signatures":[]}'))).code).toBe(
      'MALFORMED_METADATA',
    );
  });

  it('refuses a role name notary does not accept', () => {
    expect(thrownError(() => parseMetadata('targets/../root', file(targetsBody()))).code).toBe('INVALID_ROLE');
    expect(thrownError(() => parseTargets('snapshot', file(targetsBody()))).code).toBe('INVALID_ROLE');
  });
});

describe('re-serialisation keeps the file as notary wrote it', () => {
  it('keeps null vs {} / [] in delegations, unknown fields, and custom target data', () => {
    const body = {
      ...targetsBody(),
      delegations: { keys: null, roles: null },
      targets: { t: { custom: { a: 1 }, hashes: { sha256: Buffer.alloc(32).toString('base64') }, length: 3 } },
      x_extra: { z: [1, null] },
    };
    const bytes = serializeEnvelope(body as never, []);
    const md = parseMetadata('targets', bytes);
    expect(serializeEnvelope(md.signed, md.signatures).equals(bytes)).toBe(true);
    expect(bytes.toString()).toContain('"delegations":{"keys":null,"roles":null}');
    expect(bytes.toString()).toContain('"x_extra":{"z":[1,null]}');
    expect(bytes.toString().endsWith(',"signatures":[]}')).toBe(true);
  });

  it('keeps a targets file without delegations as it is (Go reads it as null keys and roles)', () => {
    const { delegations: _d, ...body } = targetsBody();
    const bytes = serializeEnvelope(body as never, []);
    const md = parseMetadata('targets', bytes);
    expect(serializeEnvelope(md.signed, md.signatures).equals(bytes)).toBe(true);
    expect(bytes.toString()).not.toContain('delegations');
  });

  it('HTML-escapes <>& in the file while signing the raw characters; the file still verifies', async () => {
    const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pk = publicKeyFromSpki(publicKey.export({ format: 'der', type: 'spki' }));
    const body = newTargets(NOW);
    body.targets['a<b>&c'] = fileMeta(Buffer.from('x'), ['sha256']);
    const md = await signMetadata('targets', body, [localSigner(privateKey, pk)]);
    expect(md.bytes.toString()).toContain('"a\\u003cb\\u003e\\u0026c"');
    expect(md.signedBytes.toString()).toContain('"a<b>&c"');
    const back = parseMetadata('targets', md.bytes);
    expect(back.signedBytes.equals(md.signedBytes)).toBe(true);
    verifyThreshold(back, { [pk.id]: pk }, [pk.id], 1);
  });

  it('writes signatures with keys in the order keyid, method, sig and no whitespace or newline', () => {
    const bytes = serializeEnvelope(newTargets('2030-01-01T00:00:00Z'), [
      { keyid: 'ab', method: 'ecdsa', sig: 'AA==' },
    ]);
    expect(bytes.toString()).toBe(
      '{"signed":{"_type":"Targets","delegations":{"keys":{},"roles":[]},"expires":"2030-01-01T00:00:00Z","targets":{},"version":1},"signatures":[{"keyid":"ab","method":"ecdsa","sig":"AA=="}]}',
    );
  });

  it('verifies over the canonical re-encoding, not the file bytes (whitespace and key order do not matter)', () => {
    const md = parseMetadata('timestamp', vector('notary', 'timestamp.json'));
    const loose = Buffer.from(JSON.stringify({ signatures: md.signatures, signed: md.signed }, null, 2));
    const again = parseMetadata('timestamp', loose);
    expect(again.signedBytes.equals(md.signedBytes)).toBe(true);
    expect(canonicalJson(again.signed as never).equals(md.signedBytes)).toBe(true);
  });
});

describe('file meta', () => {
  it('hashes the exact bytes (length in bytes, not characters)', () => {
    const bytes = Buffer.from('é€', 'utf8');
    const fm = fileMeta(bytes);
    expect(fm.length).toBe(5);
    expect(fm.hashes.sha256).toBe(crypto.createHash('sha256').update(bytes).digest('base64'));
    expect(fm.hashes.sha512).toBe(crypto.createHash('sha512').update(bytes).digest('base64'));
    checkFileMeta(bytes, fm, 'x');
  });

  it('refuses a wrong length, a wrong hash, or no supported hash with MIX_AND_MATCH', () => {
    const bytes = Buffer.from('content');
    const fm = fileMeta(bytes);
    expect(thrownError(() => checkFileMeta(Buffer.from('contenT'), fm, 'x')).code).toBe('MIX_AND_MATCH');
    expect(thrownError(() => checkFileMeta(bytes, { ...fm, length: 8 }, 'x')).code).toBe('MIX_AND_MATCH');
    expect(thrownError(() => checkFileMeta(bytes, { hashes: { md5: 'AA==' }, length: 7 }, 'x')).code).toBe(
      'MIX_AND_MATCH',
    );
    const wrong512 = { ...fm, hashes: { ...fm.hashes, sha512: fileMeta(Buffer.from('other')).hashes.sha512 } };
    expect(thrownError(() => checkFileMeta(bytes, wrong512, 'x')).code).toBe('MIX_AND_MATCH');
  });
});

describe('expiry and version', () => {
  const md = parseMetadata('timestamp', vector('notary', 'timestamp.json'));
  it('accepts metadata until its expires instant and refuses it after (EXPIRED)', () => {
    const exp = new Date('2026-12-09T19:24:23.594Z');
    checkExpiry(md, exp);
    expect(thrownError(() => checkExpiry(md, new Date(exp.getTime() + 1))).code).toBe('EXPIRED');
  });

  it('handles expires with a non-UTC offset', () => {
    const body = { ...newTargets('2030-01-01T00:00:00.5-05:00') };
    const t = parseMetadata('targets', serializeEnvelope(body, []));
    checkExpiry(t, new Date('2030-01-01T05:00:00.400Z'));
    expect(thrownError(() => checkExpiry(t, new Date('2030-01-01T05:00:00.600Z'))).code).toBe('EXPIRED');
  });

  it('refuses a version lower than the trusted one (ROLLBACK)', () => {
    checkVersion(md, md.signed.version);
    expect(thrownError(() => checkVersion(md, md.signed.version + 1)).code).toBe('ROLLBACK');
  });

  it('formats expires as RFC 3339 UTC with trimmed fraction', () => {
    expect(formatExpires(new Date('2026-11-25T20:00:00.000Z'))).toBe('2026-11-25T20:00:00Z');
    expect(formatExpires(new Date('2026-11-25T20:00:00.120Z'))).toBe('2026-11-25T20:00:00.12Z');
    expect(formatExpires(new Date('2026-11-25T20:00:00.007Z'))).toBe('2026-11-25T20:00:00.007Z');
  });

  it("uses notary's default expiries (365-day years, 14-day timestamp)", () => {
    const day = 24 * 3600 * 1000;
    expect(defaultExpires('root', NOW).getTime() - NOW.getTime()).toBe(3650 * day);
    expect(defaultExpires('targets', NOW).getTime() - NOW.getTime()).toBe(1095 * day);
    expect(defaultExpires('targets/releases', NOW).getTime() - NOW.getTime()).toBe(1095 * day);
    expect(defaultExpires('snapshot', NOW).getTime() - NOW.getTime()).toBe(1095 * day);
    expect(defaultExpires('timestamp', NOW).getTime() - NOW.getTime()).toBe(14 * day);
  });
});

describe('RFC 3339 expires', () => {
  it.each([
    ['2116-07-03T17:56:36.027379879-05:00', '2116-07-03T22:56:36.027Z'],
    ['2029-11-24T19:24:23.585600922Z', '2029-11-24T19:24:23.585Z'],
    ['2030-01-01T00:00:00+01:30', '2029-12-31T22:30:00.000Z'],
    ['2028-02-29T00:00:00Z', '2028-02-29T00:00:00.000Z'],
  ])('reads %s as %s', (text, iso) => {
    expect(parseRfc3339(text)?.toISOString()).toBe(iso);
  });

  it.each([
    '2030-02-30T00:00:00Z',
    '2030-01-01t00:00:00Z',
    '2030-01-01T00:00:00',
    '2030-01-01T24:00:00Z',
    '2030-1-01T00:00:00Z',
  ])('refuses %s', (text) => {
    expect(parseRfc3339(text)).toBeUndefined();
  });
});

describe('integer literals', () => {
  it('refuses an integral number written as 2.0 or 2e0, which Go clients cannot decode', () => {
    const ok = file(targetsBody());
    expect(() => parseMetadata('targets', ok)).not.toThrow();
    for (const literal of ['1.0', '1e0', '10E-1']) {
      const bytes = Buffer.from(ok.toString('utf8').replace('"version":1', `"version":${literal}`));
      const e = thrownError(() => parseMetadata('targets', bytes));
      expect(e.code).toBe('MALFORMED_METADATA');
      expect(e.message).toContain(literal);
    }
  });
});
