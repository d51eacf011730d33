/**
 * What a proposal changes, worked out from its signed files against the verified trust data (never
 * from a description its author wrote): what a co-signer reads before `signet proposal sign`.
 */
import {
  fileMetaSha256Hex,
  parseRoot,
  parseTargets,
  publicKeyFromJson,
  type FileMeta,
  type KeyJson,
  type RootSigned,
  type TargetsSigned,
} from '../tuf/index.js';
import type { Proposal } from './proposal.js';
import type { TrustedView } from './repository.js';

const target = (m: FileMeta): string => `sha256:${fileMetaSha256Hex(m) ?? '?'} (${m.length} bytes)`;

function canonicalIds(keys: Record<string, KeyJson> | null | undefined, ids: string[]): string[] {
  return ids.map((id) => {
    const k = keys?.[id];
    try {
      return k === undefined ? id : publicKeyFromJson(k).canonicalId;
    } catch {
      return id;
    }
  });
}

function keyDiff(before: string[], after: string[]): string[] {
  const out: string[] = [];
  for (const id of after) if (!before.includes(id)) out.push(`+key ${id}`);
  for (const id of before) if (!after.includes(id)) out.push(`-key ${id}`);
  return out;
}

function diffTargets(role: string, before: TargetsSigned | undefined, after: TargetsSigned): string[] {
  const out: string[] = [];
  const old = before?.targets ?? {};
  for (const [name, meta] of Object.entries(after.targets ?? {})) {
    const prev = Object.hasOwn(old, name) ? old[name] : undefined;
    if (prev === undefined) out.push(`  ${role}: sign ${name} → ${target(meta)}`);
    else if (target(prev) !== target(meta)) out.push(`  ${role}: re-sign ${name}: ${target(prev)} → ${target(meta)}`);
  }
  for (const name of Object.keys(old)) {
    if (!Object.hasOwn(after.targets ?? {}, name)) out.push(`  ${role}: remove ${name}`);
  }
  const oldDels = new Map((before?.delegations?.roles ?? []).map((d) => [d.name, d]));
  for (const d of after.delegations?.roles ?? []) {
    const ids = canonicalIds(after.delegations?.keys, d.keyids);
    const prev = oldDels.get(d.name);
    if (prev === undefined) {
      out.push(
        `  ${role}: delegate ${d.name} to ${ids.join(', ')}, threshold ${d.threshold}, paths ${JSON.stringify(d.paths ?? [])}`,
      );
      continue;
    }
    const changes = keyDiff(canonicalIds(before?.delegations?.keys, prev.keyids), ids);
    if (prev.threshold !== d.threshold) changes.push(`threshold ${prev.threshold} → ${d.threshold}`);
    if (JSON.stringify(prev.paths ?? []) !== JSON.stringify(d.paths ?? []))
      changes.push(`paths ${JSON.stringify(prev.paths ?? [])} → ${JSON.stringify(d.paths ?? [])}`);
    if (changes.length > 0) out.push(`  ${role}: delegation ${d.name}: ${changes.join(', ')}`);
  }
  const kept = new Set((after.delegations?.roles ?? []).map((d) => d.name));
  for (const name of oldDels.keys()) if (!kept.has(name)) out.push(`  ${role}: remove delegation ${name}`);
  return out;
}

function diffRoot(before: RootSigned, after: RootSigned): string[] {
  const out: string[] = [];
  for (const [name, r] of Object.entries(after.roles)) {
    const prev = before.roles[name];
    const changes = keyDiff(canonicalIds(before.keys, prev?.keyids ?? []), canonicalIds(after.keys, r.keyids));
    if (prev?.threshold !== r.threshold) changes.push(`threshold ${prev?.threshold ?? 0} → ${r.threshold}`);
    if (changes.length > 0) out.push(`  root: ${name} role: ${changes.join(', ')}`);
  }
  return out;
}

/** One line per change (indented), after a line per role with its version step. */
export function describeProposal(view: TrustedView, p: Proposal): string[] {
  const out: string[] = [];
  for (const r of p.roles) {
    const bytes = Buffer.from(r.file, 'base64');
    if (r.role === 'root') {
      const md = parseRoot(bytes);
      out.push(`root v${view.root.signed.version} → v${md.signed.version}, expires ${md.signed.expires}`);
      out.push(...diffRoot(view.root.signed, md.signed));
      continue;
    }
    const md = parseTargets(r.role, bytes);
    const before = r.role === 'targets' ? view.targets : view.delegations.get(r.role);
    out.push(
      `${r.role} ${before === undefined ? '(new)' : `v${before.signed.version}`} → v${md.signed.version}, expires ${md.signed.expires}`,
    );
    const lines = diffTargets(r.role, before?.signed, md.signed);
    out.push(...(lines.length > 0 ? lines : [`  ${r.role}: re-signed, no change of content`]));
  }
  return out;
}
