/**
 * The body of `signet admission` (loaded lazily by commands/admission.ts): flags and the global
 * trust options (as `verify` takes them) → an Enforcer and the listening webhook; SIGTERM/SIGINT
 * close both.
 */
import type { Command } from 'commander';
import { startAdmissionServer } from '../admission/index.js';
import { createEnforcer } from '../enforce/index.js';
import { parseListen } from '../listen.js';
import { resolveGlobalConfig, type GlobalFlags } from './config.js';
import { exitCodeFor, formatError } from './output.js';
import { closeOnSignal, enforcerOptions, positiveInt } from './service.js';

export interface AdmissionFlags {
  listen: string;
  tlsCert: string;
  tlsKey: string;
  reportOnly?: boolean;
  policy?: string;
  excludeNamespace?: string[];
  maxBodyBytes?: string;
}

export async function runAdmission(flags: AdmissionFlags, cmd: Command): Promise<void> {
  try {
    const cfg = resolveGlobalConfig(cmd.optsWithGlobals<GlobalFlags>());
    const { host, port } = parseListen(flags.listen);
    const maxBodyBytes = positiveInt(flags.maxBodyBytes, '--max-body-bytes', 7340032);
    if (cfg.tofu)
      process.stderr.write('WARNING: --tofu: a repository root seen for the first time is trusted without a pin\n');
    const enforcer = await createEnforcer(
      enforcerOptions(cfg, {
        policy: flags.policy,
        onWarning: (m) => process.stderr.write(`${new Date().toISOString()} warning: ${m}\n`),
      }),
    );
    const reportOnly = flags.reportOnly === true;
    let running;
    try {
      running = await startAdmissionServer({
        host,
        port,
        tlsCertFile: flags.tlsCert,
        tlsKeyFile: flags.tlsKey,
        enforcer,
        reportOnly,
        excludeNamespaces: flags.excludeNamespace ?? [],
        ...(maxBodyBytes !== undefined ? { maxBodyBytes } : {}),
        log: (line) => process.stderr.write(`${new Date().toISOString()} ${line}\n`),
      });
    } catch (e) {
      await enforcer.close();
      throw e;
    }
    const excluded = flags.excludeNamespace?.length
      ? `; namespaces excluded: ${flags.excludeNamespace.join(', ')}`
      : '';
    process.stderr.write(
      `signet admission webhook on ${running.url} (POST /validate, /mutate; GET /healthz, /readyz)` +
        `${reportOnly ? ', report only: nothing is denied' : ', enforcing'}${excluded}\n`,
    );
    const server = running;
    closeOnSignal(
      () => server.close(),
      () => enforcer.close(),
    );
  } catch (err) {
    process.stderr.write(formatError(err));
    process.exitCode = exitCodeFor(err);
  }
}
