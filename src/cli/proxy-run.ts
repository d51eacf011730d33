/**
 * The body of `signet proxy` (loaded lazily by commands/proxy.ts): flags and the global trust options
 * → an Enforcer and a listening proxy; SIGTERM/SIGINT close it.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { createEnforcer, parseDuration } from '../enforce/index.js';
import { SignetError } from '../errors.js';
import { createObserver, startProxy, type Observer, type ProxyLimits } from '../proxy/index.js';
import { resolveGlobalConfig, type GlobalFlags } from './config.js';
import { exitCodeFor, formatError } from './output.js';
import { closeOnSignal, enforcerOptions, positiveInt } from './service.js';

export interface ProxyFlags {
  upstream: string;
  listen?: string;
  insecureHttp?: boolean;
  tlsCert?: string;
  tlsKey?: string;
  reportOnly?: boolean;
  policy?: string;
  allowPush?: boolean;
  registryName?: string;
  upstreamCa?: string;
  auditLog?: string;
  cacheTtl?: string;
  maxConnections?: string;
  maxHeaderBytes?: string;
  upstreamTimeout?: string;
  manifestCache?: string;
  maxStale?: string;
}

function readFlagFile(file: string, flag: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    throw new SignetError('USAGE', `cannot read the ${flag} file ${file}`, {
      cause: e,
      fix: `check the path given to ${flag}`,
    });
  }
}

function checkUpstream(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new SignetError('USAGE', `--upstream is not a URL: ${url}`, {
      fix: 'give it as https://registry.example.com',
    });
  }
  if ((u.protocol !== 'https:' && u.protocol !== 'http:') || (u.pathname !== '/' && u.pathname !== '')) {
    throw new SignetError('USAGE', `--upstream must be http(s)://host[:port] with no path, got ${url}`, {
      fix: 'give it as https://registry.example.com',
    });
  }
  return u.origin;
}

function tlsOf(flags: ProxyFlags): { cert: Buffer; key: Buffer } | undefined {
  const tls = flags.tlsCert !== undefined || flags.tlsKey !== undefined;
  if (tls && flags.insecureHttp) {
    throw new SignetError('USAGE', '--insecure-http and --tls-cert/--tls-key exclude each other', {
      fix: 'give either --insecure-http or --tls-cert F --tls-key F',
    });
  }
  if (!tls && !flags.insecureHttp) {
    throw new SignetError('USAGE', 'the proxy needs --tls-cert and --tls-key, or --insecure-http', {
      fix: 'give --tls-cert F --tls-key F, or --insecure-http (loopback or behind a TLS-terminating proxy)',
    });
  }
  if (!tls) return undefined;
  if (flags.tlsCert === undefined || flags.tlsKey === undefined) {
    throw new SignetError('USAGE', '--tls-cert and --tls-key go together', {
      fix: 'give both --tls-cert F --tls-key F',
    });
  }
  return { cert: readFlagFile(flags.tlsCert, '--tls-cert'), key: readFlagFile(flags.tlsKey, '--tls-key') };
}

function openObserver(auditLog: string | undefined): Observer {
  try {
    return createObserver(auditLog ?? '-');
  } catch (e) {
    throw new SignetError('USAGE', `cannot open the --audit-log file ${auditLog ?? '-'} for appending`, {
      cause: e,
      fix: 'give --audit-log a path in an existing, writable directory (or - for stdout)',
    });
  }
}

export async function runProxy(flags: ProxyFlags, cmd: Command): Promise<void> {
  try {
    const cfg = resolveGlobalConfig(cmd.optsWithGlobals<GlobalFlags>());
    const upstream = checkUpstream(flags.upstream);
    const tls = tlsOf(flags);
    const limits: Partial<ProxyLimits> = {};
    const maxConnections = positiveInt(flags.maxConnections, '--max-connections', 1000);
    const maxHeaderBytes = positiveInt(flags.maxHeaderBytes, '--max-header-bytes', 1000);
    const upstreamTimeoutMs = positiveInt(flags.upstreamTimeout, '--upstream-timeout', 1000);
    if (maxConnections !== undefined) limits.maxConnections = maxConnections;
    if (maxHeaderBytes !== undefined) limits.maxHeaderBytes = maxHeaderBytes;
    if (upstreamTimeoutMs !== undefined) limits.upstreamTimeoutMs = upstreamTimeoutMs;
    if (flags.manifestCache !== undefined) {
      const ms = Number(flags.manifestCache);
      if (!Number.isInteger(ms) || ms < 0) {
        throw new SignetError(
          'USAGE',
          `--manifest-cache must be a number of milliseconds, got ${flags.manifestCache}`,
          {
            fix: 'e.g. --manifest-cache 30000, or 0 to fetch every manifest upstream',
          },
        );
      }
      limits.manifestCacheMs = ms;
    }
    const cacheTtlMs = positiveInt(flags.cacheTtl, '--cache-ttl', 1000);
    if (cfg.tofu)
      process.stderr.write('WARNING: --tofu: a repository root seen for the first time is trusted without a pin\n');

    const maxStaleMs = flags.maxStale !== undefined ? parseDuration(flags.maxStale) : undefined;
    if (flags.maxStale !== undefined && maxStaleMs === undefined) {
      throw new SignetError('USAGE', `--max-stale must be a duration such as 90s, 15m or 1h, got ${flags.maxStale}`, {
        fix: 'e.g. --max-stale 15m',
      });
    }
    const observer = openObserver(flags.auditLog);
    const enforcer = await createEnforcer(
      enforcerOptions(cfg, {
        policy: flags.policy,
        cacheTtlMs,
        maxStaleMs,
        onWarning: (message) => observer.event('warning', { message }),
      }),
    );
    const running = await startProxy({
      listen: flags.listen ?? '127.0.0.1:5001',
      upstream,
      ...(flags.upstreamCa !== undefined ? { upstreamCa: readFlagFile(flags.upstreamCa, '--upstream-ca') } : {}),
      ...(flags.registryName !== undefined ? { registryName: flags.registryName } : {}),
      ...(tls !== undefined ? { tls } : {}),
      enforcer,
      observer,
      reportOnly: flags.reportOnly === true,
      allowPush: flags.allowPush === true,
      limits,
    });
    observer.event('start', {
      url: running.url,
      upstream,
      reportOnly: flags.reportOnly === true,
      allowPush: flags.allowPush === true,
      policy: flags.policy ?? null,
    });
    process.stderr.write(`signet proxy on ${running.url} → ${upstream}${flags.reportOnly ? ' (report only)' : ''}\n`);
    closeOnSignal(
      () => running.close(),
      () => enforcer.close(),
      () => observer.close(),
    );
  } catch (err) {
    process.stderr.write(formatError(err));
    process.exitCode = exitCodeFor(err);
  }
}
