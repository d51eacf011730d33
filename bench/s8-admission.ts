// Measurement 8: one admission decision in-process, warm. A real docker-registry and a Signet server
// (`signet server`), one image signed with `signet sign`; then the webhook's AdmissionHandler (the
// code behind POST /mutate, without the HTTPS transport) handles a Pod AdmissionReview v1 for that
// image again and again: parse the body, find the images, the enforcer's warm cache hit, the
// decision, the JSONPatch and the response JSON. Per-call wall time with process.hrtime; the target
// is ≤ 1 ms.
import os from 'node:os';
import path from 'node:path';
import { AdmissionHandler } from '../src/admission/index.js';
import { createEnforcer, DEFAULT_CACHE_TTL_MS } from '../src/enforce/index.js';
import { pushImage } from '../test/harness/push-image.js';
import { startRegistry } from '../test/harness/registry.js';
import type { TestCA } from '../test/harness/tls.js';
import type { Options } from './lib/context.js';
import { signetCli, startSignetServer } from './lib/signet.js';
import { check, log, median } from './lib/util.js';

export interface AdmissionSection {
  measuredAt: string;
  image: string;
  warmup: number;
  iterations: number;
  medianUs: number;
  p99Us: number;
  meanUs: number;
  maxUs: number;
  /** CPU time (user + system) of this process over the timed loop ÷ calls: the cost without preemption */
  cpuUsPerCall: number;
  /** 1-minute load average when the loop started and ended (the machine is shared: preemption shows in p99) */
  loadAverage: [number, number];
  cores: number;
  /** the enforcer's cache lifetime for a fresh update (a hit needs no network) */
  cacheTtlMs: number;
  targetMs: number;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

/** The Pod AdmissionReview v1 the API server sends for a one-container Pod (as in test/admission/reviews.ts). */
function podReview(image: string): Buffer {
  return Buffer.from(
    JSON.stringify({
      kind: 'AdmissionReview',
      apiVersion: 'admission.k8s.io/v1',
      request: {
        uid: '705ab4f5-6393-11e8-b7cc-42010a800002',
        kind: { group: '', version: 'v1', kind: 'Pod' },
        resource: { group: '', version: 'v1', resource: 'pods' },
        requestKind: { group: '', version: 'v1', kind: 'Pod' },
        requestResource: { group: '', version: 'v1', resource: 'pods' },
        name: 'web',
        namespace: 'prod',
        operation: 'CREATE',
        userInfo: { username: 'kubernetes-admin', groups: ['system:masters', 'system:authenticated'] },
        object: {
          kind: 'Pod',
          apiVersion: 'v1',
          metadata: { name: 'web', namespace: 'prod', labels: { app: 'web' } },
          spec: {
            containers: [
              {
                name: 'web',
                image,
                resources: {},
                terminationMessagePath: '/dev/termination-log',
                terminationMessagePolicy: 'File',
                imagePullPolicy: 'IfNotPresent',
              },
            ],
            restartPolicy: 'Always',
            dnsPolicy: 'ClusterFirst',
            schedulerName: 'default-scheduler',
          },
          status: {},
        },
        oldObject: null,
        dryRun: false,
        options: { kind: 'CreateOptions', apiVersion: 'meta.k8s.io/v1' },
      },
    }),
  );
}

export async function runAdmission(base: {
  work: string;
  ca: TestCA;
  caPem: Buffer;
  signetCert: { cert: string; key: string };
  opts: Options;
}): Promise<AdmissionSection> {
  const dir = path.join(base.work, 's8');
  const registry = await startRegistry();
  const server = await startSignetServer({
    dir,
    cert: base.signetCert.cert,
    key: base.signetCert.key,
    ca: base.caPem,
    name: 'signet-server-s8',
  });
  try {
    const img = await pushImage(registry.host, 'bench/admission', 'v1');
    const cli = signetCli({ server: server.url, caFile: base.ca.caCert, trustDir: path.join(dir, 'publisher') });
    check(await cli.run(['init', img.gun]), 'signet init');
    check(await cli.run(['sign', `${img.gun}:v1`]), 'signet sign');

    const enforcer = await createEnforcer({
      trustDir: path.join(dir, 'webhook-trust'),
      server: server.url,
      tlsCa: base.ca.caCert,
      tofu: true,
    });
    try {
      const handler = new AdmissionHandler({ enforcer, reportOnly: false, excludeNamespaces: [] });
      const image = `${img.gun}:v1`;
      const body = podReview(image);
      const once = async (): Promise<string> => {
        const r = await handler.handle('mutate', body);
        return JSON.stringify(r.body);
      };
      const first = JSON.parse(await once()) as { response: { allowed: boolean; patch?: string } };
      if (!first.response.allowed || first.response.patch === undefined) {
        throw new Error(`the webhook did not admit and pin ${image}: ${JSON.stringify(first)}`);
      }
      const warmup = base.opts.quick ? 200 : 2_000;
      const iterations = base.opts.quick ? 2_000 : 20_000;
      for (let i = 0; i < warmup; i++) await once();
      log(`s8: ${iterations} warm admission decisions in-process`);
      const us: number[] = new Array<number>(iterations);
      const load0 = os.loadavg()[0] ?? NaN;
      const cpu0 = process.cpuUsage();
      for (let i = 0; i < iterations; i++) {
        const t0 = process.hrtime.bigint();
        await once();
        us[i] = Number(process.hrtime.bigint() - t0) / 1000;
      }
      const cpu = process.cpuUsage(cpu0);
      const load1 = os.loadavg()[0] ?? NaN;
      const sorted = [...us].sort((a, b) => a - b);
      return {
        measuredAt: new Date().toISOString(),
        image,
        warmup,
        iterations,
        medianUs: median(us),
        p99Us: percentile(sorted, 99),
        meanUs: us.reduce((a, b) => a + b, 0) / us.length,
        maxUs: sorted[sorted.length - 1] ?? NaN,
        cpuUsPerCall: (cpu.user + cpu.system) / iterations,
        loadAverage: [load0, load1],
        cores: os.cpus().length,
        cacheTtlMs: DEFAULT_CACHE_TTL_MS,
        targetMs: 1,
      };
    } finally {
      await enforcer.close();
    }
  } finally {
    await server.stop();
    await registry.stop();
  }
}

/** The section of docs/performance.md. */
export function renderAdmission(a: AdmissionSection | undefined): string[] {
  const L = ['## 8. Admission decision (in-process, warm)', ''];
  if (a === undefined) return [...L, 'Not measured yet.', ''];
  const ms = (us: number): string => `${(us / 1000).toFixed(3)} ms`;
  L.push(
    `\`AdmissionHandler.handle('mutate', …)\` for a Pod AdmissionReview v1 with one signed image (\`${a.image}\`, signed`,
    'with `signet sign` into `signet server`, pushed to docker-registry 2.8): parse, image extraction, the',
    `enforcer's warm cache hit (fresh for ${a.cacheTtlMs / 1000} s), the decision, the JSONPatch and the response JSON. No HTTPS`,
    `transport. ${a.iterations.toLocaleString('en-US')} timed calls after ${a.warmup.toLocaleString('en-US')} warm-up calls.`,
    '',
    '| median | p99 | mean | max | CPU per call | target |',
    '|---|---|---|---|---|---|',
    `| ${ms(a.medianUs)} | ${ms(a.p99Us)} | ${ms(a.meanUs)} | ${ms(a.maxUs)} | ${ms(a.cpuUsPerCall)} | ≤ ${a.targetMs} ms: ${a.p99Us <= a.targetMs * 1000 ? '**met** (median and p99)' : a.medianUs <= a.targetMs * 1000 ? '**met** for the median; p99 **missed**' : '**missed**'} |`,
    '',
    `Wall times per call; CPU per call is this process's user + system CPU over the loop divided by the calls, which`,
    `leaves out the time the process waited for a core. The machine is shared: its 1-minute load average was`,
    `${a.loadAverage[0].toFixed(1)} at the start of the loop and ${a.loadAverage[1].toFixed(1)} at the end, on ${a.cores} cores.`,
    '',
    `Measured ${a.measuredAt}.`,
    '',
  );
  return L;
}

/** The rows of the Targets table: median and p99 against ≤ 1 ms. */
export function admissionTargets(a: AdmissionSection | undefined): string[] {
  const row = (what: string, us: number | undefined): string =>
    `| warm admission decision in-process ≤ ${a?.targetMs ?? 1} ms (${what}) | ${us !== undefined ? `${(us / 1000).toFixed(3)} ms` : 'n/a'} | ${us === undefined ? 'not measured yet' : us <= (a?.targetMs ?? 1) * 1000 ? '**met**' : '**missed**'} |`;
  return [row('median', a?.medianUs), row('p99', a?.p99Us)];
}
