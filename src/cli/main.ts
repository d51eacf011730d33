#!/usr/bin/env node
import module from 'node:module';
import v8 from 'node:v8';

/** Commands that keep serving after they start (everything else is one-shot). */
const SERVICES = new Set(['server', 'proxy', 'admission']);

// Node ≥ 22.1 keeps V8's compiled code of the modules below on disk (NODE_COMPILE_CACHE, else the
// OS temp dir), which cuts a one-shot command's start-up; Node 20 has no such API. Everything else
// is imported after this call so that it is compiled through the cache.
(module as { enableCompileCache?: () => unknown }).enableCompileCache?.();
// undici parses HTTP with a WebAssembly module; V8 re-compiles it with its optimising tier in the
// background, and a process that has finished waits for that before it exits (about 75 ms on a
// quiet machine, a second under load). A one-shot command never runs long enough to gain from it;
// the long-running services keep it.
if (!process.argv.slice(2).some((a) => SERVICES.has(a))) v8.setFlagsFromString('--liftoff-only');

const { Command, CommanderError } = await import('commander');
const { addGlobalOptions } = await import('./commands/common.js');
const { registrars } = await import('./commands/index.js');
const { EXIT, escapeControl } = await import('./output.js');

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
