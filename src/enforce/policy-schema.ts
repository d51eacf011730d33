/**
 * The zod schema of the policy file and its validation (pure: the caller supplies file reads).
 * docs/policy.schema.json is `policyJsonSchema()`, committed (test/enforce/policy.test.ts compares).
 */
import path from 'node:path';
import { z } from 'zod';
import { SignetError } from '../errors.js';
import {
  DURATION,
  parseDuration,
  type Policy,
  type PolicyPins,
  type PolicyRule,
  type TrustServerConfig,
} from './policy.js';

const duration = z
  .string()
  .regex(DURATION, 'a duration such as "0", "90s", "15m", "1h" or "7d"')
  .describe('how long cached trust data may be used when the trust server is unreachable');

const keyId = z.string().regex(/^[0-9a-f]{64}$/, 'a key ID: 64 lower-case hex characters');

const trustServer = z
  .object({
    url: z.url({ protocol: /^https?$/ }).describe('trust server URL, https://host[:port]'),
    tlsCa: z.string().min(1).optional().describe('PEM CA file for the trust server, relative to the policy file'),
  })
  .strict();

const pins = z
  .union([
    z
      .object({ keyIds: z.array(keyId).min(1).describe('root certificate key IDs (as signet pin takes them)') })
      .strict(),
    z.object({ ca: z.string().min(1).describe('PEM CA file the root certificate must chain to') }).strict(),
    z.object({ tofu: z.literal(true).describe('explicit trust on first use') }).strict(),
  ])
  .describe('the root pin for matching repositories; absent: the trust dir pins (signet pin)');

const roleName = z
  .string()
  .regex(/^targets(\/[A-Za-z0-9_.*-]+)*$/, 'a role such as "targets", "targets/releases" or "targets/*"');

const signers = z
  .object({
    roles: z.array(roleName).min(1).describe('roles (delegations) whose signatures count; "*" matches one level'),
    min: z.number().int().min(1).default(1).describe('how many distinct roles must list the signed digest'),
  })
  .strict();

const rule = z
  .object({
    repository: z
      .string()
      .min(1)
      .describe('glob over the normalised repository name (docker.io/library/x): * within a path segment, ** across'),
    mode: z.enum(['enforce', 'report', 'skip']).default('enforce'),
    trustServer: trustServer.optional().describe('trust server for these repositories (overrides trustServers)'),
    pins: pins.optional(),
    signers: signers.optional(),
    maxStale: duration.optional(),
  })
  .strict();

export const policySchema = z
  .object({
    $schema: z.string().optional(),
    version: z.literal(1),
    trustServers: z
      .record(z.string().min(1), trustServer)
      .optional()
      .describe('trust server per registry host[:port] (docker.io for Docker Hub)'),
    rules: z.array(rule).describe('first matching rule wins; no match: enforce with the trust dir pins'),
  })
  .strict();

/** A JSON path as in the docs: $.rules[0].mode */
function jsonPath(p: ReadonlyArray<PropertyKey>): string {
  return '$' + p.map((k) => (typeof k === 'number' ? `[${k}]` : `.${String(k)}`)).join('');
}

function policyError(file: string, where: string, problem: string, fix: string): SignetError {
  return new SignetError('POLICY', `policy ${file}: ${where}: ${problem}`, {
    fix,
    details: { file, path: where },
  });
}

/**
 * Pure: the policy text → a validated Policy. `readFile` is given the path of a CA file (already
 * resolved) and returns its bytes; errors name the file, the JSON path and the fix.
 */
export function parsePolicy(text: string, file: string, readFile: (p: string) => Buffer): Policy {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw policyError(file, '$', `not JSON (${(e as Error).message})`, 'write the policy as JSON (docs/policy.md)');
  }
  const parsed = policySchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = jsonPath(issue?.path ?? []);
    throw policyError(
      file,
      where,
      issue?.message ?? 'invalid',
      `correct ${where} in ${file}; the schema is docs/policy.schema.json, examples in docs/policy.md`,
    );
  }
  const p = parsed.data;
  const dir = path.dirname(file);
  const readPem = (rel: string, where: string): Buffer => {
    const abs = path.resolve(dir, rel);
    try {
      return readFile(abs);
    } catch (e) {
      throw policyError(file, where, `cannot read ${abs} (${(e as Error).message})`, `check the path ${rel}`);
    }
  };
  const server = (s: z.infer<typeof trustServer>, where: string): TrustServerConfig => ({
    url: s.url.replace(/\/+$/, ''),
    ...(s.tlsCa !== undefined ? { ca: readPem(s.tlsCa, `${where}.tlsCa`) } : {}),
  });
  const trustServers: Record<string, TrustServerConfig> = {};
  for (const [host, s] of Object.entries(p.trustServers ?? {})) {
    trustServers[host] = server(s, `$.trustServers.${host}`);
  }
  const rules = p.rules.map((r, i): PolicyRule => {
    const where = `$.rules[${i}]`;
    let pinsOut: PolicyPins | undefined;
    if (r.pins !== undefined) {
      if ('keyIds' in r.pins) pinsOut = { keyIds: r.pins.keyIds };
      else if ('ca' in r.pins) pinsOut = { caPem: readPem(r.pins.ca, `${where}.pins.ca`).toString('utf8') };
      else pinsOut = { tofu: true };
    }
    return {
      repository: r.repository,
      mode: r.mode,
      ...(r.trustServer !== undefined ? { trustServer: server(r.trustServer, `${where}.trustServer`) } : {}),
      ...(pinsOut !== undefined ? { pins: pinsOut } : {}),
      ...(r.signers !== undefined ? { signers: { roles: r.signers.roles, min: r.signers.min } } : {}),
      ...(r.maxStale !== undefined ? { maxStaleMs: parseDuration(r.maxStale) as number } : {}),
    };
  });
  return { file, trustServers, rules };
}

/** The JSON Schema of the policy file (docs/policy.schema.json is this, committed). */
export function policyJsonSchema(): unknown {
  return z.toJSONSchema(policySchema, { io: 'input' });
}
