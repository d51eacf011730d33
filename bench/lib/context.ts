// Everything the sections share: work dir, test CA, the two trust servers, the registry, CLIs.
import { readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { startNotaryPeers, type NotaryPeers } from '../../test/harness/notary-peers.js';
import { TEST_PASSPHRASES } from '../../test/harness/notary-cli.js';
import { childEnv } from '../../test/harness/proc.js';
import type { TestRegistry } from '../../test/harness/registry.js';
import type { TestCA } from '../../test/harness/tls.js';
import { startSignetServer, type SignetServer } from './signet.js';
import { exec, type Exec, type Maybe, attempt } from './util.js';

export const NOTARY = '/usr/bin/notary';

export interface Options {
  only: Set<number>;
  quick: boolean;
  durationS: number;
  wrkThreads: number;
  cpuProf: boolean;
  keep: boolean;
  render?: boolean;
  /** measurement 4 repository sizes (default 1,000 / 10,000 / 100,000) */
  sizes?: number[];
}

export interface Ctx {
  opts: Options;
  work: string;
  ca: TestCA;
  caPem: Buffer;
  signetCert: { cert: string; key: string };
  bareCert: { cert: string; key: string };
  notary: NotaryPeers;
  signet: Maybe<SignetServer>;
  registry?: TestRegistry;
  profDir: string;
}

/** The real notary CLI, never prompting, with a bounded run time. */
export function notaryRun(server: string, caFile: string, trustDir: string) {
  const env = childEnv(
    {
      NOTARY_ROOT_PASSPHRASE: TEST_PASSPHRASES.root,
      NOTARY_TARGETS_PASSPHRASE: TEST_PASSPHRASES.targets,
      NOTARY_SNAPSHOT_PASSPHRASE: TEST_PASSPHRASES.snapshot,
      NOTARY_DELEGATION_PASSPHRASE: TEST_PASSPHRASES.delegation,
    },
    (k) => k.startsWith('NOTARY_'),
  );
  return (args: string[], timeoutMs = 900_000): Promise<Exec> =>
    exec(NOTARY, ['-s', server, '--tlscacert', caFile, '-d', trustDir, ...args], { env, timeoutMs });
}

/** PIDs of processes whose command line contains `needle` (e.g. the notary peers' temp dir). */
export async function pidsByCmdline(needle: string): Promise<{ pid: number; cmd: string }[]> {
  const out: { pid: number; cmd: string }[] = [];
  for (const d of await readdir('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const cmd = (await readFile(`/proc/${d}/cmdline`, 'utf8')).split('\0').join(' ');
      if (cmd.includes(needle)) out.push({ pid: Number(d), cmd });
    } catch {
      /* gone */
    }
  }
  return out;
}

/** notary-server and notary-signer PIDs of one harness instance. */
export async function notaryPids(peers: NotaryPeers): Promise<{ server: number; signer: number }> {
  const ps = await pidsByCmdline(peers.dir);
  const server = ps.find((p) => p.cmd.startsWith('/usr/bin/notary-server') && p.cmd.includes('notary-server.json'));
  const signer = ps.find((p) => p.cmd.startsWith('/usr/bin/notary-signer'));
  if (!server || !signer) throw new Error(`cannot find the notary peers' PIDs under ${peers.dir}`);
  return { server: server.pid, signer: signer.pid };
}

export async function startBoth(
  ctx: Pick<Ctx, 'work' | 'signetCert' | 'caPem' | 'opts' | 'profDir'>,
  name: string,
): Promise<{
  notary: NotaryPeers;
  signet: Maybe<SignetServer>;
}> {
  const notary = await startNotaryPeers();
  const signet = await attempt('signet server', () =>
    startSignetServer({
      dir: ctx.work,
      cert: ctx.signetCert.cert,
      key: ctx.signetCert.key,
      ca: ctx.caPem,
      name,
      ...(ctx.opts.cpuProf ? { nodeArgs: ['--cpu-prof', '--cpu-prof-dir', ctx.profDir] } : {}),
    }),
  );
  return { notary, signet };
}

export async function rmrf(p: string): Promise<void> {
  await rm(p, { recursive: true, force: true });
}

export const gunPath = (trustDir: string, gun: string): string => path.join(trustDir, 'tuf', ...gun.split('/'));
