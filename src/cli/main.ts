#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { addGlobalOptions } from './commands/common.js';
import { registrars } from './commands/index.js';
import { EXIT, escapeControl } from './output.js';

const program = new Command('signet')
  .description('Docker Content Trust server and client (Notary v1 compatible)')
  .showHelpAfterError()
  .exitOverride();
addGlobalOptions(program);
for (const register of registrars) register(program);
try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    // help and version exit 0; every other command-line mistake is a usage error (exit 2)
    process.exitCode = e.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
  } else {
    process.stderr.write(escapeControl(`Error: ${e instanceof Error ? e.message : String(e)}\n`));
    process.exitCode = EXIT.GENERAL;
  }
}
