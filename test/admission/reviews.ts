/**
 * AdmissionReview v1 requests shaped as kube-apiserver sends them (k8s.io/api/admission/v1:
 * kind/resource/requestKind/requestResource, userInfo, object with server-set metadata, options),
 * and a small RFC 6902 apply to check the webhook's JSONPatch on the object.
 */
import { randomUUID } from 'node:crypto';

export interface ContainerSpec {
  name: string;
  image: string;
}
export interface PodSpecInput {
  containers: ContainerSpec[];
  initContainers?: ContainerSpec[];
  ephemeralContainers?: ContainerSpec[];
}

function podSpec(p: PodSpecInput): Record<string, unknown> {
  const c = (x: ContainerSpec): Record<string, unknown> => ({
    name: x.name,
    image: x.image,
    resources: {},
    terminationMessagePath: '/dev/termination-log',
    terminationMessagePolicy: 'File',
    imagePullPolicy: 'IfNotPresent',
  });
  return {
    ...(p.initContainers ? { initContainers: p.initContainers.map(c) } : {}),
    containers: p.containers.map(c),
    ...(p.ephemeralContainers ? { ephemeralContainers: p.ephemeralContainers.map(c) } : {}),
    restartPolicy: 'Always',
    terminationGracePeriodSeconds: 30,
    dnsPolicy: 'ClusterFirst',
    securityContext: {},
    schedulerName: 'default-scheduler',
  };
}

const template = (p: PodSpecInput, labels: Record<string, string>): Record<string, unknown> => ({
  metadata: { creationTimestamp: null, labels },
  spec: podSpec(p),
});

const KINDS = {
  Pod: { group: '', version: 'v1', resource: 'pods' },
  Deployment: { group: 'apps', version: 'v1', resource: 'deployments' },
  StatefulSet: { group: 'apps', version: 'v1', resource: 'statefulsets' },
  DaemonSet: { group: 'apps', version: 'v1', resource: 'daemonsets' },
  ReplicaSet: { group: 'apps', version: 'v1', resource: 'replicasets' },
  Job: { group: 'batch', version: 'v1', resource: 'jobs' },
  CronJob: { group: 'batch', version: 'v1', resource: 'cronjobs' },
} as const;
export type WorkloadKind = keyof typeof KINDS;

/** The object as the API server has it at admission (defaults applied, no uid on CREATE). */
export function workload(
  kind: WorkloadKind,
  name: string,
  namespace: string,
  p: PodSpecInput,
): Record<string, unknown> {
  const k = KINDS[kind];
  const labels = { app: name };
  const metadata = { name, namespace, creationTimestamp: null, labels };
  const apiVersion = k.group === '' ? k.version : `${k.group}/${k.version}`;
  let spec: Record<string, unknown>;
  switch (kind) {
    case 'Pod':
      return { kind, apiVersion, metadata, spec: podSpec(p), status: {} };
    case 'CronJob':
      spec = {
        schedule: '*/5 * * * *',
        concurrencyPolicy: 'Allow',
        jobTemplate: { metadata: { creationTimestamp: null }, spec: { template: template({ ...p }, labels) } },
      };
      break;
    case 'Job':
      spec = { backoffLimit: 6, template: template(p, labels) };
      break;
    default:
      spec = { replicas: 1, selector: { matchLabels: labels }, template: template(p, labels) };
  }
  return { kind, apiVersion, metadata, spec, status: {} };
}

export interface ReviewOpts {
  operation?: 'CREATE' | 'UPDATE' | 'DELETE';
  oldObject?: Record<string, unknown> | null;
  subResource?: string;
  uid?: string;
}

/** The full AdmissionReview the API server POSTs for `object`. */
export function admissionReview(object: Record<string, unknown>, opts: ReviewOpts = {}): Record<string, unknown> {
  const kind = object.kind as WorkloadKind;
  const k = KINDS[kind];
  const meta = object.metadata as { name: string; namespace: string };
  const operation = opts.operation ?? 'CREATE';
  const gvk = { group: k.group, version: k.version, kind };
  const gvr = { group: k.group, version: k.version, resource: k.resource };
  return {
    kind: 'AdmissionReview',
    apiVersion: 'admission.k8s.io/v1',
    request: {
      uid: opts.uid ?? randomUUID(),
      kind: gvk,
      resource: gvr,
      ...(opts.subResource ? { subResource: opts.subResource } : {}),
      requestKind: gvk,
      requestResource: gvr,
      ...(opts.subResource ? { requestSubResource: opts.subResource } : {}),
      name: meta.name,
      namespace: meta.namespace,
      operation,
      userInfo: {
        username: 'kubernetes-admin',
        groups: ['system:masters', 'system:authenticated'],
      },
      object: operation === 'DELETE' ? null : object,
      oldObject: opts.oldObject ?? null,
      dryRun: false,
      options: {
        kind: operation === 'UPDATE' ? 'UpdateOptions' : 'CreateOptions',
        apiVersion: 'meta.k8s.io/v1',
        fieldManager: 'kubectl-client-side-apply',
        fieldValidation: 'Strict',
      },
    },
  };
}

// ------------------------------------------------------------------ RFC 6902 apply (test, replace, add, remove)

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export interface Op {
  op: string;
  path: string;
  value?: unknown;
}

function tokens(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new Error(`bad pointer ${pointer}`);
  return pointer
    .slice(1)
    .split('/')
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** Applies `ops` to a deep copy of `doc`; throws (as the API server refuses the patch) when a test fails. */
export function applyPatch<T>(doc: T, ops: Op[]): T {
  const root = { v: structuredClone(doc) as unknown as Json };
  for (const o of ops) {
    const t = tokens(o.path);
    const last = t.pop();
    if (last === undefined) throw new Error('patching the root is not used here');
    let parent: Json = root.v;
    for (const k of t) {
      parent = Array.isArray(parent) ? (parent[Number(k)] as Json) : ((parent as Record<string, Json>)[k] as Json);
      if (parent === undefined || parent === null || typeof parent !== 'object') throw new Error(`no ${o.path}`);
    }
    const obj = parent as Record<string, Json>;
    const present = Array.isArray(parent) ? Number(last) < parent.length : Object.hasOwn(obj, last);
    switch (o.op) {
      case 'test':
        if (JSON.stringify(obj[last]) !== JSON.stringify(o.value)) throw new Error(`test failed at ${o.path}`);
        break;
      case 'replace':
        if (!present) throw new Error(`replace: no ${o.path}`);
        obj[last] = o.value as Json;
        break;
      case 'add':
        if (Array.isArray(parent)) parent.splice(last === '-' ? parent.length : Number(last), 0, o.value as Json);
        else obj[last] = o.value as Json;
        break;
      case 'remove':
        if (!present) throw new Error(`remove: no ${o.path}`);
        if (Array.isArray(parent)) parent.splice(Number(last), 1);
        else delete obj[last];
        break;
      default:
        throw new Error(`op ${o.op} is not expected from the webhook`);
    }
  }
  return root.v as unknown as T;
}

/** The JSONPatch of an AdmissionReview response (base64 of a JSON array). */
export function decodePatch(patch: string): Op[] {
  return JSON.parse(Buffer.from(patch, 'base64').toString('utf8')) as Op[];
}
