/**
 * `signet admission`: the flags of the Kubernetes admission webhook. The body is in
 * ../admission-run.ts, imported only when the command runs, so other commands never load the
 * webhook or the enforcer.
 */
import type { Command } from 'commander';
import type { AdmissionFlags } from '../admission-run.js';

export function registerAdmissionCommand(program: Command): void {
  program
    .command('admission')
    .description(
      'run the Kubernetes validating and mutating admission webhook: signed images only, tags pinned to digests (docs/admission.md)',
    )
    .requiredOption('--listen <host:port>', 'HTTPS address to listen on, e.g. 0.0.0.0:8443')
    .requiredOption(
      '--tls-cert <file>',
      'TLS certificate chain (PEM) for the webhook Service name; re-read when it changes',
    )
    .requiredOption('--tls-key <file>', 'TLS private key (PEM) for --tls-cert')
    .option('--report-only', 'allow everything; answer with warnings naming what enforcement would deny')
    .option('--policy <file>', 'enforcement policy (docs/policy.md); default: enforce every repository')
    .option(
      '--exclude-namespace <ns>',
      'admit requests in this namespace unchecked (repeatable; e.g. kube-system)',
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .option('--max-body-bytes <n>', 'largest AdmissionReview accepted (default 7340032; 413 beyond)')
    .action(async (flags: AdmissionFlags, cmd: Command) => {
      const { runAdmission } = await import('../admission-run.js');
      await runAdmission(flags, cmd);
    });
}
