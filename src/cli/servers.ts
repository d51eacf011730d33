/**
 * The trust server each repository was set up with, remembered per GUN in
 * `<trustDir>/signet/servers.json` (beside `signet/pins.json`; notary's own `tuf/` and `private/`
 * are untouched, so the notary CLI and `docker trust` still read the trust dir as before).
 * `signet --server X init R` records X (and the `--tls-ca` it used), so a later `signet sign R:tag`
 * without --server goes to X instead of `https://<registry host>`.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { SignetError } from '../errors.js';
import { ensurePrivateDir, writeFileAtomic } from '../fs/index.js';

export interface RememberedServer {
  url: string;
  /** absolute path of the `--tls-ca` file given with it, if any */
  tlsCa?: string;
}

interface ServersFile {
  version: 1;
  servers: Record<string, RememberedServer>;
}

export function serversFile(trustDir: string): string {
  return path.join(trustDir, 'signet', 'servers.json');
}

/** Read synchronously: the server is chosen while the command's options are resolved. */
export function loadRememberedServers(trustDir: string): Record<string, RememberedServer> {
  const file = serversFile(trustDir);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new SignetError('STORAGE', `cannot read ${file}: ${(e as Error).message}`, { cause: e });
  }
  try {
    const j = JSON.parse(text) as Partial<ServersFile>;
    if (typeof j.servers !== 'object' || j.servers === null) throw new Error('no "servers" object');
    const out: Record<string, RememberedServer> = {};
    for (const [gun, s] of Object.entries(j.servers)) {
      if (typeof s?.url !== 'string') continue;
      out[gun] = { url: s.url, ...(typeof s.tlsCa === 'string' ? { tlsCa: s.tlsCa } : {}) };
    }
    return out;
  } catch (e) {
    throw new SignetError('STORAGE', `${file} is not a valid servers file: ${(e as Error).message}`, {
      cause: e,
      fix: `fix or remove ${file} (it only remembers which --server each repository was initialised with)`,
    });
  }
}

/** Remember (or replace) the trust server of one repository. */
export async function rememberServer(trustDir: string, gun: string, server: RememberedServer): Promise<void> {
  const servers = loadRememberedServers(trustDir);
  const prev = servers[gun];
  if (prev !== undefined && prev.url === server.url && prev.tlsCa === server.tlsCa) return;
  servers[gun] = server;
  await ensurePrivateDir(path.join(trustDir, 'signet'));
  const body: ServersFile = { version: 1, servers };
  await writeFileAtomic(serversFile(trustDir), `${JSON.stringify(body, null, 2)}\n`, { mode: 0o600 });
}
