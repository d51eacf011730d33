/**
 * Pure policy logic (no I/O): which rule governs a repository, what a rule's pins are, and whether a
 * verified repository's tag satisfies the rule's signer requirement. Tag resolution itself is Docker's
 * (src/updater requireSignedTag); the rule adds "at least `min` distinct roles from `roles` list the
 * same digest".
 */
import { SignetError } from '../errors.js';
import { pathAllowed } from '../tuf/index.js';
import {
  listSignedTags,
  requireSignedTag,
  walkTargets,
  type ResolvedPin,
  type ResolvedTag,
  type TrustedRepo,
} from '../updater/index.js';
import type { Policy, PolicyRule } from './policy.js';

/** The rule used when no rule matches (and when there is no policy file): today's `signet verify`. */
export const DEFAULT_RULE: PolicyRule = { repository: '**', mode: 'enforce' };

const globCache = new Map<string, RegExp>();

/** `*` and `?` stay within one path segment, `**` crosses segments; everything else is literal. */
export function globToRegExp(glob: string): RegExp {
  const hit = globCache.get(glob);
  if (hit !== undefined) return hit;
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === '*' && glob[i + 1] === '*') {
      re += '.*';
      i++;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  const out = new RegExp(`^${re}$`);
  globCache.set(glob, out);
  return out;
}

/** The first rule whose repository glob matches the normalised repository name. */
export function matchRule(policy: Policy, repository: string): PolicyRule {
  return policy.rules.find((r) => globToRegExp(r.repository).test(repository)) ?? DEFAULT_RULE;
}

/** The trust server a rule names for a registry host (rule, then the per-host map); undefined: the caller's default. */
export function trustServerFor(policy: Policy, rule: PolicyRule, registryHost: string) {
  return rule.trustServer ?? policy.trustServers[registryHost];
}

/** A rule's pins as the updater takes them; undefined: the trust dir's pins apply. */
export function rulePin(rule: PolicyRule): ResolvedPin | undefined {
  const p = rule.pins;
  if (p === undefined) return undefined;
  if ('keyIds' in p) return { kind: 'certs', pattern: rule.repository, certs: p.keyIds };
  if ('caPem' in p) return { kind: 'ca', pattern: rule.repository, caPem: p.caPem };
  return { kind: 'tofu', pattern: rule.repository };
}

function roleMatches(patterns: readonly string[], role: string): boolean {
  return patterns.some((p) => globToRegExp(p).test(role));
}

/** Roles (among `patterns`) whose own, path-allowed entry for `tag` has exactly the signed hash and length. */
export function signingRoles(
  repo: TrustedRepo,
  tag: string,
  signed: ResolvedTag,
  patterns: readonly string[],
): string[] {
  const out: string[] = [];
  walkTargets(repo, tag, 'targets', (md, role) => {
    const targets = md.signed.targets;
    if (targets === null || targets === undefined || !Object.hasOwn(targets, tag)) return false;
    if (!pathAllowed(role.paths, tag) || !roleMatches(patterns, role.name)) return false;
    const meta = targets[tag];
    if (meta !== undefined && meta.hashes.sha256 === signed.hashes.sha256 && meta.length === signed.size)
      out.push(role.name);
    return false;
  });
  return out;
}

/** The tag's signed target under a rule: Docker's resolution, then the signer requirement. */
export function signedTarget(repo: TrustedRepo, tag: string, rule: PolicyRule, familiar: string): ResolvedTag {
  const signed = requireSignedTag(repo, tag, familiar);
  const need = rule.signers;
  if (need === undefined) return signed;
  const roles = signingRoles(repo, tag, signed, need.roles);
  if (roles.length >= need.min) return signed;
  throw new SignetError(
    'SIGNERS_REQUIRED',
    `${familiar}:${tag} (${signed.digest}) is signed by ${roles.length} of the ${need.min} distinct signers the policy requires from ${need.roles.join(', ')}${roles.length > 0 ? ` (signed by ${roles.join(', ')})` : ''}`,
    {
      fix: `have more of ${need.roles.join(', ')} sign this digest (docker trust sign / signet sign with their keys), or change the rule for ${rule.repository}`,
      details: { tag, digest: signed.digest, signedBy: roles, required: need.min, roles: need.roles },
    },
  );
}

/** Every digest a tag of the repository resolves to under the rule (tags failing the rule are left out). */
export function allowedDigests(repo: TrustedRepo, rule: PolicyRule, familiar: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const t of listSignedTags(repo)) {
    try {
      const s = signedTarget(repo, t.tag, rule, familiar);
      out.set(s.digest, [...(out.get(s.digest) ?? []), t.tag]);
    } catch {
      // a tag that does not satisfy the rule allows nothing
    }
  }
  return out;
}

/** When the trusted data stops being usable: the earliest expiry among the loaded roles. */
export function metadataExpiry(repo: TrustedRepo): number {
  let min = Infinity;
  for (const md of [repo.root, repo.timestamp, repo.snapshot, repo.targets, ...repo.delegations.values()]) {
    const t = Date.parse(md.signed.expires);
    if (Number.isFinite(t) && t < min) min = t;
  }
  return min;
}
