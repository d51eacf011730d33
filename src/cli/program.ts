/**
 * The `signet` command tree, built once for main.ts, and for the generated CLI reference
 * (scripts/cli-reference.mjs) and shell completion (commands/completion.ts), which read it.
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { addGlobalOptions } from './commands/common.js';
import { registrars } from './commands/index.js';
import { setGlobalsFrom } from './hints.js';

/** The package's version; 'unknown' when the code runs without its package.json (a bundled copy). */
export function signetVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version?: unknown;
    };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

/** Commands that read the whole tree (completion scripts list every command). */
const WHOLE_TREE = new Set(['completion']);

/**
 * The command word of `args` (argv after node and the script) when everything before it is a known
 * global option (with its value); else undefined (`--help`, `help`, a mistake: the whole tree is
 * built, so help lists every command and a misspelt one gets its suggestion).
 */
export function commandWord(program: Command, args: readonly string[]): string | undefined {
  const takesValue = new Set<string>();
  const known = new Set<string>();
  for (const o of program.options) {
    for (const flag of [o.long, o.short]) {
      if (flag === undefined) continue;
      known.add(flag);
      if (o.required || o.optional) takesValue.add(flag);
    }
  }
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith('-') || a === '-') return a;
    const eq = a.indexOf('=');
    const flag = eq > 0 ? a.slice(0, eq) : a;
    if (!known.has(flag)) return undefined;
    if (takesValue.has(flag) && eq < 0) i++;
  }
  return undefined;
}

/**
 * The program; with `args`, only the command they run is registered when it is known (a one-shot
 * command then sets up one command's options, not some forty commands').
 */
export function buildProgram(args?: readonly string[]): Command {
  const program = new Command('signet')
    .description('Docker Content Trust server and client (Notary v1 compatible)')
    .version(signetVersion(), '-V, --version', 'print the version of signet')
    // commander's own error print is replaced by main.ts's: the message and a one-line hint, or JSON
    .configureOutput({ outputError: () => undefined })
    .exitOverride();
  addGlobalOptions(program);
  program.hook('preAction', () => setGlobalsFrom(program));
  const word = args !== undefined ? commandWord(program, args) : undefined;
  const only = word !== undefined && !WHOLE_TREE.has(word) ? registrars.find(([name]) => name === word) : undefined;
  for (const [, register] of only !== undefined ? [only] : registrars) register(program);
  return program;
}
