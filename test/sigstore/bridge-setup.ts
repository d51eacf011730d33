/** Set-up and helpers of test/sigstore/bridge-interop.test.ts: peers, signed images, key, policy, skopeo and podman runs. */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'vitest';
import { signetCli, type SignetCli } from '../cli/signet.js';
import { startClientPeers, type ClientPeers } from '../client/servers.js';
import { childEnv, requireBinary, run } from '../harness/proc.js';
import { SKOPEO_BINARY, pushImage, type PushedImage } from '../harness/push-image.js';

export const PODMAN = '/usr/bin/podman';
export const DEBIAN_DISABLED = /Debian-local change: sigstore disabled/;
export const PASSWORD = 'bridge-test-password';

export interface Report {
  referrers: string;
  written: { digest: string; tags: string[] }[];
  current: { digest: string }[];
  removed: { digest: string; deleted: boolean }[];
  failed: unknown[];
}
export const cosignEnv = { COSIGN_PASSWORD: PASSWORD };

/** Everything the bridge tests share: the peers, the pushed and signed images, key, policy and registries.d. */
export interface BridgeEnv {
  peers: ClientPeers;
  dir: string;
  host: string;
  gun: string;
  signet: SignetCli;
  img: Record<'v1' | 'v2' | 'old' | 'unsigned', PushedImage>;
  keyPrefix: string;
  policy: string;
  acceptAll: string;
  registriesD: string;
}

/**
 * Starts docker-registry and Signet's trust server, pushes v1, v2 (OCI), old and unsigned, signs the
 * first three, makes a bridge key, and writes a sigstoreSigned policy and a registries.d for podman/skopeo.
 */
export async function setupBridge(): Promise<BridgeEnv> {
  await requireBinary(SKOPEO_BINARY, 'skopeo');
  await requireBinary(PODMAN, 'podman');
  await requireBinary('/usr/bin/openssl', 'openssl');
  const peers = await startClientPeers('signet-server', 'signet-bridge-');
  try {
    const dir = peers.dir;
    const host = peers.registry.host;
    const gun = `${host}/bridge/app`;
    const [v1, v2, old, unsigned] = await Promise.all([
      pushImage(host, 'bridge/app', 'v1'),
      pushImage(host, 'bridge/app', 'v2', { format: 'oci' }),
      pushImage(host, 'bridge/app', 'old'),
      pushImage(host, 'bridge/app', 'unsigned'),
    ]);
    const img = { v1, v2, old, unsigned };
    const signet = signetCli({
      server: peers.server.url,
      caFile: peers.server.caFile,
      trustDir: path.join(dir, 'trust'),
    });
    await signet.ok(['init', gun]);
    await signet.ok(['sign', `${gun}:v1`, `${gun}:v2`, `${gun}:old`]);

    const keyPrefix = path.join(dir, 'keys', 'bridge');
    await mkdir(path.dirname(keyPrefix), { recursive: true });
    await signet.ok(['bridge', 'generate-key', '--output-key-prefix', keyPrefix], { env: cosignEnv });

    const acceptAll = path.join(dir, 'accept-all.json');
    await writeFile(acceptAll, JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }] }));
    await mkdir(path.join(dir, 'out'), { recursive: true });
    const policy = path.join(dir, 'policy.json');
    await writeFile(
      policy,
      JSON.stringify({
        default: [{ type: 'reject' }],
        transports: {
          docker: {
            [host]: [
              { type: 'sigstoreSigned', keyPath: `${keyPrefix}.pub`, signedIdentity: { type: 'matchRepository' } },
            ],
          },
          dir: { '': [{ type: 'insecureAcceptAnything' }] },
        },
      }),
    );
    // podman reads $HOME/.config/containers/registries.d when it exists; skopeo takes --registries.d
    const registriesD = path.join(dir, 'home', '.config', 'containers', 'registries.d');
    await mkdir(registriesD, { recursive: true });
    await writeFile(path.join(registriesD, 'bridge.yaml'), `docker:\n  ${host}:\n    use-sigstore-attachments: true\n`);
    return { peers, dir, host, gun, signet, img, keyPrefix, policy, acceptAll, registriesD };
  } catch (err) {
    await peers.stop();
    throw err;
  }
}

export async function runBridge({ signet, gun, keyPrefix }: BridgeEnv, extra: string[] = []): Promise<Report> {
  const r = await signet.run(['bridge', gun, '--key', `${keyPrefix}.key`, '--json', ...extra], { env: cosignEnv });
  expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
  return JSON.parse(r.stdout) as Report;
}

export async function listSigTags({ host }: BridgeEnv): Promise<string[]> {
  const res = await fetch(`http://${host}/v2/bridge/app/tags/list`);
  const body = (await res.json()) as { tags: string[] };
  return body.tags.filter((t) => t.endsWith('.sig')).sort();
}

export const sigTag = (i: PushedImage): string => `${i.digest.replace(':', '-')}.sig`;

export function runSkopeo(
  { policy, registriesD }: BridgeEnv,
  args: string[],
  policyFile = policy,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return run(SKOPEO_BINARY, ['--policy', policyFile, '--registries.d', registriesD, ...args], {
    env: childEnv(),
    timeoutMs: 120_000,
  });
}

export async function runPodmanPull(
  { dir, policy }: BridgeEnv,
  ref: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const root = path.join(dir, 'podman');
  const home = path.join(dir, 'home');
  const conf = path.join(dir, 'containers.conf');
  await writeFile(conf, '[engine]\nevents_logger = "file"\ncgroup_manager = "cgroupfs"\n');
  return run(
    PODMAN,
    [
      '--root',
      path.join(root, 'storage'),
      '--runroot',
      path.join(root, 'run'),
      '--storage-driver',
      'vfs',
      'pull',
      '--tls-verify=false',
      '--signature-policy',
      policy,
      ref,
    ],
    {
      env: childEnv({ HOME: home, CONTAINERS_CONF: conf, XDG_CONFIG_HOME: path.join(home, '.config') }),
      timeoutMs: 180_000,
    },
  );
}
