/**
 * The bodies of `signet bridge`, `signet bridge generate-key` and `signet verify --sigstore-key`,
 * loaded only by those commands (they pull in src/sigstore and the registry writer).
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { SignetError } from '../errors.js';
import { writeFileAtomic } from '../fs/index.js';
import { readPassphraseFile } from '../keys/index.js';
import { RegistryWriter, parseImageReference } from '../registry/index.js';
import {
  decryptCosignKey,
  generateCosignKeyPair,
  loadCosignPublicKey,
  runBridge,
  verifySigstoreImage,
  type BridgeReport,
} from '../sigstore/index.js';
import type { BridgeFlags, GenerateKeyFlags } from './commands/bridge.js';
import { clientContext, type ClientContext } from './commands/context.js';
import { readEnv } from './config.js';
import { exitCodeFor, printJson, processOutput } from './output.js';

/** COSIGN_PASSWORD (an empty value is an empty password, as cosign takes it), else COSIGN_PASSWORD_FILE. */
async function cosignPassword(): Promise<string> {
  const env = readEnv();
  if (env.COSIGN_PASSWORD !== undefined) return env.COSIGN_PASSWORD;
  const file = env.COSIGN_PASSWORD_FILE;
  if (file !== undefined && file !== '') return readPassphraseFile(file, 'COSIGN_PASSWORD_FILE');
  throw new SignetError('PASSPHRASE_REQUIRED', 'no password for the cosign key', {
    fix: 'set COSIGN_PASSWORD (or COSIGN_PASSWORD_FILE, a file holding it)',
  });
}

async function readText(file: string, flag: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    throw new SignetError('USAGE', `cannot read ${flag} ${file}`, {
      fix: `check the path given with ${flag}`,
      cause: e,
    });
  }
}

function writer(ctx: ClientContext): RegistryWriter {
  return new RegistryWriter({
    insecureRegistries: ctx.cfg.insecureRegistries,
    dockerConfigDir: ctx.cfg.dockerConfigDir,
    timeoutMs: ctx.cfg.timeoutMs,
  });
}

export async function runBridgeCommand(image: string, opts: BridgeFlags, cmd: Command): Promise<void> {
  if (opts.key === undefined) {
    throw new SignetError('USAGE', 'signet bridge needs the signing key', {
      fix: 'pass --key cosign.key (make one with: signet bridge generate-key)',
    });
  }
  const ctx = clientContext(cmd);
  const signingKey = await decryptCosignKey(await readText(opts.key, '--key'), await cosignPassword(), opts.key);
  if (signingKey.asymmetricKeyType !== 'ec' || signingKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new SignetError('INVALID_KEY', `${opts.key} is not an ECDSA P-256 key`, {
      fix: 'the bridge signs with ECDSA P-256 / SHA-256; pass --key made by signet bridge generate-key',
    });
  }
  const ref = parseImageReference(image);
  const remote = ctx.remoteFor(ref);
  const client = ctx.registry();
  const w = writer(ctx);
  try {
    const report = await runBridge({
      ref,
      updater: ctx.updaterFor(ref, remote),
      client,
      writer: w,
      signingKey,
      dryRun: opts.dryRun === true,
      ...(opts.json === true ? {} : { onProgress: (l: string) => ctx.out.err(`${l}\n`) }),
    });
    if (opts.json === true) printJson(ctx.out, report);
    else ctx.out.out(summary(report));
    const failed = report.failed[0];
    if (failed !== undefined)
      process.exitCode = exitCodeFor(new SignetError(failed.code as SignetError['code'], failed.message));
  } finally {
    await Promise.allSettled([remote.close(), client.close(), w.close()]);
  }
}

function summary(r: BridgeReport): string {
  const verb = r.dryRun ? 'would write' : 'wrote';
  const lines = [
    `${r.repository}: ${verb} ${r.written.length} signature(s), ${r.current.length} already current, ` +
      `${r.dryRun ? 'would remove' : 'removed'} ${r.removed.length}, ${r.failed.length} tag(s) not verified`,
  ];
  if (r.referrers === 'unsupported')
    lines.push('referrers: the registry has no OCI 1.1 referrers API; only the sha256-<hex>.sig tags were written');
  for (const f of r.failed) lines.push(`not bridged: ${f.tag}: ${f.code}: ${f.message}`);
  return `${lines.join('\n')}\n`;
}

export async function generateKeyCommand(opts: GenerateKeyFlags): Promise<void> {
  const prefix = path.resolve(opts.outputKeyPrefix ?? 'cosign');
  const keyFile = `${prefix}.key`;
  const pubFile = `${prefix}.pub`;
  for (const f of [keyFile, pubFile]) {
    if (existsSync(f) && opts.force !== true) {
      throw new SignetError('USAGE', `${f} exists`, {
        fix: 'pass --force to overwrite it, or another --output-key-prefix',
      });
    }
  }
  const { privatePem, publicPem } = await generateCosignKeyPair(await cosignPassword());
  await writeFileAtomic(keyFile, privatePem);
  await writeFileAtomic(pubFile, publicPem, { mode: 0o644 });
  processOutput().err(`Private key written to ${keyFile}\nPublic key written to ${pubFile}\n`);
}

export interface SigstoreVerifyFlags {
  sigstoreKey?: string;
  json?: boolean;
  digestOnly?: boolean;
}

/** `signet verify --sigstore-key KEY IMAGE[:TAG|@DIGEST]`. */
export async function verifySigstoreCommand(image: string, opts: SigstoreVerifyFlags, cmd: Command): Promise<void> {
  const ctx = clientContext(cmd);
  const file = opts.sigstoreKey ?? '';
  const publicKey = loadCosignPublicKey(await readText(file, '--sigstore-key'), file);
  const ref = parseImageReference(image, { defaultTag: 'latest' });
  const client = ctx.registry();
  const w = writer(ctx);
  try {
    const v = await verifySigstoreImage({ ref, client, writer: w, publicKey });
    const pinned = `${v.familiar}@${v.digest}`;
    if (opts.json === true) printJson(ctx.out, { verified: true, ...v, reference: pinned, sigstore: true });
    else if (opts.digestOnly === true) ctx.out.out(`${pinned}\n`);
    else {
      ctx.out.out(`${v.digest}\n`);
      ctx.out.err(
        `Verified ${v.familiar}${v.tag !== undefined ? `:${v.tag}` : ''}: ${v.signatures} sigstore signature(s) by ${file}\n`,
      );
    }
  } finally {
    await Promise.allSettled([client.close(), w.close()]);
  }
}
