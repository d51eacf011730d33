// `signet proxy` as a real child process (node dist/cli/main.js) on a free port, plain HTTP on
// 127.0.0.1, with the global trust flags a deployment would give it. Its decision log is stdout,
// so the log file holds one JSON line per decision.
import { readFile } from 'node:fs/promises';
import { SIGNET_MAIN } from '../cli/signet.js';
import { httpOk, startOnFreePort } from '../harness/notary-peers.js';
import { childEnv, startProc } from '../harness/proc.js';

export interface SignetProxy {
  url: string;
  host: string;
  logFile: string;
  /** the JSON lines of the decision log so far */
  records(): Promise<Record<string, unknown>[]>;
  stop(): Promise<void>;
}

export async function startSignetProxy(opts: {
  name: string;
  upstream: string;
  server: string;
  caFile: string;
  trustDir: string;
  logDir: string;
  /** global flags before `proxy` (e.g. --tofu) and proxy flags after it */
  globalArgs?: string[];
  proxyArgs?: string[];
}): Promise<SignetProxy> {
  const env = childEnv({}, (k) => k.startsWith('SIGNET_') || k.startsWith('NOTARY_') || k.startsWith('DOCKER_'));
  const { port, proc } = await startOnFreePort((p, attempt) =>
    startProc({
      name: attempt === 0 ? opts.name : `${opts.name}.${attempt}`,
      cmd: process.execPath,
      args: [
        SIGNET_MAIN,
        '--server',
        opts.server,
        '--tls-ca',
        opts.caFile,
        '--trust-dir',
        opts.trustDir,
        ...(opts.globalArgs ?? []),
        'proxy',
        '--upstream',
        opts.upstream,
        '--insecure-http',
        '--listen',
        `127.0.0.1:${p}`,
        ...(opts.proxyArgs ?? []),
      ],
      env,
      logDir: opts.logDir,
      ready: () => httpOk(`http://127.0.0.1:${p}/readyz`),
      listenPort: p,
      timeoutMs: 30_000,
    }),
  );
  const logFile = proc.logFile;
  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    logFile,
    async records() {
      const text = await readFile(logFile, 'utf8');
      return text
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    },
    stop: () => proc.stop(),
  };
}
