/**
 * JSON-level tricks (N:tuf/data/types.go): what our parser and canonical re-encoding see must be what
 * Go's decoder sees, so one signature can never carry two meanings.
 */
import { describe, expect, it } from 'vitest';
import {
  canonicalJson,
  keyJson,
  localSigner,
  newTargets,
  parseMetadata,
  parseRfc3339,
  parseTargets,
  publicKeyFromSpki,
  verifyThreshold,
  type Signer,
} from '../../src/tuf/index.js';
import crypto from 'node:crypto';
import { codeOf } from './helpers.js';

function key(): { signer: Signer; id: string; json: ReturnType<typeof keyJson> } {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pub = publicKeyFromSpki(publicKey.export({ type: 'spki', format: 'der' }), 'ecdsa');
  return { signer: localSigner(privateKey, pub), id: pub.id, json: keyJson('ecdsa', pub.public) };
}

async function envelope(signedJson: string, k: { signer: Signer; id: string }, over = signedJson): Promise<Buffer> {
  // sign what a verifier re-encodes: the canonical form of the parsed body
  const { method, sig } = await k.signer.sign(canonicalJson(JSON.parse(over)));
  return Buffer.from(
    `{"signed":${signedJson},"signatures":[{"keyid":"${k.id}","method":"${method}","sig":"${sig.toString('base64')}"}]}`,
  );
}

const YEAR = 365 * 24 * 3600 * 1000;
const body = (): string => canonicalJson(newTargets(new Date(Date.now() + YEAR), 2) as never).toString();

describe('duplicate and case-folded keys', () => {
  it('exact duplicate keys: the last wins for us as for Go, and the signature covers that value', async () => {
    const k = key();
    const dup = body().replace('"version":2', '"version":1,"version":2');
    const md = parseMetadata('targets', await envelope(dup, k));
    expect(md.signed.version).toBe(2);
    expect(md.signedBytes.toString()).not.toContain('"version":1');
    verifyThreshold(
      md,
      { [k.id]: { keytype: 'ecdsa', public: k.json.keyval.public, id: k.id, canonicalId: k.id } },
      [k.id],
      1,
    );
  });

  it.each([
    ['"Version"', '"Version":99'],
    ['"VERSION"', '"VERSION":99'],
    [
      '"Targets" (a second targets map)',
      `"Targets":{"latest":{"hashes":{"sha256":"${Buffer.alloc(32, 1).toString('base64')}"},"length":1}}`,
    ],
    ['"Expires"', '"Expires":"2001-01-01T00:00:00Z"'],
    ['"_Type"', '"_Type":"Root"'],
    ['"Delegations"', '"Delegations":{"keys":{},"roles":[]}'],
    ['"expireſ" (long s folds to s in Go)', '"expireſ":"2001-01-01T00:00:00Z"'],
  ])('a signed body with %s next to the real field is refused: MALFORMED_METADATA', async (_label, extra) => {
    // Go decodes struct fields case-insensitively (last match wins): notary clients would read this
    // value while we read the lower-case one, under one and the same signature
    const k = key();
    const signed = body().replace('{"_type"', `{${extra},"_type"`);
    expect(await codeOf(async () => parseMetadata('targets', await envelope(signed, k)))).toBe('MALFORMED_METADATA');
  });

  it('case-folded envelope fields ("Signed", "Signatures", "KeyID") are refused: MALFORMED_METADATA', async () => {
    const k = key();
    const good = await envelope(body(), k);
    const other = body().replace('"version":2', '"version":3');
    const twoBodies = Buffer.from(good.toString().replace(/}$/, `,"Signed":${other}}`));
    expect(await codeOf(async () => parseMetadata('targets', twoBodies))).toBe('MALFORMED_METADATA');
    const keyidTwice = Buffer.from(good.toString().replace('"keyid":', '"KeyID":"00","keyid":'));
    expect(await codeOf(async () => parseMetadata('targets', keyidTwice))).toBe('MALFORMED_METADATA');
  });

  it('map keys (target names, key IDs, role names in meta) may differ only by case: they are data', async () => {
    const k = key();
    const fm = `{"hashes":{"sha256":"${Buffer.alloc(32, 1).toString('base64')}"},"length":1}`;
    const signed = body().replace('"targets":{}', `"targets":{"Latest":${fm},"latest":${fm}}`);
    const md = parseTargets('targets', await envelope(signed, k));
    expect(Object.keys(md.signed.targets)).toEqual(['Latest', 'latest']);
  });
});

describe('prototype keys', () => {
  it('__proto__ in a targets map is an own entry, survives canonical re-encoding, and pollutes nothing', async () => {
    const k = key();
    const fm = `{"hashes":{"sha256":"${Buffer.alloc(32, 1).toString('base64')}"},"length":7}`;
    const signed = body().replace('"targets":{}', `"targets":{"__proto__":${fm}}`);
    const md = parseTargets('targets', await envelope(signed, k));
    expect(Object.keys(md.signed.targets)).toEqual(['__proto__']);
    expect(md.signedBytes.toString()).toContain('"__proto__":{');
    expect(Object.getPrototypeOf(md.signed.targets)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>)['length']).toBeUndefined();
  });
});

describe('RFC 3339 as Go parses expires', () => {
  it.each([
    ['2030-01-01T00:00:00Z', true],
    ['2030-01-01T00:00:00.123456789-05:00', true],
    ['2030-01-01t00:00:00z', false],
    ['2030-01-01T00:00Z', false],
    ['2030-12-31T23:59:60Z', false],
    ['10000-01-01T00:00:00Z', false],
    ['2030-02-30T00:00:00Z', false],
    ['2030-01-01T00:00:00+24:00', false],
    ['2030-01-01 00:00:00Z', false],
    ['+2030-01-01T00:00:00Z', false],
    ['2030-01-01T00:00:00.Z', false],
  ])('%s → %s', (s, ok) => {
    expect(parseRfc3339(s) !== undefined).toBe(ok);
  });
});
