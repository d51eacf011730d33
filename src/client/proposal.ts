/**
 * Proposals: one change signed by several key holders in turn, for roles whose threshold is above 1
 * (docs/thresholds.md). The first holder applies the change and signs it with the keys of their
 * trust dir; the file then goes from holder to holder (`signProposal` adds each one's signatures)
 * and the last one publishes it (`publishProposal`, refused below a role's threshold). Nothing is
 * uploaded before that, and the server refuses a role below its threshold anyway
 * (N:server/handlers/validation.go, src/validation/validate-update.ts).
 *
 * A proposal carries the exact files to upload and the base it was made on: version and sha256 of
 * every role it rewrites and of each one's delegator, as the verified trust data had them. Signing
 * and publishing first re-read the verified trust data and refuse when any of those moved on.
 */
import { sha256Hex } from '../digest.js';
import { SignetError, isSignetError } from '../errors.js';
import {
  SignatureBudget,
  delegatorKeys,
  parentRole,
  parseRoot,
  parseTargets,
  rootRoleKeys,
  signMetadata,
  verifyDelegate,
  type Metadata,
  type RoleKeySet,
  type RootSigned,
  type Signer,
  type TargetsSigned,
} from '../tuf/index.js';
import type { Change } from './change.js';
import type { PublishReport, Repository, TrustedView } from './repository.js';
import { signDirty, signSnapshot, type PublishPart } from './sign-dirty.js';
import { delegationRoles, signerName } from './view.js';
import { WorkingRepo } from './working.js';
import { uploadParts } from './upload.js';

export const PROPOSAL_FORMAT = 'signet-proposal/1';

/** A role file as the base of a proposal saw it; null: the role had no file. */
export type RoleRef = { version: number; sha256: string } | null;

/** The proposal file (JSON). */
export interface Proposal {
  format: typeof PROPOSAL_FORMAT;
  gun: string;
  created: string;
  base: Record<string, RoleRef>;
  /** the files to upload, in upload order: base64 of their exact bytes */
  roles: { role: string; file: string }[];
  /** delegations the change removes: a snapshot signed at publish no longer lists them */
  deleted?: string[];
}

/** Signatures of one proposed role under the keys its (proposed or current) delegator assigns. */
export interface RoleSignatures {
  role: string;
  version: number;
  threshold: number;
  /** canonical key IDs with a valid signature, distinct keys only */
  signedBy: string[];
  /** signer names (`targets/<name>` roles listing the key) of each signedBy key, '' when none */
  signerNames: string[];
  /** canonical key IDs of the role that have not signed */
  waitingFor: string[];
  complete: boolean;
}

/** Read a proposal file; MALFORMED_METADATA naming the file when it is not one. zod is loaded only here. */
export async function parseProposal(text: string, file: string): Promise<Proposal> {
  const { proposalShape } = await import('./proposal-schema.js');
  try {
    const p = proposalShape(JSON.parse(text));
    const seen = new Set<string>();
    for (const r of p.roles) {
      if (seen.has(r.role)) throw new Error(`${r.role} is listed twice`);
      seen.add(r.role);
      proposedFile(r);
    }
    return p;
  } catch (e) {
    throw new SignetError('MALFORMED_METADATA', `${file} is not a signet proposal: ${(e as Error).message}`, {
      cause: e,
      fix: 'pass the file written by `signet sign … --proposal FILE` or `signet proposal create`',
    });
  }
}

export function formatProposal(p: Proposal): string {
  return `${JSON.stringify(p, null, 2)}\n`;
}

type ProposedFile = Metadata<RootSigned> | Metadata<TargetsSigned>;

function proposedFile(r: { role: string; file: string }): ProposedFile {
  const bytes = Buffer.from(r.file, 'base64');
  if (r.role === 'root') return parseRoot(bytes);
  if (r.role === 'targets' || r.role.startsWith('targets/')) return parseTargets(r.role, bytes);
  throw new SignetError('MALFORMED_METADATA', `a proposal carries root and targets roles only, not ${r.role}`);
}

function roleRef(view: TrustedView, role: string): RoleRef {
  const md = role === 'root' ? view.root : role === 'targets' ? view.targets : view.delegations.get(role);
  return md === undefined ? null : { version: md.signed.version, sha256: sha256Hex(md.bytes) };
}

/** The roles a proposed role's validity depends on: itself and its delegator. */
function baseRolesOf(role: string): string[] {
  if (role === 'root') return ['root'];
  if (role === 'targets') return ['root', 'targets'];
  return [parentRole(role) ?? 'targets', role];
}

