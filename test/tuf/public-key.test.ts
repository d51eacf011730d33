import crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  keyJson,
  keyObjectFromPublicKey,
  publicKeyFromJson,
  publicKeyFromSpki,
  publicKeyToJson,
  tufKeyId,
} from '../../src/tuf/index.js';
import { thrownCode } from '../helpers/errors.js';
import { keyFiles, vector } from './helpers.js';

describe('key IDs', () => {
  it('hashes the canonical key JSON with "private":null (N:tuf/data/keys.go checked vector)', () => {
    const pub =
      'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAENgK7kx/HdvmLUG4733JIJd0Bv6FML8SVEmgGynvhl64nCVmWzTLdziS1bMUgb6hlSkqTYtvyOCC5YMY+GrAH+Q==';
    expect(tufKeyId('ecdsa', pub)).toBe('041b64dab281324ef2b62fd2d04f4758269e120ff063b7bc78709272821a0a02');
    expect(publicKeyFromJson(keyJson('ecdsa', pub)).id).toBe(tufKeyId('ecdsa', pub));
  });

  it('gives the ID the server lists for a key JSON written in another key order', () => {
    const text = vector('notary', 'timestamp.key').toString();
    expect(text.indexOf('"public"')).toBeLessThan(text.indexOf('"private"'));
    const pk = publicKeyFromJson(JSON.parse(text));
    expect(publicKeyToJson(pk)).toEqual(JSON.parse(text));
  });

  it('names the docker capture targets key file by the key ID root lists', () => {
    const root = JSON.parse(vector('docker', 'root.json').toString());
    const [id] = root.signed.roles.targets.keyids as [string];
    expect(keyFiles('docker')).toContain(`targets-${id}.key`);
    expect(publicKeyFromJson(root.signed.keys[id]).canonicalId).toBe(id);
  });

  it('uses the leaf certificate key for the canonical ID of x509 delegation keys', () => {
    const t = JSON.parse(vector('notary', 'targets.json').toString());
    const [id] = t.signed.delegations.roles[0].keyids as [string];
    const pk = publicKeyFromJson(t.signed.delegations.keys[id]);
    expect(pk.id).toBe(id);
    expect(keyFiles('notary')).toContain(`targets_releases-${pk.canonicalId}.key`);
  });
});

describe('public keys', () => {
  it('stores ed25519 keys as the raw 32 bytes and round-trips them to a usable key', () => {
    const { publicKey } = crypto.generateKeyPairSync('ed25519');
    const pk = publicKeyFromSpki(publicKey.export({ format: 'der', type: 'spki' }));
    expect(pk.keytype).toBe('ed25519');
    expect(Buffer.from(pk.public, 'base64')).toHaveLength(32);
    const back = keyObjectFromPublicKey(publicKeyFromJson(publicKeyToJson(pk)));
    expect(back.export({ format: 'der', type: 'spki' }).equals(publicKey.export({ format: 'der', type: 'spki' }))).toBe(
      true,
    );
  });

  it('stores ecdsa and rsa keys as SPKI DER', () => {
    const ec = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
    const spki = ec.export({ format: 'der', type: 'spki' });
    const pk = publicKeyFromSpki(spki);
    expect(pk).toMatchObject({ keytype: 'ecdsa', public: spki.toString('base64'), canonicalId: pk.id });
    const rsa = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;
    expect(publicKeyFromSpki(rsa.export({ format: 'der', type: 'spki' })).keytype).toBe('rsa');
  });

  it('refuses keys that do not decode as their keytype (INVALID_KEY)', () => {
    const ec = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
    const b64 = ec.export({ format: 'der', type: 'spki' }).toString('base64');
    expect(thrownCode(() => publicKeyFromJson(keyJson('rsa', b64)))).toBe('INVALID_KEY');
    expect(thrownCode(() => publicKeyFromJson(keyJson('ed25519', b64)))).toBe('INVALID_KEY');
    expect(thrownCode(() => publicKeyFromJson(keyJson('ecdsa-x509', b64)))).toBe('INVALID_KEY');
    expect(
      thrownCode(() => publicKeyFromJson({ keytype: 'dsa', keyval: { private: null, public: b64 } } as never)),
    ).toBe('INVALID_KEY');
    expect(thrownCode(() => publicKeyFromSpki(Buffer.from('nope')))).toBe('INVALID_KEY');
  });
});
