/**
 * `signet proxy`: the flags of the trust-enforcing registry proxy. The body is in ../proxy-run.ts,
 * imported only when the command runs, so other commands never load the proxy or the enforcer.
 */
import type { Command } from 'commander';
import type { ProxyFlags } from '../proxy-run.js';

export function registerProxyCommand(program: Command): void {
  program
    .command('proxy')
    .description('serve an upstream registry, giving clients only content signed in the trust data (docs/proxy.md)')
    .requiredOption('--upstream <url>', 'the registry to serve, e.g. https://registry.example.com')
    .option('--listen <host:port>', 'address to listen on (default 127.0.0.1:5001)')
    .option('--insecure-http', 'serve plain HTTP (behind a TLS-terminating proxy, or on loopback)')
    .option('--tls-cert <file>', 'TLS certificate chain (PEM) the proxy serves')
    .option('--tls-key <file>', 'TLS private key (PEM) for --tls-cert')
    .option('--report-only', 'serve everything; log, count and audit what enforcement would have refused')
    .option('--policy <file>', 'enforcement policy (docs/policy.md); default: enforce every repository')
    .option(
      '--max-stale <duration>',
      "trust server unreachable: serve from trust data confirmed at most this long ago (overrides the policy's maxStale; default 0)",
    )
    .option('--allow-push', 'pass pushes (uploads, manifest PUT, DELETE) through; default: refuse them with DENIED')
    .option(
      '--registry-name <host[:port]>',
      "registry host in the signed GUNs (default: the upstream's; docker.io for Docker Hub)",
    )
    .option('--upstream-ca <file>', 'CA bundle (PEM) for an https upstream with a private CA')
    .option('--audit-log <file>', "decision log, JSON lines ('-' for stdout, the default)")
    .option('--cache-ttl <ms>', 'reuse verified trust data this long before checking the trust server again')
    .option('--max-connections <n>', 'open client connections at most (default 1024)')
    .option('--max-header-bytes <n>', 'request line and headers at most (default 16384; 431 beyond)')
    .option(
      '--manifest-cache <ms>',
      'reuse verified manifest bytes for the same access this long (default 30000; 0: never)',
    )
    .option('--upstream-timeout <ms>', 'upstream connect, response and idle body timeout (default 30000)')
    .action(async (flags: ProxyFlags, cmd: Command) => {
      const { runProxy } = await import('../proxy-run.js');
      await runProxy(flags, cmd);
    });
}
