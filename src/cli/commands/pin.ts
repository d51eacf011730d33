/**
 * `signet pin GUN KEYID…` | `signet pin GUN --ca FILE` | `signet pin GUN --tofu` | `signet pin --list`
 * | `signet pin --remove GUN`: the root trust anchors in <trustDir>/signet/pins.json (docs/verify.md).
 * GUN may be an image name (normalised, e.g. alpine → docker.io/library/alpine) or a `prefix*`.
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { SignetError } from '../../errors.js';
import { printJson } from '../output.js';
import { clientContext, runAction } from './common.js';

interface PinFlags {
  ca?: string;
  tofu?: boolean;
  list?: boolean;
  remove?: boolean;
  json?: boolean;
}

/** A GUN as Docker computes it; wildcard patterns are taken as written. */
export async function normalisePattern(text: string): Promise<string> {
  if (text.includes('*')) return text;
  const { parseImageReference } = await import('../../registry/index.js');
  try {
    const ref = parseImageReference(text);
    return ref.tag === undefined && ref.digest === undefined ? ref.name : text;
  } catch {
    return text;
  }
}

export function registerPin(program: Command): void {
  program
    .command('pin')
    .description(
      'pin the root of a repository (or of every repository under a prefix*) to certificate key IDs, a CA, or TOFU',
    )
    .argument('[gun]', 'repository (image name or GUN) or GUN prefix ending in *')
    .argument('[keyids...]', 'root certificate key IDs (shown by an UNTRUSTED_ROOT error or docker trust inspect)')
    .option('--ca <file>', 'pin to a CA bundle: the root certificate must chain to it')
    .option('--tofu', 'explicitly trust the first root seen for this repository/prefix')
    .option('--list', 'list the pins')
    .option('--remove', 'remove the pin for GUN')
    .option('--json', 'JSON output')
    .action(async (gun: string | undefined, keyids: string[], opts: PinFlags, cmd: Command) =>
      runAction(opts.json === true, async () => {
        const ctx = await clientContext(cmd);
        if (opts.list) {
          const pins = await ctx.pins.list();
          if (opts.json) {
            printJson(
              ctx.out,
              pins.map((p) => ({
                pattern: p.pattern,
                ...(p.pin.certs ? { certs: p.pin.certs } : {}),
                ...(p.pin.caPem ? { ca: true } : {}),
                ...(p.pin.tofu ? { tofu: true } : {}),
              })),
            );
          } else if (pins.length === 0) {
            ctx.out.out(`No pins in ${ctx.pins.file}\n`);
          } else {
            for (const p of pins) {
              const what = p.pin.certs ? `certs ${p.pin.certs.join(' ')}` : p.pin.caPem ? 'CA bundle' : 'TOFU';
              ctx.out.out(`${p.pattern}\t${what}\n`);
            }
          }
          return;
        }
        if (gun === undefined) {
          throw new SignetError('USAGE', 'pin needs a GUN (or --list)', {
            fix: 'signet pin <GUN> <KEYID>… | --ca FILE | --tofu, or signet pin --list',
          });
        }
        const pattern = await normalisePattern(gun);
        const modes = [keyids.length > 0, opts.ca !== undefined, opts.tofu === true, opts.remove === true].filter(
          Boolean,
        ).length;
        if (modes !== 1) {
          throw new SignetError('USAGE', 'give exactly one of: key IDs, --ca FILE, --tofu, --remove', {
            fix: `e.g. signet pin ${pattern} <KEYID>`,
          });
        }
        let done: string;
        if (opts.remove) {
          const removed = await ctx.pins.remove(pattern);
          if (!removed) throw new SignetError('NOT_FOUND', `no pin for ${pattern}`, { fix: 'see signet pin --list' });
          done = `Removed the pin for ${pattern}`;
        } else if (opts.ca !== undefined) {
          let pem: string;
          try {
            pem = await readFile(opts.ca, 'utf8');
          } catch (e) {
            throw new SignetError('USAGE', `cannot read ${opts.ca}: ${(e as Error).message}`, { cause: e });
          }
          await ctx.pins.setCa(pattern, pem);
          done = `Pinned ${pattern} to the CA in ${opts.ca}`;
        } else if (opts.tofu) {
          await ctx.pins.setTofu(pattern);
          done = `WARNING: ${pattern} will trust the first root it sees (TOFU)`;
        } else {
          await ctx.pins.setCerts(pattern, keyids);
          done = `Pinned ${pattern} to root key(s) ${keyids.map((k) => k.toLowerCase()).join(' ')}`;
        }
        if (opts.json) printJson(ctx.out, { pattern, result: done });
        else ctx.out.out(`${done}\n`);
      }),
    );
}
