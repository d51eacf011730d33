/**
 * Issue 10, the webhook end to end: images pushed to the real docker-registry 2.8, signed with
 * `signet sign` into Signet's own server, and AdmissionReview v1 requests shaped as the API server
 * sends them POSTed over HTTPS to the running webhook: in-process (enforcing) and the built CLI
 * (`signet admission --report-only`). Pod, Deployment and CronJob; allowed, denied naming why,
 * mixed containers/initContainers; the returned JSONPatch is applied and the object checked; a
 * policy file with report, skip and enforce rules.
 */
import https from 'node:https';
import path from 'node:path';
import { readFile, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAdmissionServer, type AdmissionReviewResponse, type AdmissionServer } from '../../src/admission/index.js';
import { createEnforcer, type Enforcer } from '../../src/enforce/index.js';
import { SIGNET_MAIN, signetCli, type SignetCli } from '../cli/signet.js';
import { startClientPeers, type ClientPeers } from '../client/servers.js';
import { httpOk, startOnFreePort } from '../harness/notary-peers.js';
import { childEnv, startProc, type Proc } from '../harness/proc.js';
import { pushImage, type PushedImage } from '../harness/push-image.js';
import { makeTestCA } from '../harness/tls.js';
import { admissionReview, applyPatch, decodePatch, workload, type PodSpecInput, type WorkloadKind } from './reviews.js';

interface Reply {
  status: number;
  json: unknown;
}

