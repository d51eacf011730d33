// deploy/kubernetes/: every file parses as YAML, and the fields the API server acts on are right:
// webhook wiring (AdmissionReview v1, no side effects, Fail when enforcing, timeouts, rules for pods
// and every workload kind), the Service/Deployment/probe/TLS wiring, and the certificate script.
import { readFile, readdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { X509Certificate } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { ADMITTED_KINDS } from '../../src/admission/index.js';
import { loadPolicy } from '../../src/enforce/index.js';
import { makeTestCA } from '../harness/tls.js';
import { ROOT } from '../cli/signet.js';
import { requireBinary, run } from '../harness/proc.js';

const DIR = path.join(ROOT, 'deploy', 'kubernetes');

type Doc = Record<string, unknown> & { kind: string; metadata: { name: string; namespace?: string } };

async function docs(file: string): Promise<Doc[]> {
  const parsed = parseAllDocuments(await readFile(path.join(DIR, file), 'utf8'));
  for (const d of parsed) expect(d.errors, `${file}: ${d.errors.join('; ')}`).toEqual([]);
  return parsed.map((d) => d.toJS() as Doc);
}

interface Webhook {
  name: string;
  admissionReviewVersions: string[];
  sideEffects: string;
  failurePolicy: string;
  timeoutSeconds: number;
  reinvocationPolicy?: string;
  clientConfig: { service: { name: string; namespace: string; path: string; port: number } };
  namespaceSelector: { matchExpressions: { key: string; operator: string; values: string[] }[] };
  rules: { operations: string[]; apiGroups: string[]; apiVersions: string[]; resources: string[] }[];
}

/** The resources (group/resource) each workload kind is admitted under. */
const RESOURCES = [
  '/pods',
  '/pods/ephemeralcontainers',
  '/replicationcontrollers',
  'apps/deployments',
  'apps/statefulsets',
  'apps/daemonsets',
  'apps/replicasets',
  'batch/jobs',
  'batch/cronjobs',
];

describe('deploy/kubernetes', () => {
  it('every YAML file parses', async () => {
    const files = (await readdir(DIR)).filter((f) => f.endsWith('.yaml'));
    expect(files.sort()).toEqual(
      [
        'certificate.yaml',
        'deployment.yaml',
        'kustomization.yaml',
        'namespace.yaml',
        'pdb.yaml',
        'policy.yaml',
        'service.yaml',
        'webhooks.yaml',
      ].sort(),
    );
    for (const f of files) expect((await docs(f)).length).toBeGreaterThan(0);
    const k = (await docs('kustomization.yaml'))[0] as unknown as { resources: string[] };
    for (const r of k.resources) expect(files).toContain(r);
  });

  it('webhook configurations: v1 reviews, no side effects, Fail when enforcing, rules for pods and every workload kind', async () => {
    const all = await docs('webhooks.yaml');
    const mutating = all.find((d) => d.kind === 'MutatingWebhookConfiguration');
    const validating = all.find((d) => d.kind === 'ValidatingWebhookConfiguration');
    expect(mutating?.apiVersion).toBe('admissionregistration.k8s.io/v1');
    expect(validating?.apiVersion).toBe('admissionregistration.k8s.io/v1');
    const hooks = [...((mutating?.webhooks ?? []) as Webhook[]), ...((validating?.webhooks ?? []) as Webhook[])];
    expect(hooks.map((h) => [h.name, h.clientConfig.service.path, h.failurePolicy])).toEqual([
      ['pin.admission.signet.dev', '/mutate', 'Fail'],
      ['enforce.admission.signet.dev', '/validate', 'Fail'],
      ['report.admission.signet.dev', '/report/validate', 'Ignore'],
    ]);
    for (const h of hooks) {
      expect(h.admissionReviewVersions).toEqual(['v1']);
      expect(h.sideEffects).toBe('None');
      expect(h.timeoutSeconds).toBeGreaterThanOrEqual(1);
      expect(h.timeoutSeconds).toBeLessThanOrEqual(30);
      expect(h.clientConfig.service).toMatchObject({ name: 'signet-admission', namespace: 'signet-system', port: 443 });
      const covered = h.rules.flatMap((r) => {
        expect(r.operations).toEqual(['CREATE', 'UPDATE']);
        expect(r.apiVersions).toEqual(['v1']);
        return r.apiGroups.flatMap((g) => r.resources.map((res) => `${g}/${res}`));
      });
      expect(covered.sort()).toEqual([...RESOURCES].sort());
      // the webhook's own namespace and kube-system are never sent to it
      expect(h.namespaceSelector.matchExpressions).toContainEqual({
        key: 'kubernetes.io/metadata.name',
        operator: 'NotIn',
        values: ['kube-system', 'signet-system'],
      });
    }
    expect(hooks[0]?.reinvocationPolicy).toBe('IfNeeded');
    // the enforcing entries select the namespaces labelled enforce; the report entry the others
    expect(hooks[0]?.namespaceSelector.matchExpressions[0]).toEqual({
      key: 'signet.dev/admission',
      operator: 'In',
      values: ['enforce'],
    });
    expect(hooks[1]?.namespaceSelector.matchExpressions[0]).toEqual({
      key: 'signet.dev/admission',
      operator: 'In',
      values: ['enforce'],
    });
    expect(hooks[2]?.namespaceSelector.matchExpressions[0]).toEqual({
      key: 'signet.dev/admission',
      operator: 'NotIn',
      values: ['enforce', 'disabled'],
    });
    // every kind the manifests route to the webhook is one whose pod spec it reads
    for (const kind of [
      'Pod',
      'Deployment',
      'StatefulSet',
      'DaemonSet',
      'ReplicaSet',
      'Job',
      'CronJob',
      'ReplicationController',
    ]) {
      expect(ADMITTED_KINDS).toContain(kind);
    }
  });

  it('Deployment and Service: the command line, probes, TLS secret and ports line up', async () => {
    const [dep] = await docs('deployment.yaml');
    const [svc] = await docs('service.yaml');
    const spec = (
      dep as unknown as {
        spec: {
          replicas: number;
          template: { metadata: { labels: Record<string, string> }; spec: Record<string, unknown> };
        };
      }
    ).spec;
    expect(spec.replicas).toBeGreaterThanOrEqual(2);
    const pod = spec.template.spec as {
      containers: {
        args: string[];
        ports: { name: string; containerPort: number }[];
        readinessProbe: { httpGet: { path: string; port: string; scheme: string } };
        livenessProbe: { httpGet: { path: string; port: string; scheme: string } };
        volumeMounts: { name: string; mountPath: string }[];
      }[];
      volumes: { name: string; secret?: { secretName: string }; configMap?: { name: string } }[];
    };
    const c = pod.containers[0]!;
    expect(c.args[0]).toBe('admission');
    const flag = (name: string): string | undefined => c.args[c.args.indexOf(name) + 1];
    expect(flag('--listen')).toBe('0.0.0.0:8443');
    expect(c.ports).toContainEqual(expect.objectContaining({ name: 'https', containerPort: 8443 }));
    expect(c.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'https', scheme: 'HTTPS' });
    expect(c.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'https', scheme: 'HTTPS' });
    const mountOf = (file: string | undefined): string | undefined =>
      c.volumeMounts.find((m) => file?.startsWith(`${m.mountPath}/`))?.name;
    expect(pod.volumes.find((v) => v.name === mountOf(flag('--tls-cert')))?.secret?.secretName).toBe(
      'signet-admission-tls',
    );
    expect(mountOf(flag('--tls-key'))).toBe(mountOf(flag('--tls-cert')));
    expect(pod.volumes.find((v) => v.name === mountOf(flag('--policy')))?.configMap?.name).toBe(
      'signet-admission-policy',
    );
    expect(c.args.filter((a, i) => c.args[i - 1] === '--exclude-namespace').sort()).toEqual([
      'kube-system',
      'signet-system',
    ]);
    const s = svc as unknown as {
      metadata: { name: string; namespace: string };
      spec: { selector: Record<string, string>; ports: { port: number; targetPort: string }[] };
    };
    expect(s.metadata).toMatchObject({ name: 'signet-admission', namespace: 'signet-system' });
    expect(s.spec.ports).toEqual([expect.objectContaining({ port: 443, targetPort: 'https' })]);
    for (const [k, v] of Object.entries(s.spec.selector)) expect(spec.template.metadata.labels[k]).toBe(v);
  });

  it('cert-manager option: the certificate names the Service and the CA is injected into both configurations', async () => {
    const certs = await docs('certificate.yaml');
    const cert = certs.find((d) => d.kind === 'Certificate' && d.metadata.name === 'signet-admission') as unknown as {
      spec: { secretName: string; dnsNames: string[] };
    };
    expect(cert.spec.secretName).toBe('signet-admission-tls');
    expect(cert.spec.dnsNames).toContain('signet-admission.signet-system.svc');
    for (const d of await docs('webhooks.yaml')) {
      expect(
        (d.metadata as unknown as { annotations: Record<string, string> }).annotations[
          'cert-manager.io/inject-ca-from'
        ],
      ).toBe('signet-system/signet-admission');
    }
  });

  it('the policy ConfigMap holds a valid policy (its CA placeholders replaced by a real PEM, as its comment asks)', async () => {
    const [cm] = await docs('policy.yaml');
    const data = (cm as unknown as { data: Record<string, string> }).data;
    const dir = await mkdtemp(path.join(os.tmpdir(), 'signet-policy-'));
    try {
      const pem = await readFile((await makeTestCA(path.join(dir, 'ca'))).caCert, 'utf8');
      for (const [k, v] of Object.entries(data)) await writeFile(path.join(dir, k), k.endsWith('.crt') ? pem : v);
      const policy = await loadPolicy(path.join(dir, 'policy.json'));
      expect(policy.rules.map((r) => [r.repository, r.mode])).toEqual([
        ['registry.example.com/**', 'enforce'],
        ['**', 'report'],
      ]);
      expect(policy.trustServers['registry.example.com']?.url).toBe('https://notary.example.com');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  describe('make-certs.sh', () => {
    let out: string | undefined;
    afterAll(async () => {
      if (out) await rm(out, { recursive: true, force: true });
    });
    it('makes a CA and a serving certificate for signet-admission.signet-system.svc, and the caBundle patches', async () => {
      await requireBinary('/usr/bin/openssl', 'openssl');
      out = await mkdtemp(path.join(os.tmpdir(), 'signet-certs-'));
      const r = await run('/bin/sh', [path.join(DIR, 'make-certs.sh'), out], { timeoutMs: 60_000 });
      expect(r.code, r.stderr).toBe(0);
      const ca = new X509Certificate(await readFile(path.join(out, 'ca.crt')));
      const leaf = new X509Certificate(await readFile(path.join(out, 'tls.crt')));
      expect(leaf.verify(ca.publicKey)).toBe(true);
      expect(leaf.checkHost('signet-admission.signet-system.svc')).toBe('signet-admission.signet-system.svc');
      expect(leaf.ca).toBe(false);
      const bundle = (await readFile(path.join(out, 'ca.crt'))).toString('base64');
      expect(r.stdout).toContain(`"path":"/webhooks/1/clientConfig/caBundle","value":"${bundle}"`);
      expect(r.stdout).toContain('kubectl -n signet-system create secret tls signet-admission-tls');
    });
  });
});
