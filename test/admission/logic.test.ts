// The webhook's pure parts: images and their pointers per kind, pointer escaping, the decision and
// its patch, and AdmissionHandler with a stand-in enforcer (no network).
import { describe, expect, it } from 'vitest';
import {
  AdmissionHandler,
  MAX_WARNING_LENGTH,
  decide,
  escapePointerToken,
  jsonPointer,
  parseAdmissionReview,
  pinnedImage,
  podImages,
  type AdmissionReviewResponse,
  type ImageOutcome,
} from '../../src/admission/index.js';
import type { Verdict } from '../../src/enforce/index.js';
import { SignetError } from '../../src/errors.js';
import { admissionReview, applyPatch, decodePatch, workload, type WorkloadKind } from './reviews.js';

const D1 = `sha256:${'a'.repeat(64)}`;
const D2 = `sha256:${'b'.repeat(64)}`;

const ok = (reference: string, tag: string, digest: string, mode: Verdict['mode'] = 'enforce'): Verdict => ({
  reference,
  repository: 'r',
  tag,
  digest,
  mode,
  allowed: true,
});
const refused = (reference: string, code: string, mode: Verdict['mode'] = 'enforce'): Verdict => ({
  reference,
  repository: 'r',
  mode,
  allowed: mode !== 'enforce',
  refusal: { code, message: `${reference} is not signed` },
});

describe('podImages', () => {
  const spec = {
    containers: [{ name: 'app', image: 'reg/app:1' }],
    initContainers: [{ name: 'init', image: 'reg/init:1' }],
    ephemeralContainers: [{ name: 'debug', image: 'busybox' }],
  };
  const where: Record<WorkloadKind, string> = {
    Pod: '/spec',
    Deployment: '/spec/template/spec',
    StatefulSet: '/spec/template/spec',
    DaemonSet: '/spec/template/spec',
    ReplicaSet: '/spec/template/spec',
    Job: '/spec/template/spec',
    CronJob: '/spec/jobTemplate/spec/template/spec',
  };
  it.each(Object.entries(where))('finds every container image of a %s with its pointer', (kind, base) => {
    const images = podImages(kind, workload(kind as WorkloadKind, 'w', 'ns', spec));
    expect(images.map((i) => [i.pointer, i.image, i.container])).toEqual([
      [`${base}/initContainers/0/image`, 'reg/init:1', 'init'],
      [`${base}/containers/0/image`, 'reg/app:1', 'app'],
      [`${base}/ephemeralContainers/0/image`, 'busybox', 'debug'],
    ]);
  });
  it('reads the pre-1.22 EphemeralContainers object (list at the root)', () => {
    const images = podImages('EphemeralContainers', { ephemeralContainers: [{ name: 'dbg', image: 'busybox:1' }] });
    expect(images).toEqual([
      {
        pointer: '/ephemeralContainers/0/image',
        image: 'busybox:1',
        field: 'ephemeralContainers',
        index: 0,
        container: 'dbg',
      },
    ]);
  });
  it('an unknown kind or a missing spec has no images; a container list that is not an array is refused', () => {
    expect(podImages('ConfigMap', { data: {} })).toEqual([]);
    expect(podImages('Deployment', { spec: {} })).toEqual([]);
    expect(() => podImages('Pod', { spec: { containers: { image: 'x' } } })).toThrow(
      '/spec/containers must be an array',
    );
  });
});

describe('JSON Pointer', () => {
  it('escapes ~ before / (RFC 6901)', () => {
    expect(escapePointerToken('a/b~c')).toBe('a~1b~0c');
    expect(escapePointerToken('~1')).toBe('~01');
    expect(jsonPointer(['metadata', 'annotations', 'signet.dev/pinned', 0])).toBe(
      '/metadata/annotations/signet.dev~1pinned/0',
    );
  });
});