function post(url: string, ca: Buffer, body: string | Buffer, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      { method: 'POST', ca, agent: false, headers: { 'content-type': 'application/json', ...headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          try {
            resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) });
          } catch {
            reject(new Error(`${url} → ${res.statusCode}: not JSON: ${text.slice(0, 200)}`));
          }
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('signet admission against a real registry and trust server', () => {
  let peers: ClientPeers | undefined;
  let signet: SignetCli;
  let ca: Buffer;
  let tls: { cert: string; key: string };
  let enforcer: Enforcer | undefined;
  let webhook: AdmissionServer | undefined;
  let cliWebhook: { url: string; proc: Proc } | undefined;
  let webhookTrustDir: string;
  const img: Record<'app1' | 'app2' | 'tools' | 'job', PushedImage> = {} as never;
  const rootIds = new Map<string, string>();

  beforeAll(async () => {
    peers = await startClientPeers('signet-server', 'signet-admission-');
    const { registry, server, dir } = peers;
    [img.app1, img.app2, img.tools, img.job] = await Promise.all([
      pushImage(registry.host, 'admission/app', '1.0'),
      pushImage(registry.host, 'admission/app', '2.0', { format: 'oci' }), // pushed, never signed
      pushImage(registry.host, 'admission/tools', '1.0'),
      pushImage(registry.host, 'admission/job', 'nightly'),
    ]);
    signet = signetCli({ server: server.url, caFile: server.caFile, trustDir: path.join(dir, 'publisher', 'trust') });
    for (const repo of ['admission/app', 'admission/tools', 'admission/job'])
      await signet.ok(['init', `${registry.host}/${repo}`]);
    await signet.ok(['sign', img.app1.gun + ':1.0', img.tools.gun + ':1.0', img.job.gun + ':nightly']);

    // the webhook's own trust dir: the roots pinned to the published root key IDs (signet pin)
    webhookTrustDir = path.join(dir, 'webhook', 'trust');
    const webhookCli = signetCli({ server: server.url, caFile: server.caFile, trustDir: webhookTrustDir });
    for (const i of [img.app1, img.tools, img.job]) {
      const inspect = JSON.parse((await signet.ok(['inspect', i.gun])).stdout) as {
        AdministrativeKeys: { Name: string; Keys: { ID: string }[] }[];
      }[];
      const root = inspect[0]?.AdministrativeKeys.find((k) => k.Name === 'Root')?.Keys[0]?.ID;
      await webhookCli.ok(['pin', i.gun, root as string]);
      rootIds.set(i.gun, root as string);
    }

    const testCa = await makeTestCA(path.join(dir, 'webhook-tls'));
    tls = await testCa.issue('webhook', { eku: 'serverAuth' });
    ca = await readFile(testCa.caCert);
    enforcer = await createEnforcer({ trustDir: webhookTrustDir, server: server.url, tlsCa: server.caFile });
    webhook = await startAdmissionServer({
      host: '127.0.0.1',
      port: 0,
      tlsCertFile: tls.cert,
      tlsKeyFile: tls.key,
      enforcer,
      reportOnly: false,
      excludeNamespaces: ['kube-system'],
    });

    // the built CLI, report only, on its own trust dir copy of the pins
    const started = await startOnFreePort((port, attempt) =>
      startProc({
        name: `signet-admission${attempt ? `.${attempt}` : ''}`,
        cmd: process.execPath,
        args: [
          SIGNET_MAIN,
          '--server',
          server.url,
          '--tls-ca',
          server.caFile,
          '--trust-dir',
          webhookTrustDir,
          'admission',
          '--listen',
          `127.0.0.1:${port}`,
          '--tls-cert',
          tls.cert,
          '--tls-key',
          tls.key,
          '--report-only',
        ],
        env: childEnv({ HOME: path.join(dir, 'home'), DOCKER_CONFIG: path.join(dir, 'docker-config') }),
        logDir: path.join(dir, 'logs'),
        ready: () => httpOk(`https://127.0.0.1:${port}/readyz`, ca),
        listenPort: port,
        timeoutMs: 30_000,
      }),
    );
    cliWebhook = { url: `https://127.0.0.1:${started.port}`, proc: started.proc };
  }, 240_000);

  afterAll(async () => {
    await cliWebhook?.proc.stop();
    await webhook?.close();
    await enforcer?.close();
    await peers?.stop();
  });

  const review = async (
    endpoint: string,
    kind: WorkloadKind,
    spec: PodSpecInput,
    opts: { namespace?: string; url?: string } = {},
  ): Promise<{ object: Record<string, unknown>; uid: string; res: AdmissionReviewResponse['response'] }> => {
    const object = workload(kind, `w-${kind.toLowerCase()}`, opts.namespace ?? 'prod', spec);
    const body = admissionReview(object);
    const uid = (body.request as { uid: string }).uid;
    const r = await post(`${opts.url ?? webhook!.url}${endpoint}?timeout=10s`, ca, JSON.stringify(body));
    expect(r.status).toBe(200);
    const doc = r.json as AdmissionReviewResponse;
    expect(doc.apiVersion).toBe('admission.k8s.io/v1');
    expect(doc.kind).toBe('AdmissionReview');
    expect(doc.response.uid).toBe(uid);
    return { object, uid, res: doc.response };
  };
  const ref = (i: PushedImage): string => `${i.gun}:${i.tag}`;
  const pinned = (i: PushedImage): string => `${i.gun}:${i.tag}@${i.digest}`;

  it('Pod with a signed tag: /mutate pins it to the signed digest; /validate admits the pinned Pod', async () => {
    const { object, res } = await review('/mutate', 'Pod', { containers: [{ name: 'app', image: ref(img.app1) }] });
    expect(res.allowed).toBe(true);
    expect(res.patchType).toBe('JSONPatch');
    const patched = applyPatch(object, decodePatch(res.patch as string)) as {
      spec: { containers: { image: string }[] };
    };
    expect(patched.spec.containers.map((c) => c.image)).toEqual([pinned(img.app1)]);
    const v = await review('/validate', 'Pod', { containers: [{ name: 'app', image: pinned(img.app1) }] });
    expect(v.res).toEqual({ uid: v.uid, allowed: true });
  });

  it('Pod with an unsigned tag: denied with 403 naming the image and why', async () => {
    const { res } = await review('/validate', 'Pod', { containers: [{ name: 'app', image: ref(img.app2) }] });
    expect(res.allowed).toBe(false);
    expect(res.status?.code).toBe(403);
    expect(res.status?.message).toContain(`${ref(img.app2)} (containers[0] "app"): NOT_SIGNED: `);
    const m = await review('/mutate', 'Pod', { containers: [{ name: 'app', image: ref(img.app2) }] });
    expect(m.res.allowed).toBe(false);
    expect(m.res.patch).toBeUndefined();
  });

  it('Deployment, mixed: a signed init container and one unsigned container deny naming only that one', async () => {
    const { res } = await review('/validate', 'Deployment', {
      initContainers: [{ name: 'migrate', image: ref(img.tools) }],
      containers: [
        { name: 'web', image: ref(img.app1) },
        { name: 'sidecar', image: ref(img.app2) },
      ],
    });
    expect(res.allowed).toBe(false);
    expect(res.status?.message).toMatch(/^signet: 1 image refused: /);
    expect(res.status?.message).toContain(`${ref(img.app2)} (containers[1] "sidecar"): NOT_SIGNED: `);
    expect(res.status?.message).not.toContain(ref(img.tools));
  });

  it('Deployment, mixed, all signed: init container and containers are pinned in the template', async () => {
    const { object, res } = await review('/mutate', 'Deployment', {
      initContainers: [{ name: 'migrate', image: ref(img.tools) }],
      containers: [
        { name: 'web', image: ref(img.app1) },
        { name: 'web2', image: `${img.app1.gun}@${img.app1.digest}` },
      ],
    });
    expect(res.allowed).toBe(true);
    const patched = applyPatch(object, decodePatch(res.patch as string)) as {
      spec: { template: { spec: { initContainers: { image: string }[]; containers: { image: string }[] } } };
    };
    const pod = patched.spec.template.spec;
    expect(pod.initContainers.map((c) => c.image)).toEqual([pinned(img.tools)]);
    // a digest reference that is signed is admitted as it is
    expect(pod.containers.map((c) => c.image)).toEqual([pinned(img.app1), `${img.app1.gun}@${img.app1.digest}`]);
  });

  it('a digest nobody signed is denied', async () => {
    const { res } = await review('/validate', 'Pod', {
      containers: [{ name: 'x', image: `${img.app1.gun}@${img.app2.digest}` }],
    });
    expect(res.allowed).toBe(false);
    expect(res.status?.message).toContain(`${img.app1.gun}@${img.app2.digest} (containers[0] "x"): NOT_SIGNED: `);
  });

  it('CronJob: the job template pod is pinned; an unsigned one is denied', async () => {
    const { object, res } = await review('/mutate', 'CronJob', { containers: [{ name: 'job', image: ref(img.job) }] });
    expect(res.allowed).toBe(true);
    const patched = applyPatch(object, decodePatch(res.patch as string)) as {
      spec: { jobTemplate: { spec: { template: { spec: { containers: { image: string }[] } } } } };
    };
    expect(patched.spec.jobTemplate.spec.template.spec.containers[0]?.image).toBe(pinned(img.job));
    const bad = await review('/validate', 'CronJob', {
      initContainers: [{ name: 'init', image: ref(img.app2) }],
      containers: [{ name: 'job', image: ref(img.job) }],
    });
    expect(bad.res.allowed).toBe(false);
    expect(bad.res.status?.message).toContain(`${ref(img.app2)} (initContainers[0] "init")`);
  });

  it('policy modes per repository: report warns and is not pinned, skip is not checked, enforce pins', async () => {
    const policyFile = path.join(peers!.dir, 'policy.json');
    await writeFile(
      policyFile,
      JSON.stringify({
        version: 1,
        rules: [
          { repository: img.app1.gun, mode: 'report', pins: { keyIds: [rootIds.get(img.app1.gun)] } },
          { repository: `${peers!.registry.host}/admission/tool*`, mode: 'skip' },
          { repository: img.job.gun, mode: 'enforce', pins: { keyIds: [rootIds.get(img.job.gun)] } },
        ],
      }),
    );
    // an empty trust dir: the pins come from the policy
    const policyEnforcer = await createEnforcer({
      policyFile,
      trustDir: path.join(peers!.dir, 'policy-trust'),
      server: peers!.server.url,
      tlsCa: peers!.server.caFile,
    });
    const policyWebhook = await startAdmissionServer({
      host: '127.0.0.1',
      port: 0,
      tlsCertFile: tls.cert,
      tlsKeyFile: tls.key,
      enforcer: policyEnforcer,
      reportOnly: false,
      excludeNamespaces: [],
    });
    try {
      const { object, res } = await review(
        '/mutate',
        'Deployment',
        {
          initContainers: [{ name: 'tools', image: `${img.tools.gun}:not-even-pushed` }],
          containers: [
            { name: 'app', image: ref(img.app2) },
            { name: 'job', image: ref(img.job) },
          ],
        },
        { url: policyWebhook.url },
      );
      expect(res.allowed).toBe(true);
      expect(res.warnings).toEqual([`signet: ${ref(img.app2)} fails verification (report mode): NOT_SIGNED`]);
      const patched = applyPatch(object, decodePatch(res.patch as string)) as {
        spec: { template: { spec: { initContainers: { image: string }[]; containers: { image: string }[] } } };
      };
      expect(patched.spec.template.spec.initContainers[0]?.image).toBe(`${img.tools.gun}:not-even-pushed`);
      expect(patched.spec.template.spec.containers.map((c) => c.image)).toEqual([ref(img.app2), pinned(img.job)]);
      // the signed tag of a report-mode repository is admitted but not pinned
      const rep = await review(
        '/mutate',
        'Pod',
        { containers: [{ name: 'a', image: ref(img.app1) }] },
        { url: policyWebhook.url },
      );
      expect(rep.res).toEqual({ uid: rep.uid, allowed: true });
    } finally {
      await policyWebhook.close();
      await policyEnforcer.close();
    }
  });

  it('an excluded namespace is admitted unchecked', async () => {
    const { res } = await review(
      '/validate',
      'Pod',
      { containers: [{ name: 'x', image: ref(img.app2) }] },
      { namespace: 'kube-system' },
    );
    expect(res.allowed).toBe(true);
  });

  it('the built CLI with --report-only admits with warnings (each < 120 characters) and patches nothing', async () => {
    const url = cliWebhook!.url;
    for (const endpoint of ['/validate', '/mutate']) {
      const { res } = await review(
        endpoint,
        'Deployment',
        {
          containers: [
            { name: 'web', image: ref(img.app1) },
            { name: 'sidecar', image: ref(img.app2) },
          ],
        },
        { url },
      );
      expect(res.allowed).toBe(true);
      expect(res.patch).toBeUndefined();
      expect(res.warnings).toHaveLength(1);
      expect(res.warnings?.[0]).toMatch(
        new RegExp(`^signet: ${ref(img.app2).replace(/[.:/]/g, '\\$&')} would be denied: `),
      );
      for (const w of res.warnings ?? []) expect(w.length).toBeLessThan(120);
    }
    // the in-process webhook's /report/ path answers the same way
    const r = await review('/report/validate', 'Pod', { containers: [{ name: 'x', image: ref(img.app2) }] });
    expect(r.res.allowed).toBe(true);
    expect(r.res.warnings?.[0]).toContain('would be denied');
  });

  it('a broken body gets 400 with a JSON error, a huge one 413, and the webhook keeps serving', async () => {
    for (const url of [webhook!.url, cliWebhook!.url]) {
      for (const body of [
        '{"kind":',
        '[]',
        '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"kind":{}}}',
      ]) {
        const r = await post(`${url}/validate`, ca, body);
        expect(r.status).toBe(400);
        expect(r.json).toMatchObject({ error: { code: 'BAD_ADMISSION_REVIEW' } });
      }
      const big = await post(`${url}/mutate`, ca, Buffer.alloc(8 * 1024 * 1024, 0x20));
      expect(big.status).toBe(413);
      expect(big.json).toMatchObject({ error: { code: 'BODY_TOO_LARGE' } });
      expect(await httpOk(`${url}/healthz`, ca)).toBe(true);
      expect(await httpOk(`${url}/readyz`, ca)).toBe(true);
    }
  });
});
