/**
 * The enforcement policy shared by `signet verify --policy`, `signet proxy` and `signet admission`
 * (docs/policy.md): its validated form, the built-in default (no file), durations, and `loadPolicy`.
 * The zod schema lives in policy-schema.ts and is loaded only when a policy file is read (zod takes a
 * noticeable time to load, and plain `signet verify` should not pay for it).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { SignetError } from '../errors.js';

// the one duration syntax, shared with the server's flags (src/duration.ts)
export { DURATION, parseDuration } from '../duration.js';

export type EnforcementMode = 'enforce' | 'report' | 'skip';

export interface TrustServerConfig {
  url: string;
  /** PEM bytes of the CA file, read at load */
  ca?: Buffer;
}

export type PolicyPins = { keyIds: string[] } | { caPem: string } | { tofu: true };

export interface PolicyRule {
  repository: string;
  mode: EnforcementMode;
  trustServer?: TrustServerConfig;
  pins?: PolicyPins;
  signers?: { roles: string[]; min: number };
  /** undefined: no staleness allowance from the policy (the cache is not used when the server is down) */
  maxStaleMs?: number;
}

export interface Policy {
  /** the file it came from; undefined for the built-in default */
  file?: string;
  trustServers: Record<string, TrustServerConfig>;
  rules: PolicyRule[];
}

/** No policy file: today's `signet verify` (enforce everything, pins from the trust dir). */
export const DEFAULT_POLICY: Policy = { trustServers: {}, rules: [] };

/** Read and validate a policy file (POLICY errors name the file, the JSON path and the fix). */
export async function loadPolicy(file: string): Promise<Policy> {
  const abs = path.resolve(file);
  let text: string;
  try {
    text = await readFile(abs, 'utf8');
  } catch (e) {
    throw new SignetError('POLICY', `cannot read the policy file ${abs}: ${(e as Error).message}`, {
      fix: 'check the path given to --policy',
      cause: e,
    });
  }
  const { parsePolicy } = await import('./policy-schema.js');
  const pems = new Map<string, Buffer>();
  // CA files named by the policy are read before validation finishes (parsePolicy is synchronous)
  for (const rel of referencedFiles(text)) {
    const p = path.resolve(path.dirname(abs), rel);
    try {
      pems.set(p, await readFile(p));
    } catch {
      // parsePolicy reports the unreadable file with its JSON path
    }
  }
  return parsePolicy(text, abs, (p) => {
    const b = pems.get(p);
    if (b === undefined) throw new Error('cannot read the file');
    return b;
  });
}

/** File names a policy text refers to (tlsCa, pins.ca); best effort, validation happens in parsePolicy. */
function referencedFiles(text: string): string[] {
  const out: string[] = [];
  try {
    JSON.parse(text, (k, v: unknown) => {
      if ((k === 'tlsCa' || k === 'ca') && typeof v === 'string') out.push(v);
      return v;
    });
  } catch {
    // not JSON: parsePolicy says so
  }
  return out;
}
