/**
 * `signet verify IMAGE[:TAG]`: the tag must resolve through verified trust data (Docker's rules, and
 * the policy's signer rule with --policy), the registry must serve exactly the signed manifest, and
 * the registry's tag must still point at it. Exit 0 only when verified (docs/verify.md).
 * src/enforce (policy, trust sources) is loaded only by this command.
 */
import type { Command } from 'commander';
import { SignetError } from '../../errors.js';
import type { ImageReference, RegistryClient } from '../../registry/index.js';
import type { VerifiedImage } from '../../client/index.js';
import { noteTrustServer } from '../hints.js';
import { formatWarning, printJson, type Output } from '../output.js';
import { runAction } from './common.js';
import type { ReaderContext } from './reader-context.js';

interface VerifyFlags {
  digestOnly?: boolean;
  json?: boolean;
  offline?: boolean;
  trustOnly?: boolean;
  sigstoreKey?: string;
  policy?: string;
  maxStale?: string;
}

export function registerVerify(program: Command): void {
  program
    .command('verify')
    .description('verify that an image tag is signed and that the registry serves the signed manifest')
    .argument('<image[:tag]>', 'image reference; the tag defaults to latest')
    .option('--digest-only', 'print only NAME@sha256:… (for docker pull)')
    .option('--json', 'print the result (or the error) as JSON')
    .option('--offline', 'no network: use the cached trust data (must be complete and unexpired); implies --trust-only')
    .option('--trust-only', 'check the trust data only, not the manifest the registry serves')
    .option(
      '--sigstore-key <file>',
      'instead of Notary trust data, check a sigstore (cosign) signature by this public key (docs/bridge.md)',
    )
    .option('--policy <file>', 'enforcement policy (docs/policy.md): mode, trust server, pins, signers, staleness')
    .option(
      '--max-stale <duration>',
      'when the trust server is unreachable, accept cached trust data confirmed at most this long ago (e.g. 15m, 1h; default 0)',
    )
    .action(async (image: string, opts: VerifyFlags, cmd: Command) =>
      runAction(opts.json === true, async () => {
        if (opts.sigstoreKey !== undefined)
          return (await import('../bridge-run.js')).verifySigstoreCommand(image, opts, cmd);
        // what the command runs, loaded side by side
        const [{ readerContext }, { parseImageReference }, libs] = await Promise.all([
          import('./reader-context.js'),
          import('../../registry/index.js'),
          verifyLibraries(),
        ]);
        const ctx = readerContext(cmd);
        const ref = parseImageReference(image, { defaultTag: 'latest' });
        if (ref.tag === undefined) {
          throw new SignetError('USAGE', `${image} is a digest reference; verify checks signed tags`, {
            fix: `use ${ref.familiar}:<tag>`,
          });
        }
        await verifyCommand(ctx, ref, opts, libs);
      }),
    );
}

async function verifyLibraries() {
  const [enforce, { formatAge }, { verifyImage }] = await Promise.all([
    import('../../enforce/index.js'),
    import('../../updater/index.js'),
    import('../../client/verify-image.js'),
  ]);
  return { enforce, formatAge, verifyImage };
}

