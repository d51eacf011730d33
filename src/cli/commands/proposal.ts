/**
 * `signet proposal create|show|sign|publish`: one change co-signed by several key holders, each with
 * their own trust dir, for roles whose threshold is above 1 (docs/thresholds.md). `sign --proposal`,
 * `signer add|threshold --proposal` and `repository-key … --proposal` write proposals too.
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { SignetError } from '../../errors.js';
import type { Change, Proposal, Repository, RoleSignatures } from '../../client/index.js';
import { printJson, type Output } from '../output.js';
import { clientContext, runAction, type ClientContext } from './common.js';

/** The signature state of each role, one line each. */
export function formatSignatures(sigs: RoleSignatures[]): string {
  return sigs
    .map((s) => {
      const who = s.signedBy.map((id, i) => (s.signerNames[i] ? `${id} (${s.signerNames[i]})` : id));
      const state = s.complete
        ? 'complete'
        : `waiting for ${s.threshold - s.signedBy.length} more of: ${s.waitingFor.join(', ')}`;
      return `  ${s.role}: ${s.signedBy.length} of ${s.threshold} required signatures — ${state}${who.length > 0 ? `\n    signed by ${who.join(', ')}` : ''}\n`;
    })
    .join('');
}

async function readProposalFile(file: string): Promise<Proposal> {
  const { parseProposal } = await import('../../client/index.js');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new SignetError('USAGE', `cannot read proposal file ${file}`, { cause: e });
  }
  return parseProposal(text, file);
}

async function writeProposalFile(file: string, p: Proposal): Promise<void> {
  const { formatProposal } = await import('../../client/index.js');
  const { writeFileAtomic } = await import('../../fs/index.js');
  await writeFileAtomic(file, formatProposal(p), { mode: 0o644 });
}

/**
 * Write `changes` (plus the staged ones with `includeStaged`) as a proposal to `file` and print what
 * it holds: the shared end of every `--proposal` flag.
 */
export async function proposeChanges(
  ctx: ClientContext,
  repo: Repository,
  changes: Change[],
  file: string,
  opts: { includeStaged?: boolean; json?: boolean } = {},
): Promise<Record<string, unknown>> {
  const { createProposal, describeProposal } = await import('../../client/index.js');
  const res = await createProposal(repo, changes, { includeStaged: opts.includeStaged === true });
  await writeProposalFile(file, res.proposal);
  if (res.stagedFiles.length > 0) await repo.changelist.clear(res.stagedFiles);
  const complete = res.signatures.every((s) => s.complete);
  if (opts.json !== true) {
    ctx.out.out(`Wrote proposal ${file} for ${repo.gun}:\n`);
    const view = await repo.read();
    ctx.out.out(`${describeProposal(view, res.proposal).join('\n')}\nSignatures:\n`);
    ctx.out.out(formatSignatures(res.signatures));
    ctx.out.out(
      complete
        ? `Every role has its threshold: publish with \`signet proposal publish ${file}\`\n`
        : `Send ${file} to the other key holders: each runs \`signet proposal sign ${file}\`; then \`signet proposal publish ${file}\`\n`,
    );
  }
  return {
    gun: repo.gun,
    proposal: file,
    roles: res.proposal.roles.map((r) => r.role),
    signatures: res.signatures,
    complete,
  };
}

/** Open the proposal's repository, run `body`, close. */
async function withProposal<T>(
  ctx: ClientContext,
  file: string,
  body: (repo: Repository, p: Proposal) => Promise<T>,
): Promise<T> {
  const p = await readProposalFile(file);
  const { repo, close } = ctx.repository(p.gun);
  try {
    return await body(repo, p);
  } finally {
    await close();
  }
}

