// The policy file: validation errors name the file, the JSON path and the fix; the committed JSON
// Schema is the zod schema's; rule matching and pins are pure.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_POLICY,
  globToRegExp,
  loadPolicy,
  matchRule,
  parseDuration,
  rulePin,
} from '../../src/enforce/index.js';
import { parsePolicy, policyJsonSchema } from '../../src/enforce/policy-schema.js';
import { isSignetError, type SignetError } from '../../src/errors.js';

const KEY = 'a'.repeat(64);
const noFiles = (p: string): Buffer => {
  throw new Error(`unexpected read of ${p}`);
};

function policyError(text: string): SignetError {
  try {
    parsePolicy(text, '/etc/signet/policy.json', noFiles);
  } catch (e) {
    if (isSignetError(e, 'POLICY')) return e;
    throw e;
  }
  throw new Error('parsePolicy accepted the policy');
}

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'signet-policy-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('policy file', () => {
  it('docs/policy.schema.json is the JSON Schema of the zod schema', async () => {
    const committed = JSON.parse(
      await readFile(path.join(__dirname, '../../docs/policy.schema.json'), 'utf8'),
    ) as unknown;
    expect(committed).toEqual(policyJsonSchema());
  });

  it('the example in docs/policy.md is a valid policy', async () => {
    const md = await readFile(path.join(__dirname, '../../docs/policy.md'), 'utf8');
    const example = /```json\n([\s\S]*?)```/.exec(md)?.[1] ?? '';
    const p = parsePolicy(example, '/docs/policy.json', () => Buffer.from('PEM'));
    expect(p.rules.map((r) => r.mode)).toEqual(['report', 'enforce', 'enforce', 'skip']);
    expect(p.rules[1]?.signers).toEqual({ roles: ['targets/alice', 'targets/bob', 'targets/carol'], min: 2 });
  });

  it('parses a full policy; CA files are read relative to the policy file', async () => {
    await writeFile(path.join(tmp, 'ca.pem'), 'CA-PEM');
    await writeFile(path.join(tmp, 'server-ca.pem'), 'SERVER-CA');
    const file = path.join(tmp, 'policy.json');
    await writeFile(
      file,
      JSON.stringify({
        version: 1,
        trustServers: { 'registry.example.com': { url: 'https://notary.example.com:4443/', tlsCa: 'server-ca.pem' } },
        rules: [
          { repository: 'registry.example.com/legacy/**', mode: 'report', maxStale: '1h' },
          {
            repository: 'registry.example.com/team/*',
            pins: { keyIds: [KEY] },
            signers: { roles: ['targets/alice', 'targets/bob'], min: 2 },
          },
          { repository: 'registry.example.com/ca/*', pins: { ca: 'ca.pem' } },
          { repository: '**', mode: 'skip', pins: { tofu: true } },
        ],
      }),
    );
    const p = await loadPolicy(file);
    expect(p.trustServers['registry.example.com']).toEqual({
      url: 'https://notary.example.com:4443',
      ca: Buffer.from('SERVER-CA'),
    });
    expect(p.rules[0]).toEqual({ repository: 'registry.example.com/legacy/**', mode: 'report', maxStaleMs: 3_600_000 });
    expect(p.rules[1]).toMatchObject({ mode: 'enforce', signers: { roles: ['targets/alice', 'targets/bob'], min: 2 } });
    expect(rulePin(p.rules[1]!)).toEqual({ kind: 'certs', pattern: 'registry.example.com/team/*', certs: [KEY] });
    expect(rulePin(p.rules[2]!)).toEqual({ kind: 'ca', pattern: 'registry.example.com/ca/*', caPem: 'CA-PEM' });
    expect(rulePin(p.rules[3]!)).toEqual({ kind: 'tofu', pattern: '**' });
  });

  it.each([
    ['{"version":1,"rules":[{"repository":"x/*","mode":"block"}]}', '$.rules[0].mode'],
    ['{"version":1,"rules":[{"repository":"x/*","maxStale":"an hour"}]}', '$.rules[0].maxStale'],
    ['{"version":1,"rules":[{"repository":"x/*","pins":{"keyIds":["abc"]}}]}', '$.rules[0].pins.keyIds[0]'],
    ['{"version":1,"rules":[{"repository":"x/*","signers":{"roles":["alice"]}}]}', '$.rules[0].signers.roles[0]'],
    ['{"version":1,"rules":[{"repository":"x/*","colour":"red"}]}', '$.rules[0]'],
    ['{"version":2,"rules":[]}', '$.version'],
    ['{"version":1,"rules":[]', '$'],
  ])('refuses %s naming the file, the JSON path and the fix', (text, where) => {
    const e = policyError(text);
    expect(e.message).toContain('/etc/signet/policy.json');
    expect(e.details?.path).toBe(where);
    expect(e.message).toContain(`${where}:`);
    expect(e.fix).toBeTruthy();
  });

  it('names an unreadable CA file with its JSON path', async () => {
    const file = path.join(tmp, 'missing-ca.json');
    await writeFile(file, '{"version":1,"rules":[{"repository":"**","pins":{"ca":"nope.pem"}}]}');
    await expect(loadPolicy(file)).rejects.toMatchObject({ code: 'POLICY', details: { path: '$.rules[0].pins.ca' } });
    await expect(loadPolicy(path.join(tmp, 'absent.json'))).rejects.toMatchObject({ code: 'POLICY' });
  });

  it('durations', () => {
    expect(parseDuration('0')).toBe(0);
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('15m')).toBe(900_000);
    expect(parseDuration('7d')).toBe(7 * 86_400_000);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('1.5h')).toBeUndefined();
    expect(parseDuration('-1s')).toBeUndefined();
  });
});

describe('rule matching', () => {
  it('globs: * within a segment, ** across segments, first match wins', () => {
    expect(globToRegExp('reg.io/team/*').test('reg.io/team/app')).toBe(true);
    expect(globToRegExp('reg.io/team/*').test('reg.io/team/sub/app')).toBe(false);
    expect(globToRegExp('reg.io/team/**').test('reg.io/team/sub/app')).toBe(true);
    expect(globToRegExp('reg.io:5000/a?c').test('reg.io:5000/abc')).toBe(true);
    expect(globToRegExp('reg.io/a.c').test('reg.io/abc')).toBe(false);
    const policy = {
      trustServers: {},
      rules: [
        { repository: 'reg.io/team/legacy', mode: 'report' as const },
        { repository: 'reg.io/team/**', mode: 'enforce' as const },
        { repository: '**', mode: 'skip' as const },
      ],
    };
    expect(matchRule(policy, 'reg.io/team/legacy').mode).toBe('report');
    expect(matchRule(policy, 'reg.io/team/app').mode).toBe('enforce');
    expect(matchRule(policy, 'docker.io/library/alpine').mode).toBe('skip');
  });

  it('no policy: enforce everything with the trust dir pins and no staleness allowance', () => {
    const r = matchRule(DEFAULT_POLICY, 'docker.io/library/alpine');
    expect(r.mode).toBe('enforce');
    expect(rulePin(r)).toBeUndefined();
    expect(r.maxStaleMs).toBeUndefined();
  });
});
