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

export function buildProgram(): Command {
  const program = new Command('signet')
    .description('Docker Content Trust server and client (Notary v1 compatible)')
    .version(signetVersion(), '-V, --version', 'print the version of signet')
    // commander's own error print is replaced by main.ts's: the message and a one-line hint, or JSON
    .configureOutput({ outputError: () => undefined })
    .exitOverride();
  addGlobalOptions(program);
  program.hook('preAction', () => setGlobalsFrom(program));
  for (const register of registrars) register(program);
  return program;
}