async function show(out: Output, repo: Repository, p: Proposal, file: string): Promise<void> {
  const { checkBase, describeProposal, proposalSignatures } = await import('../../client/index.js');
  const view = await repo.read({ forWrite: true });
  checkBase(view, p, repo.gun);
  out.out(`Proposal ${file} for ${repo.gun}, made ${p.created}, changes:\n`);
  out.out(`${describeProposal(view, p).join('\n')}\nSignatures:\n`);
  out.out(formatSignatures(proposalSignatures(view, p)));
}

export function registerProposal(program: Command): void {
  const proposal = program
    .command('proposal')
    .description('changes co-signed by several key holders before they are published (roles with a threshold above 1)');
  proposal
    .command('create')
    .description('sign the staged changes of a repository with the keys held here and write them as a proposal')
    .argument('<repository>', 'repository (GUN)')
    .requiredOption('-o, --output <file>', 'the proposal file to write')
    .option('--json', 'print the result as JSON')
    .action(async (repository: string, opts: { output: string; json?: boolean }, cmd: Command) =>
      runAction(opts.json === true, async () => {
        const ctx = await clientContext(cmd);
        const { repo, close } = ctx.repository(repository);
        try {
          const r = await proposeChanges(ctx, repo, [], opts.output, { includeStaged: true, json: opts.json });
          if (opts.json) printJson(ctx.out, r);
        } finally {
          await close();
        }
      }),
    );
  proposal
    .command('show')
    .description('show what a proposal changes, checked against the current trust data, and who has signed it')
    .argument('<file>', 'proposal file')
    .option('--json', 'print the signature state as JSON')
    .action(async (file: string, opts: { json?: boolean }, cmd: Command) =>
      runAction(opts.json === true, async () => {
        const ctx = await clientContext(cmd);
        await withProposal(ctx, file, async (repo, p) => {
          if (!opts.json) return show(ctx.out, repo, p, file);
          const { checkBase, describeProposal, proposalSignatures } = await import('../../client/index.js');
          const view = await repo.read({ forWrite: true });
          checkBase(view, p, repo.gun);
          printJson(ctx.out, {
            gun: p.gun,
            changes: describeProposal(view, p),
            signatures: proposalSignatures(view, p),
          });
        });
      }),
    );
  proposal
    .command('sign')
    .description('add the signatures of the keys held here to a proposal (shows what is signed first)')
    .argument('<file>', 'proposal file (rewritten in place)')
    .option('--json', 'print the result as JSON')
    .action(async (file: string, opts: { json?: boolean }, cmd: Command) =>
      runAction(opts.json === true, async () => {
        const ctx = await clientContext(cmd);
        const { signProposal } = await import('../../client/index.js');
        await withProposal(ctx, file, async (repo, p) => {
          if (!opts.json) await show(ctx.out, repo, p, file);
          const res = await signProposal(repo, p);
          await writeProposalFile(file, res.proposal);
          if (opts.json) {
            printJson(ctx.out, { gun: p.gun, added: res.added, signatures: res.signatures });
            return;
          }
          ctx.out.out(`Signed: ${res.added.map((a) => `${a.role} with ${a.keyId}`).join(', ')}\n`);
          ctx.out.out(formatSignatures(res.signatures));
          if (res.signatures.every((s) => s.complete))
            ctx.out.out(`Every role has its threshold: publish with \`signet proposal publish ${file}\`\n`);
        });
      }),
    );
  proposal
    .command('publish')
    .description('publish a proposal once every role in it has its threshold of signatures')
    .argument('<file>', 'proposal file')
    .option('--json', 'print the result as JSON')
    .action(async (file: string, opts: { json?: boolean }, cmd: Command) =>
      runAction(opts.json === true, async () => {
        const ctx = await clientContext(cmd);
        const { publishProposal } = await import('../../client/index.js');
        await withProposal(ctx, file, async (repo, p) => {
          const res = await publishProposal(repo, p);
          if (opts.json) printJson(ctx.out, { gun: p.gun, published: res.roles, signatures: res.signatures });
          else ctx.out.out(`Published ${res.roles.join(', ')} of ${p.gun}\n${formatSignatures(res.signatures)}`);
        });
      }),
    );
}