describe('pinnedImage', () => {
  it('adds the signed digest, and the implicit tag', () => {
    expect(pinnedImage('127.0.0.1:5000/app:1.0', ok('x', '1.0', D1))).toBe(`127.0.0.1:5000/app:1.0@${D1}`);
    expect(pinnedImage('127.0.0.1:5000/app', ok('x', 'latest', D1))).toBe(`127.0.0.1:5000/app:latest@${D1}`);
    expect(pinnedImage('nginx', ok('x', 'latest', D1))).toBe(`nginx:latest@${D1}`);
  });
  it('leaves a digest reference alone', () => {
    expect(pinnedImage(`app@${D1}`, { ...ok('x', 'latest', D1), tag: undefined } as Verdict)).toBeUndefined();
    expect(pinnedImage(`app:1@${D1}`, ok('x', '1', D1))).toBeUndefined();
  });
});

describe('decide', () => {
  const images = podImages(
    'Pod',
    workload('Pod', 'p', 'ns', {
      initContainers: [{ name: 'init', image: 'reg.example/init:1' }],
      containers: [
        { name: 'a', image: 'reg.example/app:1' },
        { name: 'b', image: 'reg.example/app:1' },
        { name: 'c', image: 'reg.example/bad:1' },
      ],
    }),
  );
  const out = (entries: [string, ImageOutcome][]): Map<string, ImageOutcome> => new Map(entries);

  it('denies naming each refused image, where it is and why', () => {
    const d = decide(
      images,
      out([
        ['reg.example/init:1', { verdict: refused('reg.example/init:1', 'NOT_SIGNED') }],
        ['reg.example/app:1', { verdict: ok('reg.example/app:1', '1', D1) }],
        ['reg.example/bad:1', { error: { code: 'NETWORK', message: 'trust server unreachable' } }],
      ]),
      { reportOnly: false, mutate: true },
    );
    expect(d.allowed).toBe(false);
    expect(d.patch).toEqual([]);
    expect(d.message).toBe(
      'signet: 2 images refused: reg.example/init:1 (initContainers[0] "init"): NOT_SIGNED: reg.example/init:1 is not signed; ' +
        'reg.example/bad:1 (containers[2] "c"): NETWORK: trust server unreachable',
    );
  });

  it('pins every place of a verified image, guarded by a test', () => {
    const d = decide(
      images,
      out([
        ['reg.example/init:1', { verdict: ok('i', '1', D2) }],
        ['reg.example/app:1', { verdict: ok('a', '1', D1) }],
        ['reg.example/bad:1', { verdict: { ...refused('b', 'NOT_SIGNED', 'skip'), allowed: true } }],
      ]),
      { reportOnly: false, mutate: true },
    );
    expect(d.allowed).toBe(true);
    expect(d.warnings).toEqual([]);
    expect(d.patch).toEqual([
      { op: 'test', path: '/spec/initContainers/0/image', value: 'reg.example/init:1' },
      { op: 'replace', path: '/spec/initContainers/0/image', value: `reg.example/init:1@${D2}` },
      { op: 'test', path: '/spec/containers/0/image', value: 'reg.example/app:1' },
      { op: 'replace', path: '/spec/containers/0/image', value: `reg.example/app:1@${D1}` },
      { op: 'test', path: '/spec/containers/1/image', value: 'reg.example/app:1' },
      { op: 'replace', path: '/spec/containers/1/image', value: `reg.example/app:1@${D1}` },
    ]);
  });

  it('--report-only allows with short warnings and patches nothing; report mode warns', () => {
    const long = `reg.example/${'x'.repeat(150)}:1`;
    const imgs = [
      ...images,
      { pointer: '/spec/containers/3/image', image: long, field: 'containers' as const, index: 3, container: 'l' },
    ];
    const outcomes = out([
      ['reg.example/init:1', { verdict: refused('i', 'NOT_SIGNED', 'report') }],
      ['reg.example/app:1', { verdict: ok('a', '1', D1) }],
      ['reg.example/bad:1', { verdict: refused('b', 'EXPIRED') }],
      [long, { verdict: refused('l', 'NOT_SIGNED') }],
    ]);
    const d = decide(imgs, outcomes, { reportOnly: true, mutate: true });
    expect(d.allowed).toBe(true);
    expect(d.patch).toEqual([]);
    expect(d.warnings.slice(0, 2)).toEqual([
      'signet: reg.example/init:1 fails verification (report mode): NOT_SIGNED',
      'signet: reg.example/bad:1 would be denied: EXPIRED',
    ]);
    expect(d.warnings).toHaveLength(3);
    for (const w of d.warnings) expect(w.length).toBeLessThanOrEqual(MAX_WARNING_LENGTH);
    // without --report-only the report-mode image still only warns, the enforced ones deny
    const e = decide(imgs, outcomes, { reportOnly: false, mutate: true });
    expect(e.allowed).toBe(false);
    expect(e.warnings).toEqual(['signet: reg.example/init:1 fails verification (report mode): NOT_SIGNED']);
  });

  it('says when the trust data came from the cache', () => {
    const v = { ...ok('a', '1', D1), trust: { source: 'cached' as const, ageSeconds: 42 } };
    const d = decide(images.slice(1, 2), out([['reg.example/app:1', { verdict: v }]]), {
      reportOnly: false,
      mutate: false,
    });
    expect(d).toMatchObject({
      allowed: true,
      patch: [],
      warnings: ['signet: reg.example/app:1 checked against cached trust data (42s old)'],
    });
  });
});

