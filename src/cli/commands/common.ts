/**
 * What every command registration shares: the global flags and the action wrapper. Commands stay
 * thin: parse, call one library function, print. Registration imports nothing heavier than this
 * file and output.ts; a command's action loads its library code (and context.ts) when it runs, so
 * `signet --help` and each command start without loading the others' code.
 */
import type { Command } from 'commander';
import { exitCodeFor, formatError, processOutput, type Output } from '../output.js';
import type { ClientContext } from './context.js';

export type { ClientContext } from './context.js';

/** Add the global client flags to the program (read back with optsWithGlobals). */
export function addGlobalOptions(program: Command): Command {
  return program
    .option(
      '-s, --server <url>',
      'trust server URL (default: $DOCKER_CONTENT_TRUST_SERVER, else the server the repository was initialised with, else https://<registry host>; Docker Hub: https://notary.docker.io until its shutdown on 2026-12-08, none after)',
    )
    .option(
      '--tls-ca <file>',
      'CA certificate(s) to trust for the trust server (default: $DOCKER_CONFIG/tls/<host:port>/ca.crt)',
    )
    .option('-d, --trust-dir <dir>', 'trust directory (default: $DOCKER_CONFIG/trust or ~/.docker/trust)')
    .option(
      '--insecure-registry <host[:port]>',
      'reach this registry over plain HTTP (repeatable)',
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .option('--tofu', 'trust a repository root seen for the first time without a pin (WARNING: trust on first use)')
    .option('--timeout <ms>', 'per-request network timeout in milliseconds (env SIGNET_TIMEOUT_MS; default 30000)')
    .option('--retries <n>', 'retries of a failed GET (network error or 5xx) (env SIGNET_RETRIES; default 2)')
    .option(
      '--pkcs11-module <path>',
      'PKCS#11 module for keys on a token (pkcs11: URIs), e.g. /usr/lib/softhsm/libsofthsm2.so (env SIGNET_PKCS11_MODULE)',
    )
    .option(
      '--pkcs11-pin-file <file>',
      "file holding the token's user PIN (env SIGNET_PKCS11_PIN_FILE, or SIGNET_PKCS11_PIN)",
    );
}

/** The client wiring for a command's action (context.ts, loaded on first use). */
export async function clientContext(cmd: Command, out?: Output): Promise<ClientContext> {
  const { clientContext: create } = await import('./context.js');
  return create(cmd, out);
}

/**
 * Run a command body; print errors (JSON with --json) and set the exit code a pipeline can act on.
 * Never calls process.exit while I/O is pending.
 */
export async function runAction(
  json: boolean,
  body: () => Promise<void>,
  out: Output = processOutput(),
): Promise<void> {
  try {
    await body();
  } catch (e) {
    out.err(formatError(e, json));
    process.exitCode = exitCodeFor(e);
  }
}

/** Is the reference given without an explicit tag? (parseImageReference may default it) */
export function hasExplicitTag(text: string): boolean {
  const lastSlash = text.lastIndexOf('/');
  const tail = text.slice(lastSlash + 1);
  return tail.includes(':') && !text.includes('@');
}
