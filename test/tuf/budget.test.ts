/** SignatureBudget and the threshold check: counts, time, one parse per key, early stop. */
import crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  SignatureBudget,
  checkSignedStructure,
  localSigner,
  newTargets,
  parseMetadata,
  publicKeyFromSpki,
  serializeEnvelope,
  signMetadata,
  verifySignature,
  verifyThreshold,
  type Metadata,
  type PublicKey,
} from '../../src/tuf/index.js';
import { thrownCode } from '../helpers/errors.js';

const NOW = new Date('2026-11-25T20:00:00Z');

function ecKey(): { priv: crypto.KeyObject; pk: PublicKey } {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { priv: privateKey, pk: publicKeyFromSpki(publicKey.export({ format: 'der', type: 'spki' })) };
}

/** targets signed by `good`, with `bogus` signatures by `bogusKey` placed before or after. */
async function flooded(good: ReturnType<typeof ecKey>, bogusKeys: PublicKey[], goodFirst: boolean): Promise<Metadata> {
  const md = await signMetadata('targets', newTargets(NOW), [localSigner(good.priv, good.pk)]);
  const bogus = bogusKeys.map((k) => ({ keyid: k.id, method: 'ecdsa', sig: Buffer.alloc(64, 1).toString('base64') }));
  const sigs = goodFirst ? [...md.signatures, ...bogus] : [...bogus, ...md.signatures];
  return parseMetadata('targets', serializeEnvelope(md.signed, sigs));
}

describe('verifyThreshold with a budget', () => {
  it('stops at the threshold: a good first signature costs one check whatever follows', async () => {
    const good = ecKey();
    const others = Array.from({ length: 20 }, () => ecKey().pk);
    const keys = Object.fromEntries([good.pk, ...others].map((k) => [k.id, k]));
    const ids = Object.keys(keys);
    const first = new SignatureBudget();
    verifyThreshold(await flooded(good, others, true), keys, ids, 1, first);
    expect(first.spent.checks).toBe(1);
    const last = new SignatureBudget();
    verifyThreshold(await flooded(good, others, false), keys, ids, 1, last);
    expect(last.spent.checks).toBe(21);
  });

  it('a listed key under the wrong ID is still INVALID_KEY_ID after the threshold is met (as notary)', async () => {
    const good = ecKey();
    const other = ecKey().pk;
    const md = await flooded(good, [other], true);
    const keys = { [good.pk.id]: good.pk, [other.id]: { ...other, id: 'f'.repeat(64) } };
    expect(thrownCode(() => verifyThreshold(md, keys, Object.keys(keys), 1))).toBe('INVALID_KEY_ID');
  });

  it('refuses with SIGNATURE_BUDGET past the count, and past the time (fake clock)', async () => {
    const good = ecKey();
    const others = Array.from({ length: 5 }, () => ecKey().pk);
    const keys = Object.fromEntries([good.pk, ...others].map((k) => [k.id, k]));
    const md = await flooded(good, others, false);
    const counted = new SignatureBudget({ maxChecks: 3, maxMillis: 60_000 });
    expect(thrownCode(() => verifyThreshold(md, keys, Object.keys(keys), 1, counted))).toBe('SIGNATURE_BUDGET');
    expect(counted.spent.checks).toBe(3);
    let t = 0;
    const timedBudget = new SignatureBudget({ maxChecks: 1000, maxMillis: 100 }, () => (t += 60));
    expect(thrownCode(() => verifyThreshold(md, keys, Object.keys(keys), 1, timedBudget))).toBe('SIGNATURE_BUDGET');
    expect(timedBudget.spent.checks).toBe(2); // 60 ms each: the third check finds 120 ms spent
  });

  it('parses each key once per budget, whatever the number of signatures and roles naming it', async () => {
    const good = ecKey();
    const budget = new SignatureBudget();
    let parses = 0;
    const parse = (): crypto.KeyObject => {
      parses++;
      return crypto.createPublicKey({ key: Buffer.from(good.pk.public, 'base64'), format: 'der', type: 'spki' });
    };
    for (let i = 0; i < 10; i++) budget.keyObject({ ...good.pk }, 'key', parse);
    expect(parses).toBe(1);
  });
});

describe('costly keys verify nothing', () => {
  it('an RSA key with a public exponent above 2^31-1 (Go refuses it) verifies nothing, even a valid signature', () => {
    for (const [e, want] of [
      [65537, true],
      [2 ** 31 + 11, false],
    ] as const) {
      const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: e });
      const pk = publicKeyFromSpki(publicKey.export({ format: 'der', type: 'spki' }), 'rsa');
      const sig = crypto.sign('sha256', Buffer.from('x'), {
        key: privateKey,
        padding: crypto.constants.RSA_PKCS1_PSS_PADDING,
        saltLength: 32,
      });
      expect(verifySignature(pk, 'rsapss', Buffer.from('x'), sig), `e = ${e}`).toBe(want);
    }
  });
});

describe('key limits by type (structure)', () => {
  const targetsWith = (keytype: string, pub: Buffer): unknown => ({
    ...newTargets(NOW),
    delegations: { keys: { k: { keytype, keyval: { private: null, public: pub.toString('base64') } } }, roles: [] },
  });
  const check = (keytype: string, pub: Buffer) => () =>
    checkSignedStructure('targets', targetsWith(keytype, pub) as never, 'targets.json');
  const pem = (n: number): Buffer =>
    Buffer.from('-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n'.repeat(n));

  it('caps size and BEGIN lines for every key type', () => {
    expect(thrownCode(check('ecdsa', Buffer.alloc(1024)))).toBe('OK');
    expect(thrownCode(check('ecdsa', Buffer.alloc(1025)))).toBe('MALFORMED_METADATA');
    expect(thrownCode(check('ecdsa', pem(1)))).toBe('MALFORMED_METADATA');
    expect(thrownCode(check('rsa', pem(1)))).toBe('OK');
    expect(thrownCode(check('rsa', pem(2)))).toBe('MALFORMED_METADATA');
    expect(thrownCode(check('rsa', Buffer.alloc(4097)))).toBe('MALFORMED_METADATA');
    expect(thrownCode(check('ed25519', Buffer.alloc(257)))).toBe('MALFORMED_METADATA');
    expect(thrownCode(check('ecdsa-x509', pem(10)))).toBe('OK');
    expect(thrownCode(check('ecdsa-x509', pem(11)))).toBe('MALFORMED_METADATA');
    expect(thrownCode(check('rsa-x509', Buffer.alloc(64 * 1024 + 1)))).toBe('MALFORMED_METADATA');
  });
});
