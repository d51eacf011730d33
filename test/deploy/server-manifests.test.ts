/**
 * deploy/systemd/signet-server.service and deploy/kubernetes/server/: the properties docs promise,
 * read from the files. The unit is also checked by systemd's own parser (`systemd-analyze verify`,
 * and `security --offline` for its exposure score); no cluster is available here, so the manifests
 * are checked as parsed YAML.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { ROOT } from '../cli/signet.js';
import { requireBinary, run } from '../harness/proc.js';

const UNIT = path.join(ROOT, 'deploy', 'systemd', 'signet-server.service');
const K8S = path.join(ROOT, 'deploy', 'kubernetes', 'server');

interface Probe {
  httpGet: { path: string; port: string | number; scheme?: string };
}
interface Container {
  name: string;
  args: string[];
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
  ports: { name: string; containerPort: number }[];
  readinessProbe: Probe;
  livenessProbe: Probe;
  securityContext: { allowPrivilegeEscalation: boolean; readOnlyRootFilesystem: boolean };
}
interface K8sDoc {
  kind: string;
  metadata: { name: string };
  spec: Record<string, unknown>;
}

function k8s(file: string): K8sDoc[] {
  return parseAllDocuments(readFileSync(path.join(K8S, file), 'utf8')).map((d) => d.toJSON() as K8sDoc);
}

/** `Key=value` lines of the unit, each key with all its values. */
function unitKeys(): Map<string, string[]> {
  const keys = new Map<string, string[]>();
  for (const line of readFileSync(UNIT, 'utf8').split('\n')) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (m) keys.set(m[1]!, [...(keys.get(m[1]!) ?? []), m[2]!]);
  }
  return keys;
}

describe('deploy/systemd/signet-server.service', () => {
  it('passes systemd-analyze verify with no warning, and rates as low exposure', async () => {
    await requireBinary('/usr/bin/systemd-analyze', 'systemd');
    const v = await run('/usr/bin/systemd-analyze', ['verify', UNIT]);
    expect(v.code, v.stderr).toBe(0);
    expect(v.stderr.trim()).toBe('');
    const s = await run('/usr/bin/systemd-analyze', ['security', '--offline=true', '--no-pager', UNIT]);
    const score = /Overall exposure level for \S+: ([\d.]+)/.exec(s.stdout + s.stderr)?.[1];
    expect(score, s.stdout + s.stderr).toBeDefined();
    expect(Number(score)).toBeLessThanOrEqual(2);
  });

  it('runs unprivileged and hardened, with secrets as credentials, not in argv or the environment', () => {
    const k = unitKeys();
    for (const [key, value] of [
      ['DynamicUser', 'yes'],
      ['NoNewPrivileges', 'yes'],
      ['ProtectSystem', 'strict'],
      ['ProtectHome', 'yes'],
      ['PrivateTmp', 'yes'],
      ['CapabilityBoundingSet', ''],
      ['UMask', '0077'],
      ['StateDirectory', 'signet'],
    ])
      expect(k.get(key!), key).toEqual([value]);
    const exec = k.get('ExecStart')![0]!;
    expect(exec).toContain('--data-dir ${STATE_DIRECTORY}');
    expect(exec).toContain('--config ${CREDENTIALS_DIRECTORY}/config.json');
    expect(exec).toContain('--signer-passphrase-file ${CREDENTIALS_DIRECTORY}/signer.passphrase');
    expect(k.get('LoadCredential')).toHaveLength(2);
    expect(k.has('Environment')).toBe(false);
    expect(exec).not.toMatch(/postgres:\/\//);
  });
});

describe('deploy/kubernetes/server', () => {
  const deployment = k8s('deployment.yaml').find((d) => d.kind === 'Deployment')!;
  const spec = deployment.spec as {
    replicas: number;
    selector: { matchLabels: Record<string, string> };
    template: { spec: { containers: Container[]; securityContext: { runAsNonRoot: boolean } } };
  };
  const server = spec.template.spec.containers[0]!;

  it('lists every manifest in its kustomization', () => {
    const kust = k8s('kustomization.yaml')[0] as unknown as { resources: string[] };
    expect(kust.resources.sort()).toEqual(['deployment.yaml', 'pdb.yaml', 'service.yaml']);
  });

  it('runs at least two replicas on PostgreSQL, the database URL from a Secret', () => {
    expect(spec.replicas).toBeGreaterThanOrEqual(2);
    expect(server.args[0]).toBe('server');
    const db = server.env?.find((e) => e.name === 'SIGNET_DATABASE');
    expect(db?.value).toBeUndefined();
    expect(db?.valueFrom?.secretKeyRef).toEqual({ name: 'signet-server-db', key: 'url' });
    expect(server.args.join(' ')).not.toMatch(/postgres:\/\//);
    expect(server.args).toContain('--signer-passphrase-file=/etc/signet/signer/passphrase');
  });

  it('probes readiness and liveness on the health endpoint', () => {
    for (const probe of [server.readinessProbe, server.livenessProbe]) {
      expect(probe.httpGet.path).toBe('/_notary_server/health');
      expect(probe.httpGet.scheme).toBe('HTTPS');
      const port = server.ports.find((p) => p.name === probe.httpGet.port);
      expect(port?.containerPort).toBe(4443);
    }
    expect(server.args).toContain('--listen=0.0.0.0:4443');
  });

  it('keeps a replica through disruptions (PodDisruptionBudget on the same pods)', () => {
    const pdb = k8s('pdb.yaml').find((d) => d.kind === 'PodDisruptionBudget')!;
    const p = pdb.spec as { minAvailable: number; selector: { matchLabels: Record<string, string> } };
    expect(p.minAvailable).toBeGreaterThanOrEqual(1);
    expect(p.minAvailable).toBeLessThan(spec.replicas);
    expect(p.selector.matchLabels).toEqual(spec.selector.matchLabels);
    const svc = k8s('service.yaml').find((d) => d.kind === 'Service')!;
    expect((svc.spec as { selector: Record<string, string> }).selector).toEqual(spec.selector.matchLabels);
  });

  it('runs as non-root with a read-only root filesystem', () => {
    expect(spec.template.spec.securityContext.runAsNonRoot).toBe(true);
    expect(server.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true });
  });
});