describe('parseAdmissionReview', () => {
  it.each([
    ['not JSON', '{', /not JSON/],
    ['an array', '[]', /JSON object/],
    ['another kind', '{"kind":"Pod","apiVersion":"v1"}', /kind must be AdmissionReview/],
    [
      'v1beta1',
      '{"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1beta1","request":{}}',
      /apiVersion must be/,
    ],
    ['no request', '{"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1"}', /request is missing/],
    ['no uid', '{"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1","request":{}}', /request.uid is missing/],
  ])('refuses %s', (_name, body, msg) => {
    expect(() => parseAdmissionReview(body)).toThrow(msg);
  });
  it('reads what the API server sends', () => {
    const r = parseAdmissionReview(
      JSON.stringify(admissionReview(workload('Pod', 'p', 'ns', { containers: [] }), { uid: 'u-1' })),
    );
    expect(r).toMatchObject({
      uid: 'u-1',
      kind: { group: '', version: 'v1', kind: 'Pod' },
      namespace: 'ns',
      operation: 'CREATE',
    });
  });
});

describe('AdmissionHandler', () => {
  const calls: string[] = [];
  const enforcer = {
    async checkReference(ref: string): Promise<Verdict> {
      calls.push(ref);
      if (ref.includes('boom')) throw new SignetError('NETWORK', 'cannot reach the trust server');
      if (ref.includes('unsigned')) return refused(ref, 'NOT_SIGNED');
      return ok(ref, '1', D1);
    },
  };
  const handler = (reportOnly = false): AdmissionHandler =>
    new AdmissionHandler({ enforcer, reportOnly, excludeNamespaces: ['kube-system'] });
  const post = async (h: AdmissionHandler, endpoint: 'validate' | 'mutate', review: unknown) => {
    const r = await h.handle(endpoint, Buffer.from(JSON.stringify(review)));
    return { status: r.status, body: r.body as AdmissionReviewResponse };
  };

  it('echoes the uid and pins a Deployment; the patch applies to the object', async () => {
    const obj = workload('Deployment', 'web', 'prod', { containers: [{ name: 'web', image: 'reg.example/web:1' }] });
    const review = admissionReview(obj, { uid: 'abc-123' });
    const r = await post(handler(), 'mutate', review);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      response: { uid: 'abc-123', allowed: true, patchType: 'JSONPatch' },
    });
    const patched = applyPatch(obj, decodePatch(r.body.response.patch as string)) as typeof obj & {
      spec: { template: { spec: { containers: { image: string }[] } } };
    };
    expect(patched.spec.template.spec.containers[0]?.image).toBe(`reg.example/web:1@${D1}`);
    const v = await post(handler(), 'validate', review);
    expect(v.body.response).toEqual({ uid: 'abc-123', allowed: true });
  });

  it('denies with 403 naming the image; an enforcer error fails closed', async () => {
    const obj = workload('CronJob', 'c', 'prod', {
      initContainers: [{ name: 'i', image: 'reg.example/boom:1' }],
      containers: [{ name: 'c', image: 'reg.example/unsigned:1' }],
    });
    const r = await post(handler(), 'validate', admissionReview(obj, { uid: 'u2' }));
    expect(r.body.response.allowed).toBe(false);
    expect(r.body.response.uid).toBe('u2');
    expect(r.body.response.status?.code).toBe(403);
    expect(r.body.response.status?.message).toContain('reg.example/boom:1 (initContainers[0] "i"): NETWORK');
    expect(r.body.response.status?.message).toContain('reg.example/unsigned:1 (containers[0] "c"): NOT_SIGNED');
    const m = await post(handler(), 'mutate', admissionReview(obj));
    expect(m.body.response.allowed).toBe(false);
    expect(m.body.response.patch).toBeUndefined();
  });

  it('--report-only allows with warnings', async () => {
    const obj = workload('Pod', 'p', 'prod', { containers: [{ name: 'c', image: 'reg.example/unsigned:1' }] });
    const r = await post(handler(true), 'mutate', admissionReview(obj));
    expect(r.body.response).toMatchObject({
      allowed: true,
      warnings: ['signet: reg.example/unsigned:1 would be denied: NOT_SIGNED'],
    });
    expect(r.body.response.patch).toBeUndefined();
  });

  it('skips excluded namespaces, DELETE, and images unchanged by an UPDATE; checks a new ephemeral container', async () => {
    calls.length = 0;
    const sys = workload('Pod', 'p', 'kube-system', { containers: [{ name: 'c', image: 'reg.example/unsigned:1' }] });
    expect((await post(handler(), 'validate', admissionReview(sys))).body.response.allowed).toBe(true);
    const pod = workload('Pod', 'p', 'prod', { containers: [{ name: 'c', image: 'reg.example/unsigned:1' }] });
    expect(
      (await post(handler(), 'validate', admissionReview(pod, { operation: 'DELETE', oldObject: pod }))).body.response
        .allowed,
    ).toBe(true);
    const relabelled = { ...pod, metadata: { ...(pod.metadata as object), labels: { x: 'y' } } };
    expect(
      (await post(handler(), 'validate', admissionReview(relabelled, { operation: 'UPDATE', oldObject: pod }))).body
        .response.allowed,
    ).toBe(true);
    expect(calls).toEqual([]);
    const debug = workload('Pod', 'p', 'prod', {
      containers: [{ name: 'c', image: 'reg.example/unsigned:1' }],
      ephemeralContainers: [{ name: 'dbg', image: 'reg.example/debug:1' }],
    });
    const r = await post(
      handler(),
      'mutate',
      admissionReview(debug, { operation: 'UPDATE', oldObject: pod, subResource: 'ephemeralcontainers' }),
    );
    expect(calls).toEqual(['reg.example/debug:1']);
    expect(decodePatch(r.body.response.patch as string)).toContainEqual({
      op: 'replace',
      path: '/spec/ephemeralContainers/0/image',
      value: `reg.example/debug:1@${D1}`,
    });
  });

  it('a broken body is a 400 with a JSON error, never a throw', async () => {
    for (const body of [
      '',
      'null',
      '{"kind":"AdmissionReview"',
      '{"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1","request":{"uid":"u","kind":{"version":"v1","kind":"Pod"},"resource":{"version":"v1","resource":"pods"},"operation":"CREATE","object":{"spec":{"containers":7}}}}',
    ]) {
      const r = await handler().handle('validate', Buffer.from(body));
      expect(r.status).toBe(400);
      expect(r.body).toMatchObject({ error: { code: 'BAD_ADMISSION_REVIEW' } });
    }
  });
});
