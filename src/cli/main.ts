#!/usr/bin/env node
import type { Command } from 'commander';
import { enablePrivateCompileCache } from './compile-cache.js';

// Node ≥ 22.1: V8's compiled code of the modules below is kept on disk, in a folder of this user's
// (compile-cache.ts). Everything else is imported after this call so that it goes through the cache.
enablePrivateCompileCache();

// imported together: the loader reads and compiles the files side by side, not one after another
const [
  { CommanderError },
  { SignetError },
  { setGlobalsFrom },
  { EXIT, escapeControl, formatError },
  { buildProgram },
] = await Promise.all([
  import('commander'),
  import('../errors.js'),
  import('./hints.js'),
  import('./output.js'),
  import('./program.js'),
]);

/** The command the user was typing, as far as it names real commands (for the usage error's fix). */
function typedCommand(program: Command, argv: readonly string[]): string[] {
  const path: string[] = [];
  let cmd = program;
  for (const word of argv) {
    const next = cmd.commands.find((c) => c.name() === word || c.aliases().includes(word));
    if (next === undefined) continue;
    path.push(next.name());
    cmd = next;
  }
  return path;
}

const args = process.argv.slice(2);
const program = buildProgram(args);
try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    // help and version exit 0; every other command-line mistake is a usage error (exit 2)
    if (e.exitCode !== 0 && e.code !== 'commander.help' && e.code !== 'commander.helpDisplayed') {
      setGlobalsFrom(program);
      const message = e.message.replace(/^error:\s*/, '');
      // formatError adds the user's global flags to the suggested command
      const fix = `see ${['signet', ...typedCommand(program, args), '--help'].join(' ')}`;
      process.stderr.write(
        escapeControl(formatError(new SignetError('USAGE', message, { fix }), args.includes('--json'))),
      );
    }
    process.exitCode = e.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
  } else {
    process.stderr.write(escapeControl(`Error: ${e instanceof Error ? e.message : String(e)}\n`));
    process.exitCode = EXIT.GENERAL;
  }
}
