import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isSignetError } from '../../src/errors.js';
import { PinStore, applyPin, resolvePin } from '../../src/updater/index.js';
import { certificatePublicKey } from '../../src/tuf/index.js';
import { rootKey } from '../simulator/repo.js';
import { makeTestCA } from '../harness/tls.js';

const dirs: string[] = [];
afterEach(async () => {
  while (dirs.length > 0) await rm(dirs.pop() as string, { recursive: true, force: true });
});

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);

describe('resolvePin (notary precedence)', () => {
  it('prefers exact certs, then the longest wildcard, then CA, then TOFU', () => {
    const pins = {
      'reg/team/*': { certs: [A] },
      'reg/team/app*': { certs: [B] },
      'reg/*': { caPem: 'PEM' },
      'other/*': { tofu: true },
    };
    expect(resolvePin(pins, 'reg/team/app')).toEqual({ kind: 'certs', pattern: 'reg/team/app*', certs: [B] });
    expect(resolvePin(pins, 'reg/team/x')).toEqual({ kind: 'certs', pattern: 'reg/team/*', certs: [A] });
    expect(resolvePin({ ...pins, 'reg/team/x': { certs: [B] } }, 'reg/team/x').kind).toBe('certs');
    expect(resolvePin(pins, 'reg/solo')).toEqual({ kind: 'ca', pattern: 'reg/*', caPem: 'PEM' });
    expect(resolvePin(pins, 'other/y')).toEqual({ kind: 'tofu', pattern: 'other/*' });
    expect(resolvePin(pins, 'nowhere/z')).toEqual({ kind: 'none' });
  });
});

describe('applyPin', () => {
  it('accepts pinned cert IDs (TUF or canonical) and refuses others', async () => {
    const k = await rootKey('g/a', new Date());
    const opts = { gun: 'g/a', now: new Date(), firstBootstrap: true, tofu: false };
    expect(applyPin({ kind: 'certs', pattern: 'g/a', certs: [k.pub.id] }, [k.pub], opts)).toHaveLength(1);
    expect(applyPin({ kind: 'certs', pattern: 'g/a', certs: [k.pub.canonicalId] }, [k.pub], opts)).toHaveLength(1);
    expect(() => applyPin({ kind: 'certs', pattern: 'g/a', certs: [A] }, [k.pub], opts)).toThrow(
      expect.objectContaining({ code: 'PIN_MISMATCH' }),
    );
    expect(() => applyPin({ kind: 'none' }, [k.pub], opts)).toThrow(
      expect.objectContaining({ code: 'UNTRUSTED_ROOT' }),
    );
    expect(applyPin({ kind: 'none' }, [k.pub], { ...opts, tofu: true })).toHaveLength(1);
    expect(applyPin({ kind: 'none' }, [k.pub], { ...opts, firstBootstrap: false })).toHaveLength(1);
  });

  it('checks a CA pin by chaining the leaf to the bundle', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'signet-pins-ca-'));
    dirs.push(dir);
    const ca = await makeTestCA(dir);
    const leaf = await ca.issue('leaf', { cn: 'leaf' });
    const leafKey = certificatePublicKey(await readFile(leaf.cert, 'utf8'));
    const caPem = await readFile(ca.caCert, 'utf8');
    const selfSigned = await rootKey('g/a', new Date());
    const opts = { gun: 'g/a', now: new Date(), firstBootstrap: true, tofu: false };
    expect(applyPin({ kind: 'ca', pattern: 'g/*', caPem }, [leafKey, selfSigned.pub], opts)).toEqual([leafKey]);
    try {
      applyPin({ kind: 'ca', pattern: 'g/*', caPem }, [selfSigned.pub], opts);
      expect.unreachable();
    } catch (e) {
      expect(isSignetError(e, 'PIN_MISMATCH')).toBe(true);
    }
  });
});

describe('PinStore', () => {
  it('writes <trustDir>/signet/pins.json with mode 0600 and reads it back', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'signet-pins-'));
    dirs.push(dir);
    const store = new PinStore(dir);
    await store.setCerts('reg/app', [A.toUpperCase()]);
    await store.setTofu('reg/dev*');
    expect((await store.resolve('reg/app')).kind).toBe('certs');
    expect((await store.resolve('reg/dev-x')).kind).toBe('tofu');
    expect((await store.list()).map((p) => p.pattern)).toEqual(['reg/app', 'reg/dev*']);
    expect((await stat(store.file)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(store.file, 'utf8')).pins['reg/app'].certs).toEqual([A]);
    expect(await store.remove('reg/app')).toBe(true);
    expect((await store.resolve('reg/app')).kind).toBe('none');
    await expect(store.setCerts('x', ['nothex'])).rejects.toMatchObject({ code: 'USAGE' });
  });
});
