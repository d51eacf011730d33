/**
 * The Dockerfile builds with buildah (vfs storage, chroot isolation: no daemon, no registry) and the
 * server started from the built image answers its health check. No public registry is reachable, so
 * the base image is made here: `buildah from scratch` plus a root filesystem of this machine's node
 * binary, npm, /bin/sh and the shared libraries they load; it goes in through the NODE_IMAGE build
 * argument (default: the public node image). Everything buildah stores lives under this test's temp
 * dir. This node is 20, which has no node:sqlite, so the server runs on PostgreSQL (test/harness).
 */
import { chmod, chown, copyFile, cp, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../cli/signet.js';
import { httpOk, startOnFreePort } from '../harness/notary-peers.js';
import { startPostgres } from '../harness/postgres.js';
import { requireBinary, run, startProc } from '../harness/proc.js';
import { makeTestCA } from '../harness/tls.js';

const BUILDAH = '/usr/bin/buildah';

describe('Dockerfile: buildah build, server from the image', () => {
  let dir: string;
  let buildah: (args: string[], timeoutMs?: number) => Promise<string>;
  /** buildah's storage flags for this test's own store */
  let store: string[];
  let pg: { url: string; stop(): Promise<void> } | undefined;
  let ctr: string | undefined;

  beforeAll(async () => {
    await requireBinary(BUILDAH, 'buildah');
    dir = await mkdtemp(path.join(os.tmpdir(), 'signet-image-'));
    store = ['--storage-driver', 'vfs', '--root', path.join(dir, 'store'), '--runroot', path.join(dir, 'run')];
    buildah = async (args, timeoutMs = 120_000) => {
      const r = await run(BUILDAH, [...store, ...args], { timeoutMs });
      if (r.code !== 0)
        throw new Error(`buildah ${args.join(' ')} exited ${String(r.code)}:\n${r.stdout}\n${r.stderr}`);
      return r.stdout.trim();
    };
  }, 60_000);

  afterAll(async () => {
    if (ctr !== undefined) await buildah(['rm', ctr]).catch(() => undefined);
    await pg?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /**
   * The npm that runs this test: beside node in an official install, else the one `npm test` was
   * started with (npm_execpath; the Node 22/24 of .ci/node-version come without npm).
   */
  async function npmPackageDir(): Promise<string> {
    const candidates = [
      path.resolve(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm'),
      ...(process.env.npm_execpath ? [path.resolve(path.dirname(process.env.npm_execpath), '..')] : []),
      '/usr/lib/node_modules/npm',
      '/usr/local/lib/node_modules/npm',
    ];
    for (const c of candidates) {
      if (
        await stat(path.join(c, 'bin', 'npm-cli.js')).then(
          () => true,
          () => false,
        )
      )
        return c;
    }
    throw new Error(`no npm found for the base image (looked in ${candidates.join(', ')}); install npm`);
  }

  /** The base image: node, npm and /bin/sh with their libraries, from this machine. */
  async function makeBaseImage(): Promise<string> {
    const rootfs = path.join(dir, 'rootfs');
    for (const d of ['bin', 'usr/local/bin', 'usr/local/lib', 'etc/ssl/certs', 'tmp'])
      await mkdir(path.join(rootfs, d), { recursive: true });
    await chmod(path.join(rootfs, 'tmp'), 0o1777);
    await copyFile(process.execPath, path.join(rootfs, 'usr/local/bin/node'));
    await copyFile('/bin/dash', path.join(rootfs, 'bin/sh'));
    await chmod(path.join(rootfs, 'bin/sh'), 0o755);
    const ldd = await run('/usr/bin/ldd', [process.execPath, '/bin/dash']);
    for (const lib of new Set(ldd.stdout.match(/\/lib[^\s]*/g) ?? [])) {
      await mkdir(path.join(rootfs, path.dirname(lib)), { recursive: true });
      await copyFile(lib, path.join(rootfs, lib));
    }
    const npmDir = await npmPackageDir();
    await cp(npmDir, path.join(rootfs, 'usr/local/lib/npm'), { recursive: true });
    for (const [bin, cli] of [
      ['npm', 'npm-cli.js'],
      ['npx', 'npx-cli.js'],
    ]) {
      await writeFile(
        path.join(rootfs, 'usr/local/bin', bin!),
        `#!/bin/sh\nexec node /usr/local/lib/npm/bin/${cli!} "$@"\n`,
      );
      await chmod(path.join(rootfs, 'usr/local/bin', bin!), 0o755);
    }
    await copyFile('/etc/ssl/certs/ca-certificates.crt', path.join(rootfs, 'etc/ssl/certs/ca-certificates.crt'));
    await writeFile(path.join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
    await writeFile(path.join(rootfs, 'etc/group'), 'root:x:0:\n');
    const base = await buildah(['from', 'scratch']);
    await buildah(['copy', base, rootfs, '/']);
    // npm reaches the npm registry from the build stage; trust the same CAs this machine does
    await buildah([
      'config',
      '--env',
      'PATH=/usr/local/bin:/usr/bin:/bin',
      '--env',
      'NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt',
      base,
    ]);
    await buildah(['commit', '--quiet', '--rm', base, 'localhost/signet-test-node:local']);
    return 'localhost/signet-test-node:local';
  }

  it('builds multi-stage from a local base, as a non-root user, with a data volume and a HEALTHCHECK', async () => {
    const base = await makeBaseImage();
    await buildah(
      [
        'bud',
        '--isolation',
        'chroot',
        '--format',
        'docker',
        '--pull=false',
        '--build-arg',
        `NODE_IMAGE=${base}`,
        '-t',
        'localhost/signet:test',
        '-f',
        path.join(ROOT, 'Dockerfile'),
        ROOT,
      ],
      900_000,
    );
    const inspect = JSON.parse(await buildah(['inspect', '--type', 'image', 'localhost/signet:test'])) as {
      Docker: {
        config: {
          User: string;
          Volumes: Record<string, object>;
          Healthcheck?: { Test: string[] };
          Entrypoint: string[];
        };
      };
    };
    const config = inspect.Docker.config;
    expect(config.User).toBe('10001:10001');
    expect(Object.keys(config.Volumes)).toEqual(['/var/lib/signet']);
    expect(config.Healthcheck?.Test).toEqual([
      'CMD',
      'node',
      '/opt/signet/healthcheck.mjs',
      'https://127.0.0.1:4443/_notary_server/health',
    ]);
    expect(config.Entrypoint).toEqual(['node', '/opt/signet/dist/bin/signet.js']);
    // the build stage's dev dependencies stay behind
    const dockerfile = await readFile(path.join(ROOT, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:\d+-bookworm-slim$/m);
    expect(dockerfile.match(/^FROM /gm)).toHaveLength(2);
  }, 1_200_000);

  it('starts the server from the image (buildah run, chroot) and answers /_notary_server/health', async () => {
    pg = await startPostgres();
    const ca = await makeTestCA(path.join(dir, 'tls'));
    const leaf = await ca.issue('server');
    await chmod(leaf.key, 0o644); // read by uid 10001 inside the container, from this private temp dir
    ctr = await buildah(['from', '--pull=false', 'localhost/signet:test']);
    // The data volume, as `docker run -v signet-data:/var/lib/signet` gives it: owned by the image's user.
    const data = path.join(dir, 'data');
    await mkdir(data, { mode: 0o700 });
    await chown(data, 10001, 10001);
    const started = await startOnFreePort((port, attempt) =>
      startProc({
        name: attempt === 0 ? 'image-server' : `image-server.${attempt}`,
        cmd: BUILDAH,
        args: [
          ...store,
          'run',
          '--isolation',
          'chroot',
          '--user',
          '10001:10001',
          '-v',
          `${path.dirname(leaf.cert)}:/etc/signet/tls:ro`,
          '-v',
          `${data}:/var/lib/signet`,
          ctr!,
          '--',
          'node',
          '/opt/signet/dist/bin/signet.js',
          'server',
          '--listen',
          `127.0.0.1:${port}`,
          '--database',
          pg!.url,
          '--tls-cert',
          `/etc/signet/tls/${path.basename(leaf.cert)}`,
          '--tls-key',
          `/etc/signet/tls/${path.basename(leaf.key)}`,
        ],
        logDir: path.join(dir, 'logs'),
        ready: async () => httpOk(`https://127.0.0.1:${port}/_notary_server/health`, await readFile(ca.caCert)),
        timeoutMs: 120_000,
      }),
    );
    try {
      const res = await fetch(`https://127.0.0.1:${started.port}/_notary_server/health`).catch((e: Error) => e);
      expect(res).toBeInstanceOf(Error); // our CA only: not trusted by default
      expect(await httpOk(`https://127.0.0.1:${started.port}/_notary_server/health`, await readFile(ca.caCert))).toBe(
        true,
      );
      // the dashboard's static files are in the image (the build step copies them into dist)
      for (const page of ['/dashboard', '/dashboard/assets/app.js'])
        expect(await httpOk(`https://127.0.0.1:${started.port}${page}`, await readFile(ca.caCert)), page).toBe(true);
      // the image's own HEALTHCHECK command, run inside the image
      const probe = await run(BUILDAH, [
        ...store,
        'run',
        '--isolation',
        'chroot',
        '--user',
        '10001:10001',
        '-v',
        `${path.dirname(leaf.cert)}:/etc/signet/tls:ro`,
        ctr!,
        '--',
        'node',
        '/opt/signet/healthcheck.mjs',
        `https://127.0.0.1:${started.port}/_notary_server/health`,
        '/etc/signet/tls/ca.crt',
      ]);
      expect(probe.code, probe.stderr).toBe(0);
      const whoami = await run(BUILDAH, [
        ...store,
        'run',
        '--isolation',
        'chroot',
        ctr!,
        '--',
        'node',
        '-e',
        'console.log(process.getuid())',
      ]);
      expect(whoami.stdout.trim()).toBe('10001'); // the image's USER, not root
    } finally {
      await started.proc.stop();
    }
  }, 300_000);
});
