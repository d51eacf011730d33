/**
 * The CI templates in templates/ run for real: each template's shell steps are read out of the file
 * (ci-templates.ts) and run in order, with the delegation key and its passphrase handed over as the CI
 * hands them over, against a docker-registry 2.8, Signet's trust server and a signet proxy on
 * 127.0.0.1. Jenkins and the GitLab runner are not installable here, so their step runners are
 * emulated (Jenkins: `sh -xe`, withCredentials file/string; GitHub: bash -eo pipefail, step env and
 * outputs; GitLab: bash -eo pipefail, File variables, dotenv reports); the tools the steps call are
 * the built `signet`, a `docker` that pushes with skopeo, and a `kubectl` that pulls through the proxy.
 */
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../cli/signet.js';
import { freePort } from '../harness/ports.js';
import { pushImage } from '../harness/push-image.js';
import { runGithub, runGitlab, runJenkins, seedJenkinsfile, type CiContext, type PipelineRun } from './ci-templates.js';
import { CI_KEY_PASSPHRASE, addCiSigner, rootCertId, startPipelinePeers, type PipelinePeers } from './peers.js';

const T = (...p: string[]): string => path.join(ROOT, 'templates', ...p);

const TEMPLATES: { name: string; run: (ctx: CiContext, skip?: string[]) => Promise<PipelineRun> }[] = [
  { name: 'Jenkinsfile', run: (ctx, skip) => runJenkins(T('jenkins', 'Jenkinsfile'), ctx, skip) },
  {
    name: 'Job DSL seed job',
    run: async (ctx, skip) =>
      runJenkins(path.join(ROOT, seedJenkinsfile(await readFile(T('jenkins', 'seed-job.groovy'), 'utf8'))), ctx, skip),
  },
  { name: 'GitHub Actions workflow', run: (ctx, skip) => runGithub(T('github', 'signet-pipeline.yml'), ctx, skip) },
  { name: 'GitLab CI template', run: (ctx, skip) => runGitlab(T('gitlab', 'signet.gitlab-ci.yml'), ctx, skip) },
];

describe('CI templates: build → push → sign → verify gate → deploy by digest', () => {
  let peers: PipelinePeers;
  let gun: string;
  let rootId: string;
  let keyPem: string;
  let build = 100;

  beforeAll(async () => {
    const started = await startPipelinePeers('signet-pipeline-', (host) => `${host}/team/app`);
    peers = started.peers;
    gun = `${peers.registry.host}/team/app`;
    rootId = rootCertId(started.init);
    keyPem = (await addCiSigner(peers.admin, gun, 'ci')).pem;
  }, 240_000);

  afterAll(async () => {
    await peers?.stop();
  });

  async function context(over: { passphrase?: string; server?: string } = {}): Promise<CiContext> {
    const buildNumber = String(++build);
    const workspace = path.join(peers.dir, `ws-${buildNumber}`, 'workspace');
    await mkdir(workspace, { recursive: true });
    return {
      workspace,
      buildNumber,
      params: {
        IMAGE: gun,
        SIGNET_SERVER: over.server ?? peers.server.url,
        SIGNET_ROOT_KEY_ID: rootId,
        DEPLOYMENT: 'app',
      },
      caFile: peers.server.caFile,
      secrets: { delegationKeyPem: keyPem, passphrase: over.passphrase ?? CI_KEY_PASSPHRASE },
      env: {
        PATH: `${peers.binDir}:/usr/local/bin:/usr/bin:/bin`,
        HOME: path.join(workspace, '..'),
        NO_PROXY: '127.0.0.1,localhost',
        SHIM_STATE: workspace,
        SHIM_DEPLOY_LOG: peers.deployLog,
        SHIM_PROXY_HOST: peers.proxy.host,
      },
    };
  }

  /** No secret in the build log: neither passphrase nor any line of the key's body. */
  function expectNoSecret(log: string, passphrase: string): void {
    expect(log).not.toContain(passphrase);
    for (const line of keyPem.split('\n').filter((l) => l.length >= 16 && !l.startsWith('-----') && !l.includes(':')))
      expect(log).not.toContain(line);
  }

  const deployed = async (): Promise<string[]> =>
    (await readFile(peers.deployLog, 'utf8')).split('\n').filter((l) => l !== '');

  describe.each(TEMPLATES)('$name', ({ run }) => {
    it('a signed image passes the verify gate and is deployed by its verified digest', async () => {
      const ctx = await context();
      const r = await run(ctx);
      expect(r.failed, r.log).toBeUndefined();
      expect(r.stages.map((s) => s.stage)).toEqual(expect.arrayContaining(['build', 'sign', 'verify', 'deploy']));
      const pushed = /digest: (sha256:[0-9a-f]{64})/.exec(r.log)?.[1];
      expect(pushed, r.log).toBeDefined();
      const ref = `${gun}@${pushed!}`;
      expect(r.log).toContain(`verified: ${ref}`);
      expect((await deployed()).at(-1)).toBe(ref); // the digest, not the tag
      expect(r.log).toContain('image updated'); // pulled through the enforcing proxy
      expectNoSecret(r.log, ctx.secrets.passphrase);
    }, 180_000);

    it('an unsigned image (pushed, sign skipped) stops the pipeline at the verify gate', async () => {
      const before = (await deployed()).length;
      const ctx = await context();
      const r = await run(ctx, ['sign']);
      expect(r.failed, r.log).toBe('verify');
      const verify = r.stages.find((s) => s.stage === 'verify')!;
      expect(verify.code).toBe(3); // NOT_SIGNED
      expect(r.stages.map((s) => s.stage)).not.toContain('deploy');
      expect((await deployed()).length).toBe(before);
    }, 180_000);

    it('a tampered image (tag re-pointed after signing) stops the pipeline at the verify gate', async () => {
      const before = (await deployed()).length;
      const ctx = await context();
      const first = await run(ctx, ['verify', 'deploy']);
      expect(first.failed, first.log).toBeUndefined();
      await pushImage(peers.registry.host, 'team/app', ctx.buildNumber, { format: 'oci' }); // other bytes, same tag
      const r = await run(ctx, ['build', 'push', 'sign']);
      expect(r.failed, r.log).toBe('verify');
      expect(r.stages.find((s) => s.stage === 'verify')!.code).toBe(8); // TAG_MOVED
      expect((await deployed()).length).toBe(before);
      expectNoSecret(first.log + r.log, ctx.secrets.passphrase);
    }, 180_000);

    it('a wrong passphrase fails the sign stage, and the pipeline stops there', async () => {
      const ctx = await context({ passphrase: 'not-the-passphrase-4711' });
      const r = await run(ctx);
      expect(r.failed, r.log).toBe('sign');
      expect(r.stages.find((s) => s.stage === 'sign')!.code).toBe(7); // BAD_PASSPHRASE
      expect(r.log).toContain('DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE');
      expect(r.stages.map((s) => s.stage)).not.toContain('verify');
      expectNoSecret(r.log, ctx.secrets.passphrase);
      expectNoSecret(r.log, CI_KEY_PASSPHRASE);
    }, 180_000);

    it('the trust server down fails the sign stage (the push alone is not a success)', async () => {
      const ctx = await context({ server: `https://127.0.0.1:${await freePort()}` });
      const r = await run(ctx);
      expect(r.failed, r.log).toBe('sign');
      expect(r.stages.find((s) => s.stage === 'sign')!.code).toBe(6); // NETWORK
      expect(r.stages.map((s) => s.stage)).not.toContain('verify');
      expectNoSecret(r.log, ctx.secrets.passphrase);
    }, 180_000);
  });
});
