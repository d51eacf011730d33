/**
 * Test harness: a real Debian `docker-registry` (distribution 2.8) on 127.0.0.1, on a free port,
 * with filesystem storage in a temp dir and deletes enabled. Plain HTTP; no auth unless `auth` (token auth) is given.
 *
 * A missing binary throws (the calling test fails); it never skips.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, openSync, closeSync, readFileSync } from 'node:fs';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestRegistry {
  host: string; // 127.0.0.1:PORT
  dir: string;
  stop(): Promise<void>;
}

export const REGISTRY_BINARY = '/usr/bin/docker-registry';

/**
 * docker-registry runs under a tiny /bin/sh watchdog that holds the read end of a pipe from this
 * process: when the pipe closes (stop(), or this test process dying for any reason), the watchdog
 * stops the registry. So a crashed or killed test worker never leaves a registry behind.
 */
const WATCHDOG = [
  'exec 3<&0',
  '"$1" serve "$2" </dev/null &',
  'p=$!',
  '{ read _ <&3; kill -TERM "$p" 2>/dev/null; } &',
  'w=$!',
  'wait "$p"; s=$?',
  'kill "$w" 2>/dev/null',
  'exit $s',
].join('\n');

/** A port that was free a moment ago: listen on 0, read the port, close. */
export async function freePort(): Promise<number> {
  const srv = createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const addr = srv.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  if (!port) throw new Error('could not allocate a free TCP port on 127.0.0.1');
  return port;
}

/** The environment without REGISTRY_* variables: docker-registry reads each of them as config. */
export function envWithoutRegistryVars(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.toUpperCase().startsWith('REGISTRY_')) env[k] = v;
  }
  return env;
}

/** Token auth (docker/distribution `auth.token`): clients get JWTs from `realm`, signed under `rootCertBundle`. */
export interface RegistryTokenAuth {
  realm: string;
  service: string;
  issuer: string;
  rootCertBundle: string;
}

/** htpasswd auth (docker/distribution `auth.htpasswd`): bcrypt entries only. */
export interface RegistryHtpasswdAuth {
  htpasswd: string;
  realm?: string;
}

function authYaml(auth: RegistryTokenAuth | RegistryHtpasswdAuth | undefined): string[] {
  if (auth === undefined) return [];
  if ('htpasswd' in auth)
    return [
      'auth:',
      '  htpasswd:',
      `    realm: ${JSON.stringify(auth.realm ?? 'registry')}`,
      `    path: ${JSON.stringify(auth.htpasswd)}`,
    ];
  return [
    'auth:',
    '  token:',
    `    realm: ${JSON.stringify(auth.realm)}`,
    `    service: ${JSON.stringify(auth.service)}`,
    `    issuer: ${JSON.stringify(auth.issuer)}`,
    `    rootcertbundle: ${JSON.stringify(auth.rootCertBundle)}`,
  ];
}

function configYaml(dataDir: string, port: number, auth?: RegistryTokenAuth | RegistryHtpasswdAuth): string {
  return [
    'version: 0.1',
    'log:',
    '  level: warn',
    '  formatter: text',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${JSON.stringify(dataDir)}`,
    '  delete:',
    '    enabled: true',
    '  cache:',
    '    blobdescriptor: inmemory',
    '  maintenance:',
    '    uploadpurging:',
    '      enabled: false',
    'http:',
    `  addr: 127.0.0.1:${port}`,
    '  secret: signet-test-registry-secret',
    '  headers:',
    '    X-Content-Type-Options: [nosniff]',
    ...authYaml(auth),
    '',
  ].join('\n');
}

function tail(file: string, lines = 20): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

async function killChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.stdin?.end(); // the watchdog stops the registry, then exits with its status
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  try {
    await exited;
  } finally {
    clearTimeout(timer);
  }
}

async function attempt(
  dir: string,
  port: number,
  auth: RegistryTokenAuth | RegistryHtpasswdAuth | undefined,
): Promise<{ child: ChildProcess } | { retry: string }> {
  const cfgFile = join(dir, 'config.yml');
  const logFile = join(dir, 'registry.log');
  await writeFile(cfgFile, configYaml(join(dir, 'data'), port, auth));
  const logFd = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn('/bin/sh', ['-c', WATCHDOG, 'signet-registry-watchdog', REGISTRY_BINARY, cfgFile], {
      env: envWithoutRegistryVars(),
      stdio: ['pipe', logFd, logFd],
    });
  } finally {
    closeSync(logFd);
  }
  let spawnError: Error | undefined;
  child.once('error', (e) => {
    spawnError = e;
  });

  const url = `http://127.0.0.1:${port}/v2/`;
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (spawnError) throw new Error(`cannot start ${REGISTRY_BINARY}: ${spawnError.message}`);
    if (child.exitCode !== null || child.signalCode !== null) {
      const log = tail(logFile);
      if (/address already in use/i.test(log)) return { retry: log };
      throw new Error(`docker-registry exited (${child.exitCode ?? child.signalCode}) during start-up; log:\n${log}`);
    }
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.status === 200 || (auth !== undefined && res.status === 401)) return { child };
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  await killChild(child);
  throw new Error(`docker-registry did not answer GET ${url} within 20 s; log:\n${tail(logFile)}`);
}

export async function startRegistry(
  opts: { dir?: string; auth?: RegistryTokenAuth | RegistryHtpasswdAuth } = {},
): Promise<TestRegistry> {
  if (!existsSync(REGISTRY_BINARY)) {
    throw new Error(
      `${REGISTRY_BINARY} is missing: install the Debian package docker-registry (apt-get install docker-registry)`,
    );
  }
  const ownDir = opts.dir === undefined;
  const dir = opts.dir ?? (await mkdtemp(join(tmpdir(), 'signet-registry-')));
  await mkdir(join(dir, 'data'), { recursive: true });

  let lastLog = '';
  for (let i = 0; i < 5; i++) {
    const port = await freePort();
    const r = await attempt(dir, port, opts.auth);
    if ('retry' in r) {
      lastLog = r.retry;
      continue;
    }
    const child = r.child;
    let stopped = false;
    return {
      host: `127.0.0.1:${port}`,
      dir,
      async stop() {
        if (stopped) return;
        stopped = true;
        await killChild(child);
        if (ownDir) await rm(dir, { recursive: true, force: true });
      },
    };
  }
  throw new Error(`docker-registry could not bind a free port after 5 attempts; last log:\n${lastLog}`);
}
