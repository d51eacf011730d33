import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { SignetError, isSignetError } from '../../src/errors.js';
import {
  envPassphraseRetriever,
  passphraseEnvVars,
  promptPassphraseRetriever,
  type PassphraseRetriever,
} from '../../src/keys/index.js';

const ID = 'e3c38d885215f9caf7ac5d54b7d3932e3315875e15c4bdcfdff0b448e6f78433';

async function code(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
  } catch (err) {
    if (isSignetError(err)) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error('expected a rejection');
}

describe('envPassphraseRetriever', () => {
  it('maps aliases to notary and docker variables', async () => {
    const env = {
      NOTARY_ROOT_PASSPHRASE: 'nr',
      NOTARY_TARGETS_PASSPHRASE: 'nt',
      NOTARY_SNAPSHOT_PASSPHRASE: '',
      NOTARY_DELEGATION_PASSPHRASE: 'nd',
      DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE: 'dr',
    };
    const r = envPassphraseRetriever(env);
    const ask = (alias: string): Promise<string> => r({ keyId: ID, alias, createNew: false, attempt: 0 });
    expect(await ask('root')).toBe('nr');
    expect(await ask('targets')).toBe('nt');
    expect(await ask('snapshot')).toBe('dr'); // empty NOTARY_ value counts as unset
    expect(await ask('alice')).toBe('nd');
    expect(await ask('targets/releases')).toBe('nd');
    expect(await ask('timestamp')).toBe('dr');
  });

  it('docker variables alone: ROOT for root, REPOSITORY for everything else', async () => {
    const r = envPassphraseRetriever({
      DOCKER_CONTENT_TRUST_ROOT_PASSPHRASE: 'droot',
      DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE: 'drepo',
    });
    expect(await r({ keyId: ID, alias: 'root', createNew: true, attempt: 0 })).toBe('droot');
    for (const a of ['targets', 'snapshot', 'bob'])
      expect(await r({ keyId: ID, alias: a, createNew: false, attempt: 0 })).toBe('drepo');
  });

  it('(g) nothing set, no fallback → PASSPHRASE_REQUIRED naming the variables, immediately', async () => {
    const r = envPassphraseRetriever({});
    const t0 = Date.now();
    const e = await code(r({ keyId: ID, alias: 'targets', createNew: false, attempt: 0 }));
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(e.code).toBe('PASSPHRASE_REQUIRED');
    expect(e.message).toContain('set NOTARY_TARGETS_PASSPHRASE or DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE');
    const root = await code(r({ keyId: ID, alias: 'root', createNew: true, attempt: 0 }));
    expect(root.message).toContain('NOTARY_ROOT_PASSPHRASE or DOCKER_CONTENT_TRUST_ROOT_PASSPHRASE');
    const del = await code(r({ keyId: ID, alias: 'alice', createNew: false, attempt: 0 }));
    expect(del.message).toContain('NOTARY_DELEGATION_PASSPHRASE or DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE');
    expect(passphraseEnvVars('root')).toEqual(['NOTARY_ROOT_PASSPHRASE', 'DOCKER_CONTENT_TRUST_ROOT_PASSPHRASE']);
  });

  it('(g) env + non-TTY prompt fallback → PASSPHRASE_REQUIRED at once, no read from stdin', async () => {
    const input = new PassThrough(); // never written: a read would hang
    const r = envPassphraseRetriever({}, promptPassphraseRetriever({ input, output: new PassThrough(), isTTY: false }));
    const e = await code(r({ keyId: ID, alias: 'snapshot', createNew: false, attempt: 0 }));
    expect(e.code).toBe('PASSPHRASE_REQUIRED');
    expect(e.message).toContain('NOTARY_SNAPSHOT_PASSPHRASE or DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE');
  });

  it('a wrong env passphrase is not retried: BAD_PASSPHRASE naming the variable', async () => {
    const r = envPassphraseRetriever({ NOTARY_ROOT_PASSPHRASE: 'x' });
    const e = await code(r({ keyId: ID, alias: 'root', createNew: false, attempt: 1 }));
    expect(e.code).toBe('BAD_PASSPHRASE');
    expect(e.message).toContain('NOTARY_ROOT_PASSPHRASE');
  });

  it('<VAR>_FILE reads the passphrase from a file (one trailing newline stripped)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'signet-pass-'));
    const f = path.join(dir, 'p');
    writeFileSync(f, 'from file pass\n', { mode: 0o600 });
    const r = envPassphraseRetriever({ DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE_FILE: f });
    expect(await r({ keyId: ID, alias: 'targets', createNew: false, attempt: 0 })).toBe('from file pass');
    const missing = envPassphraseRetriever({ NOTARY_ROOT_PASSPHRASE_FILE: path.join(dir, 'nope') });
    expect((await code(missing({ keyId: ID, alias: 'root', createNew: false, attempt: 0 }))).code).toBe(
      'PASSPHRASE_REQUIRED',
    );
  });

  it('falls back when the alias has no variable', async () => {
    const fb: PassphraseRetriever = async () => 'fallback';
    const r = envPassphraseRetriever({ NOTARY_ROOT_PASSPHRASE: 'r' }, fb);
    expect(await r({ keyId: ID, alias: 'targets', createNew: false, attempt: 0 })).toBe('fallback');
  });
});

describe('promptPassphraseRetriever', () => {
  function io(lines: string): { input: PassThrough; output: PassThrough; out: () => string } {
    const input = new PassThrough();
    const output = new PassThrough();
    let text = '';
    output.on('data', (c: Buffer) => (text += c.toString()));
    input.write(lines);
    return { input, output, out: () => text };
  }

  it('reads an existing key passphrase and caches it per alias', async () => {
    const t = io('secret-one\n');
    const r = promptPassphraseRetriever({ input: t.input, output: t.output, isTTY: true });
    expect(await r({ keyId: ID, alias: 'targets', createNew: false, attempt: 0 })).toBe('secret-one');
    expect(await r({ keyId: ID, alias: 'targets', createNew: false, attempt: 0 })).toBe('secret-one');
    expect(t.out()).toContain('Enter passphrase for targets key with ID e3c38d8: ');
    expect(t.out()).not.toContain('secret-one');
  });

  it('new passphrase: too short and mismatch are retried, then accepted', async () => {
    const t = io('short\nlong enough 1\nlong enough 2\nlong enough 3\r\nlong enough 3\n');
    const r = promptPassphraseRetriever({ input: t.input, output: t.output, isTTY: true });
    expect(await r({ keyId: ID, alias: 'root', createNew: true, attempt: 0 })).toBe('long enough 3');
    expect(t.out()).toContain('too short');
    expect(t.out()).toContain('do not match');
    expect(t.out()).toContain('Repeat passphrase for new root key');
  });

  it('closed input → PASSPHRASE_REQUIRED rather than hanging', async () => {
    const t = io('');
    t.input.end();
    const r = promptPassphraseRetriever({ input: t.input, output: t.output, isTTY: true });
    const e = await code(r({ keyId: ID, alias: 'targets', createNew: false, attempt: 0 }));
    expect(e.code).toBe('PASSPHRASE_REQUIRED');
  });

  it('gives up after attempt 3', async () => {
    const t = io('a\n');
    const r = promptPassphraseRetriever({ input: t.input, output: t.output, isTTY: true });
    const e = await code(r({ keyId: ID, alias: 'targets', createNew: false, attempt: 4 }));
    expect(e.code).toBe('BAD_PASSPHRASE');
    expect(new SignetError('BAD_PASSPHRASE', 'x')).toBeInstanceOf(Error);
  });
});