/** Apply `changes` (and the staged ones with `includeStaged`) and sign what we can: the proposal. */
export async function createProposal(
  repo: Repository,
  changes: Change[],
  opts: { includeStaged?: boolean; now?: Date } = {},
): Promise<{ proposal: Proposal; stagedFiles: string[]; signatures: RoleSignatures[] }> {
  const view = await readPublished(repo);
  const staged = opts.includeStaged === true ? await repo.changelist.list() : [];
  if (staged.length === 0 && changes.length === 0) {
    throw new SignetError('USAGE', `nothing to propose for ${repo.gun}: no change given and none staged`);
  }
  const work = new WorkingRepo({ gun: repo.gun, ...view }, repo.keySource());
  for (const { change } of staged) await work.apply(change);
  for (const c of changes) await work.apply(c);
  const now = opts.now ?? new Date();
  const parts = await signDirty(work, {
    now,
    initial: false,
    partial: true,
    serverVersion: (role) => repo.serverVersion(role),
  });
  const base: Record<string, RoleRef> = {};
  for (const p of parts) for (const r of baseRolesOf(p.role)) base[r] = roleRef(view, r);
  const proposal: Proposal = {
    format: PROPOSAL_FORMAT,
    gun: repo.gun,
    created: now.toISOString(),
    base,
    roles: parts.map((p) => ({ role: p.role, file: p.bytes.toString('base64') })),
    ...(work.deleted.size > 0 ? { deleted: [...work.deleted] } : {}),
  };
  return { proposal, stagedFiles: staged.map((s) => s.file), signatures: proposalSignatures(view, proposal) };
}

/** The verified trust data a proposal starts from; NOT_INITIALIZED (with the fix) when the server has none. */
export async function readPublished(repo: Repository): Promise<TrustedView> {
  try {
    return await repo.read({ forWrite: true });
  } catch (e) {
    if (!isSignetError(e, 'REPOSITORY_NOT_FOUND')) throw e;
    throw new SignetError('NOT_INITIALIZED', `${repo.gun} has no trust data on the server`, {
      cause: e,
      fix: `publish the repository first (\`signet init ${repo.gun}\` and \`signet publish ${repo.gun}\`); proposals change published trust data`,
    });
  }
}

/** CONFLICT unless the verified trust data is still what the proposal was made on. */
export function checkBase(view: TrustedView, p: Proposal, gun: string): void {
  if (p.gun !== gun) {
    throw new SignetError('USAGE', `the proposal is for ${p.gun}, not ${gun}`);
  }
  const published = p.roles.every((r) => roleRef(view, r.role)?.sha256 === sha256Hex(Buffer.from(r.file, 'base64')));
  if (published) {
    throw new SignetError('CONFLICT', `this proposal is already published: ${gun} serves its files`, {
      fix: 'nothing to do; a further change needs a new proposal',
    });
  }
  for (const [role, want] of Object.entries(p.base)) {
    const now = roleRef(view, role);
    if (now?.sha256 === want?.sha256) continue;
    const seen = (r: RoleRef): string => (r === null ? 'did not exist' : `was version ${r.version}`);
    throw new SignetError(
      'CONFLICT',
      `${gun} moved on since the proposal was made: ${role} ${now === null ? 'no longer exists' : `is now version ${now.version}`} (it ${seen(want)})`,
      {
        fix: 'this proposal can no longer be published; make a new one from the current trust data and have it signed again',
        details: { role, base: want, current: now },
      },
    );
  }
}

interface ProposedRole {
  role: string;
  md: ProposedFile;
  keys: RoleKeySet;
}

/** Each proposed file with the key set it must meet: from the proposed delegator when the proposal rewrites it. */
function proposedRoles(view: TrustedView, p: Proposal): ProposedRole[] {
  const files = new Map(p.roles.map((r) => [r.role, proposedFile(r)]));
  const root = (files.get('root') as Metadata<RootSigned> | undefined)?.signed ?? view.root.signed;
  const budget = new SignatureBudget();
  return p.roles.map(({ role }) => {
    const md = files.get(role) as ProposedFile;
    if (role === 'root') return { role, md, keys: rootRoleKeys(root, 'root', budget) };
    const parentName = parentRole(role);
    const parent =
      parentName === undefined
        ? undefined
        : ((files.get(parentName) as Metadata<TargetsSigned> | undefined)?.signed ??
          (parentName === 'targets' ? view.targets.signed : view.delegations.get(parentName)?.signed));
    const d = delegatorKeys(role, root, parent, budget);
    if (!d.ok) {
      throw new SignetError('INVALID_ROLE', `the proposal uploads ${role}, which ${d.parent} does not delegate`);
    }
    return { role, md, keys: d.keys };
  });
}

