// The real docker 28 CLI (/usr/local/bin/docker) for interop tests, isolated in its own
// DOCKER_CONFIG. It never prompts (passphrases via env, stdin closed) and has a timeout.
import { mkdirSync } from 'node:fs';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { TEST_PASSPHRASES } from './notary-cli.js';
import { childEnv, requireBinary, run } from './proc.js';

export const DOCKER_BIN = '/usr/local/bin/docker';

export interface DockerCli {
  configDir: string;
  trustDir: string;
  run(
    args: string[],
    opts?: { env?: NodeJS.ProcessEnv; contentTrust?: boolean },
  ): Promise<{ code: number | null; stdout: string; stderr: string }>;
  /** Trust `caFile` for the trust server at host:port ($DOCKER_CONFIG/tls/<host:port>/ca.crt). */
  installCA(serverHostPort: string, caFile: string): Promise<void>;
  /**
   * Store registry credentials in config.json (like `docker login`, without contacting anything).
   * `docker trust sign` on a new repo names its signer `targets/<username>`, so it needs this.
   */
  setAuth(registryHostPort: string, username: string, password?: string): Promise<void>;
}

/**
 * `dir` holds everything: DOCKER_CONFIG is `<dir>/config`, the trust dir `<dir>/config/trust`.
 * Without `dockerHost`, DOCKER_HOST points at a socket in `dir` that does not exist, so a test
 * can never reach a real engine. Inherited DOCKER_* variables are dropped; `opts.env` is applied
 * last. `contentTrust` true/false sets DOCKER_CONTENT_TRUST=1/0 (unset when omitted).
 */
export function dockerCli(opts: {
  trustServer: string;
  dockerHost?: string;
  dir: string;
  rootPassphrase?: string;
  repositoryPassphrase?: string;
}): DockerCli {
  const configDir = path.join(opts.dir, 'config');
  const trustDir = path.join(configDir, 'trust');
  mkdirSync(trustDir, { recursive: true });
  return {
    configDir,
    trustDir,
    async run(args, runOpts = {}) {
      await requireBinary(DOCKER_BIN, 'docker-ce-cli (Docker CLI 28, expected at /usr/local/bin/docker)');
      const env = childEnv(
        {
          DOCKER_CONFIG: configDir,
          DOCKER_HOST: opts.dockerHost ?? `unix://${path.join(opts.dir, 'no-engine.sock')}`,
          DOCKER_CONTENT_TRUST_SERVER: opts.trustServer,
          DOCKER_CONTENT_TRUST_ROOT_PASSPHRASE: opts.rootPassphrase ?? TEST_PASSPHRASES.root,
          DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE: opts.repositoryPassphrase ?? TEST_PASSPHRASES.targets,
          DOCKER_CLI_HINTS: 'false',
          ...(runOpts.contentTrust === undefined ? {} : { DOCKER_CONTENT_TRUST: runOpts.contentTrust ? '1' : '0' }),
          ...runOpts.env,
        },
        (k) => k.startsWith('DOCKER_') || k.startsWith('NOTARY_'),
      );
      return run(DOCKER_BIN, args, { env, timeoutMs: 60_000 });
    },
    async installCA(serverHostPort, caFile) {
      const d = path.join(configDir, 'tls', serverHostPort);
      await mkdir(d, { recursive: true });
      await copyFile(caFile, path.join(d, 'ca.crt'));
    },
    async setAuth(registryHostPort, username, password = 'test-password') {
      const file = path.join(configDir, 'config.json');
      let cfg: { auths?: Record<string, { auth: string }> } & Record<string, unknown> = {};
      try {
        cfg = JSON.parse(await readFile(file, 'utf8')) as typeof cfg;
      } catch {
        // no config yet
      }
      cfg.auths = {
        ...cfg.auths,
        [registryHostPort]: { auth: Buffer.from(`${username}:${password}`).toString('base64') },
      };
      await writeFile(file, JSON.stringify(cfg, null, 2) + '\n', { mode: 0o600 });
    },
  };
}
