// Issue 16 finding 7: a key's role/gun/path headers carry only a safe alphabet; an imported PEM
// with terminal escapes (or other odd characters) in them is refused before anything is stored.
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  TrustDirKeyStore,
  constantPassphraseRetriever,
  encodeKeyPem,
  generatePrivateKey,
} from '../../src/keys/index.js';
import { codeOf } from '../helpers/errors.js';

const ESC = '\u001b]0;owned\u0007\u001b[2J';

function store(): { dir: string; store: TrustDirKeyStore } {
  const dir = mkdtempSync(path.join(tmpdir(), 'signet-keyhdr-'));
  return { dir, store: new TrustDirKeyStore(dir, constantPassphraseRetriever('header-pass')) };
}

function pem(headers: { role: string; gun?: string; path?: string }): string {
  return encodeKeyPem(generatePrivateKey(), headers, '');
}

describe('key header alphabet', () => {
  it.each([
    ['role with terminal escapes', { role: `bob${ESC}` }],
    ['role with a CSI byte (C1)', { role: 'bob\u009b31m' }],
    ['role with a bidi override', { role: 'bob\u202eevil' }],
    ['role with a space', { role: 'targets/a b' }],
    ['role with a .. segment', { role: 'targets/../root' }],
    ['gun with terminal escapes', { role: 'targets', gun: `example.com/app${ESC}` }],
    ['path with terminal escapes', { role: 'bob', path: `tuf_keys/x/${ESC}` }],
  ])('refuses an imported PEM with a %s', async (_name, headers) => {
    const s = store();
    const err = await s.store.importPem(pem(headers)).catch((e: unknown) => e);
    expect(await codeOf(Promise.reject(err))).toBe('KEY_FILE');
    // (the message quotes the value JSON-escaped; the CLI escapes what is left, test/cli/key-files)
    expect(readdirSync(s.dir)).toEqual([]); // nothing written
  });

  it('refuses a hostile --role / --gun given for a header-less key', async () => {
    const s = store();
    const bare = encodeKeyPem(generatePrivateKey(), { role: '' }, '');
    expect(await codeOf(s.store.importPem(bare, { role: `x${ESC}` }))).toBe('KEY_FILE');
    expect(await codeOf(s.store.importPem(bare, { role: 'targets', gun: `g${ESC}` }))).toBe('KEY_FILE');
  });

  it('accepts the names notary and docker write', async () => {
    const s = store();
    for (const h of [
      { role: 'root' },
      { role: 'targets', gun: 'registry.example.com:5000/team/app' },
      { role: 'targets/releases' },
      { role: 'bob_the-builder.2' },
      { role: 'snapshot', gun: '[::1]:5000/app' },
    ]) {
      const r = await s.store.importPem(pem(h));
      expect(r.role).toBe(h.role);
    }
    expect((await s.store.list()).length).toBe(5);
  });
});