/** Who has signed each proposed role, and whether its threshold is met. */
export function proposalSignatures(view: TrustedView, p: Proposal): RoleSignatures[] {
  const names = new Map<string, string[]>();
  for (const d of delegationRoles(view)) {
    if (d.name.split('/').length !== 2 || d.name === 'targets/releases') continue;
    for (const id of d.keyIds) names.set(id, [...(names.get(id) ?? []), signerName(d.name)]);
  }
  return proposedRoles(view, p).map(({ role, md, keys }) => {
    const r = verifyDelegate(md, { ...keys, threshold: Math.max(keys.keyids.length, 1) });
    const canon = (id: string): string => keys.keys[id]?.canonicalId ?? id;
    const signedBy = r.valid.map(canon);
    return {
      role,
      version: md.signed.version,
      threshold: keys.threshold,
      signedBy,
      signerNames: signedBy.map((id) => (names.get(id) ?? []).join('+')),
      waitingFor: keys.keyids.map(canon).filter((id) => !signedBy.includes(id)),
      complete: r.valid.length >= keys.threshold,
    };
  });
}

/** Add the signatures of every key of the trust dir that a proposed role lists and that has not signed. */
export async function signProposal(
  repo: Repository,
  p: Proposal,
): Promise<{ proposal: Proposal; added: { role: string; keyId: string }[]; signatures: RoleSignatures[] }> {
  const view = await readPublished(repo);
  checkBase(view, p, repo.gun);
  const source = repo.keySource();
  const before = proposalSignatures(view, p);
  const added: { role: string; keyId: string }[] = [];
  const roles: Proposal['roles'] = [];
  const proposed = proposedRoles(view, p);
  for (const [i, { role, md, keys }] of proposed.entries()) {
    const signed = new Set(before[i]?.signedBy ?? []);
    const signers: Signer[] = [];
    for (const id of keys.keyids) {
      const pk = keys.keys[id];
      if (pk === undefined || signed.has(pk.canonicalId)) continue;
      const s = await source.signer(pk);
      if (s === undefined) continue;
      signers.push(s);
      signed.add(pk.canonicalId);
      added.push({ role, keyId: pk.canonicalId });
    }
    const next = signers.length === 0 ? md : await signMetadata(role, md.signed, signers, md.signatures);
    roles.push({ role, file: next.bytes.toString('base64') });
  }
  if (added.length === 0) {
    throw new SignetError(
      'KEY_NOT_FOUND',
      `the trust dir holds no key that can still sign this proposal for ${repo.gun}`,
      {
        fix: 'sign it with the trust dir of a key holder that has not signed yet (see `signet proposal show FILE`)',
      },
    );
  }
  const proposal = { ...p, roles };
  return { proposal, added, signatures: proposalSignatures(view, proposal) };
}

/**
 * Publish a proposal whose every role meets its threshold, with a snapshot signed here when the
 * trust dir holds the snapshot key (else the server makes it). THRESHOLD while any role is below.
 */
export async function publishProposal(
  repo: Repository,
  p: Proposal,
  opts: { now?: Date } = {},
): Promise<PublishReport & { signatures: RoleSignatures[] }> {
  const view = await readPublished(repo);
  checkBase(view, p, repo.gun);
  const signatures = proposalSignatures(view, p);
  const short = signatures.filter((s) => !s.complete);
  if (short.length > 0) {
    const what = short.map((s) => `${s.role} has ${s.signedBy.length} of ${s.threshold} required signatures`);
    throw new SignetError(
      'THRESHOLD',
      `the proposal for ${repo.gun} is not signed enough to publish: ${what.join('; ')}`,
      {
        fix: `have another key holder add their signature with signet's \`proposal sign\` command, in their own trust dir (waiting for: ${short
          .map((s) => `${s.role}: ${s.waitingFor.join(', ')}`)
          .join('; ')})`,
        details: { roles: short },
      },
    );
  }
  const parts: PublishPart[] = p.roles.map((r) => ({ role: r.role, bytes: Buffer.from(r.file, 'base64') }));
  const work = new WorkingRepo({ gun: repo.gun, ...view }, repo.keySource());
  for (const d of p.deleted ?? []) work.deleted.add(d);
  const snapshot = await signSnapshot(work, new Map(parts.map((x) => [x.role, x.bytes])), opts.now ?? new Date());
  if (snapshot !== undefined) parts.push({ role: 'snapshot', bytes: snapshot.bytes });
  await uploadParts(repo, parts);
  return { roles: parts.map((x) => x.role), initial: false, changes: p.roles.length, signatures };
}