async function verifyCommand(
  ctx: ReaderContext,
  ref: ImageReference,
  opts: VerifyFlags,
  { enforce, formatAge, verifyImage }: Awaited<ReturnType<typeof verifyLibraries>>,
): Promise<void> {
  let maxStaleMs: number | undefined;
  if (opts.maxStale !== undefined) {
    maxStaleMs = enforce.parseDuration(opts.maxStale);
    if (maxStaleMs === undefined) {
      throw new SignetError('USAGE', `--max-stale ${opts.maxStale} is not a duration`, {
        fix: 'give --max-stale as 0, 90s, 15m, 1h or 7d',
      });
    }
  }
  const policy = opts.policy !== undefined ? await enforce.loadPolicy(opts.policy) : enforce.DEFAULT_POLICY;
  const offline = opts.offline === true;
  const sources = new enforce.TrustSources({
    policy,
    trustDir: ctx.cfg.trustDir,
    serverFor: (host, gun) => {
      const choice = ctx.cfg.serverChoice(host, gun);
      noteTrustServer(choice);
      return choice.url;
    },
    caFor: (url) => ctx.cfg.caFor(url),
    tofu: ctx.cfg.tofu,
    offline,
    ...(maxStaleMs !== undefined ? { maxStaleMs } : {}),
    timeoutMs: ctx.cfg.timeoutMs,
    retries: ctx.cfg.retries,
    ...(ctx.cfg.notaryAuth !== undefined ? { auth: ctx.cfg.notaryAuth } : {}),
    onWarning: (m) => ctx.out.err(formatWarning(m)),
  });
  const rule = sources.ruleFor(ref.name);
  const ruleName = `policy rule ${JSON.stringify(rule.repository)}`;
  if (rule.mode === 'skip') {
    if (opts.json)
      printJson(ctx.out, { verified: false, mode: 'skip', name: ref.name, tag: ref.tag, rule: rule.repository });
    else ctx.out.err(`Not verified: ${ruleName} skips ${ref.familiar}\n`);
    await sources.close();
    return;
  }
  const registry = offline || opts.trustOnly === true ? undefined : ctx.registry();
  try {
    const v = await verifyImage({
      ref,
      updater: sources.updaterFor(ref, rule),
      ...(registry !== undefined ? { registry } : {}),
      signedTarget: (repo, tag) => enforce.signedTarget(repo, tag, rule, ref.familiar),
    });
    printVerified(ctx.out, v, opts, registry, rule.mode, formatAge);
  } catch (e) {
    if (rule.mode !== 'report' || !(e instanceof SignetError)) throw e;
    // report mode: the refusal is shown, the gate passes
    const refusal = { code: e.code, message: e.message };
    if (opts.json) printJson(ctx.out, { verified: false, mode: 'report', name: ref.name, tag: ref.tag, refusal });
    else
      ctx.out.err(
        `Report only (${ruleName}): would refuse ${ref.familiar}:${ref.tag ?? ''}: ${e.code}: ${e.message}\n`,
      );
  } finally {
    await sources.close();
    await registry?.close();
  }
}

function printVerified(
  out: Output,
  v: VerifiedImage,
  opts: VerifyFlags,
  registry: RegistryClient | undefined,
  mode: string,
  formatAge: (ms: number) => string,
): void {
  const pinned = `${v.familiar}@${v.digest}`;
  const f = v.repo.freshness;
  const trust =
    f !== undefined
      ? { source: f.source, ageSeconds: Math.max(0, Math.floor((Date.now() - f.checkedAt.getTime()) / 1000)) }
      : undefined;
  if (opts.json) {
    printJson(out, {
      verified: true,
      name: v.name,
      familiar: v.familiar,
      tag: v.tag,
      digest: v.digest,
      size: v.size,
      role: v.role,
      reference: pinned,
      registryChecked: registry !== undefined,
      ...(v.registryTag !== undefined ? { registryTag: v.registryTag } : {}),
      ...(trust !== undefined ? { trust } : {}),
      ...(v.repo.pinFollowed !== undefined ? { pinFollowed: v.repo.pinFollowed } : {}),
      mode,
    });
    return;
  }
  if (opts.digestOnly) out.out(`${pinned}\n`);
  else out.out(`${v.digest}\n`);
  if (trust?.source === 'cached') {
    out.err(
      `Warning: trust server not used: verified against cached trust data last confirmed ${formatAge(trust.ageSeconds * 1000)} ago\n`,
    );
  }
  if (v.registryTag === 'absent') {
    out.err(`Warning: the registry has no tag ${v.familiar}:${v.tag}; pull by digest: ${pinned}\n`);
  }
  if (opts.digestOnly) return;
  const served =
    registry === undefined
      ? ' (registry not checked)'
      : v.registryTag === 'matches'
        ? '; the registry serves the signed manifest and its tag points at it'
        : '; the registry serves the signed manifest';
  const source =
    trust === undefined
      ? ''
      : trust.source === 'fresh'
        ? '; trust data fresh'
        : `; trust data cached (${formatAge(trust.ageSeconds * 1000)} old)`;
  out.err(`Verified ${v.familiar}:${v.tag}: signed in ${v.role}, ${v.size} bytes${served}${source}\n`);
}
