/**
 * Registry credentials:
 *  - `DockerCredentialStore`: credentials from explicit options, then a Docker config dir
 *    (`config.json`: `credHelpers`, `auths` with base64 `auth` / `username`+`password` /
 *    `identitytoken`, then `credsStore`), looked up by registry host the way Docker does.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SignetError } from '../errors.js';
import type { Credential } from '../http/index.js';
import { DOCKER_HUB } from './reference.js';

/** Hosts that all mean Docker Hub in credentials and config files. */
const HUB_ALIASES = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io', 'registry.hub.docker.com']);
/** The key Docker stores Docker Hub credentials under. */
export const HUB_AUTH_KEY = 'https://index.docker.io/v1/';

/** Turn a config key ('https://host:port/v1/', 'host', 'http://host') into host[:port]; Hub aliases → docker.io. */
export function credentialHostKey(key: string): string {
  let k = key.trim();
  k = k.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '');
  const slash = k.indexOf('/');
  if (slash !== -1) k = k.slice(0, slash);
  k = k.toLowerCase();
  return HUB_ALIASES.has(k) ? DOCKER_HUB : k;
}

interface DockerConfigFile {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
}

export interface CredentialStoreOptions {
  dockerConfigDir?: string;
  credentials?: Record<string, Credential>;
  /** ms allowed for a docker-credential-* helper; default 10 s */
  helperTimeoutMs?: number;
}

export class DockerCredentialStore {
  private readonly explicit = new Map<string, Credential>();
  private configPromise: Promise<DockerConfigFile | undefined> | undefined;
  private readonly cache = new Map<string, Promise<Credential | undefined>>();

  constructor(private readonly opts: CredentialStoreOptions = {}) {
    for (const [k, v] of Object.entries(opts.credentials ?? {})) this.explicit.set(credentialHostKey(k), v);
  }

  /** Credentials for a registry (host[:port] or 'docker.io'), or undefined for anonymous access. */
  get(registry: string): Promise<Credential | undefined> {
    const host = credentialHostKey(registry);
    let p = this.cache.get(host);
    if (!p) {
      p = this.lookup(host);
      this.cache.set(host, p);
      p.catch(() => this.cache.delete(host));
    }
    return p;
  }

  private async lookup(host: string): Promise<Credential | undefined> {
    const direct = this.explicit.get(host);
    if (direct) return direct;
    const cfg = await this.config();
    if (!cfg) return undefined;
    const serverUrl = host === DOCKER_HUB ? HUB_AUTH_KEY : host;
    for (const [k, helper] of Object.entries(cfg.credHelpers ?? {})) {
      if (credentialHostKey(k) === host && helper) return this.fromHelper(helper, serverUrl);
    }
    for (const [k, entry] of Object.entries(cfg.auths ?? {})) {
      if (credentialHostKey(k) !== host || !entry) continue;
      const c = this.fromAuthEntry(k, entry);
      if (c) return c;
    }
    if (cfg.credsStore) return this.fromHelper(cfg.credsStore, serverUrl);
    return undefined;
  }

  private fromAuthEntry(
    key: string,
    entry: { auth?: string; username?: string; password?: string; identitytoken?: string },
  ): Credential | undefined {
    if (entry.identitytoken) return { identityToken: entry.identitytoken };
    if (entry.auth) {
      const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon <= 0) {
        throw new SignetError(
          'USAGE',
          `the "auth" entry for ${key} in ${this.configFile()} is not base64 of "username:password"`,
          {
            fix: `Run "docker login ${key}" again, or fix the entry by hand.`,
          },
        );
      }
      return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
    }
    if (entry.username !== undefined && entry.password !== undefined) {
      return { username: entry.username, password: entry.password };
    }
    return undefined;
  }

  private configFile(): string {
    return join(this.opts.dockerConfigDir ?? '', 'config.json');
  }

  private config(): Promise<DockerConfigFile | undefined> {
    if (this.opts.dockerConfigDir === undefined) return Promise.resolve(undefined);
    this.configPromise ??= (async () => {
      const file = this.configFile();
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw new SignetError('USAGE', `cannot read Docker config ${file}: ${(e as Error).message}`, {
          fix: 'Check the file permissions of the Docker config directory.',
          cause: e,
        });
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch (e) {
        throw new SignetError('USAGE', `Docker config ${file} is not valid JSON: ${(e as Error).message}`, {
          fix: 'Fix or remove the file; "docker login" rewrites it.',
          cause: e,
        });
      }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
        throw new SignetError('USAGE', `Docker config ${file} must hold a JSON object`, {
          fix: 'Fix or remove the file; "docker login" rewrites it.',
        });
      }
      return parsed as DockerConfigFile;
    })();
    return this.configPromise;
  }

  /** Ask `docker-credential-<helper> get` (server URL on stdin, JSON {Username, Secret} on stdout). */
  private async fromHelper(helper: string, serverUrl: string): Promise<Credential | undefined> {
    if (!/^[A-Za-z0-9._-]+$/.test(helper)) {
      throw new SignetError(
        'USAGE',
        `credential helper name ${JSON.stringify(helper)} in ${this.configFile()} is not valid`,
        {
          fix: 'Use the helper suffix only, e.g. "pass" for docker-credential-pass.',
        },
      );
    }
    const program = `docker-credential-${helper}`;
    const timeoutMs = this.opts.helperTimeoutMs ?? 10_000;
    // child_process is loaded only when a helper is configured: it is slow to load (docs/performance.md)
    const { spawn } = await import('node:child_process');
    return new Promise((resolve, reject) => {
      const child = spawn(program, ['get'], { stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      child.once('error', (e) => {
        clearTimeout(timer);
        reject(
          new SignetError('USAGE', `cannot run credential helper ${program}: ${e.message}`, {
            fix: `Install ${program}, or remove "${helper}" from credsStore/credHelpers in ${this.configFile()}.`,
            cause: e,
          }),
        );
      });
      child.once('close', (code) => {
        clearTimeout(timer);
        const text = (out + err).trim();
        if (code !== 0) {
          if (/credentials not found/i.test(text)) return resolve(undefined);
          return reject(
            new SignetError(
              'UNAUTHORIZED',
              `credential helper ${program} failed for ${serverUrl}: ${text || `exit ${code}`}`,
              {
                fix: `Run "docker login" for this registry, or check ${program}.`,
              },
            ),
          );
        }
        try {
          const j = JSON.parse(out) as { Username?: string; Secret?: string };
          if (!j.Secret) return resolve(undefined);
          if (j.Username === '<token>') return resolve({ identityToken: j.Secret });
          resolve({ username: j.Username ?? '', password: j.Secret });
        } catch (e) {
          reject(
            new SignetError('UNAUTHORIZED', `credential helper ${program} printed something that is not JSON`, {
              fix: `Check ${program} by running: echo ${serverUrl} | ${program} get`,
              cause: e,
            }),
          );
        }
      });
      child.stdin.end(serverUrl);
    });
  }
}
