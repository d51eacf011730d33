/**
 * Where the images of a pod sit in each kind the webhook admits, and the JSON Pointer of every
 * `image` string (k8s.io/api core/v1 PodSpec; apps/v1 and batch/v1 templates). Pure.
 */
import { BadReviewError } from './review.js';
import { jsonPointer } from './patch.js';

export const CONTAINER_FIELDS = ['initContainers', 'containers', 'ephemeralContainers'] as const;
export type ContainerField = (typeof CONTAINER_FIELDS)[number];

/** The path from the object root to its PodSpec, per kind. */
const POD_SPEC_PATH: Readonly<Record<string, readonly string[]>> = {
  Pod: ['spec'],
  Deployment: ['spec', 'template', 'spec'],
  ReplicaSet: ['spec', 'template', 'spec'],
  StatefulSet: ['spec', 'template', 'spec'],
  DaemonSet: ['spec', 'template', 'spec'],
  Job: ['spec', 'template', 'spec'],
  ReplicationController: ['spec', 'template', 'spec'],
  PodTemplate: ['template', 'spec'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template', 'spec'],
  // pods/ephemeralcontainers before Kubernetes 1.22 sent this object: the list sits at the root
  EphemeralContainers: [],
};

/** The kinds whose images the webhook checks (and the rules of deploy/kubernetes/ select). */
export const ADMITTED_KINDS: readonly string[] = Object.keys(POD_SPEC_PATH);

export interface PodImage {
  /** The JSON Pointer of the `image` string, e.g. /spec/template/spec/containers/0/image. */
  pointer: string;
  image: string;
  field: ContainerField;
  index: number;
  /** The container's name ('' when absent). */
  container: string;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Every container image of `object` (of kind `kind`), init containers first. An unknown kind or a
 * missing pod spec has no images; a container list that is not an array is a BadReviewError.
 */
export function podImages(kind: string, object: unknown): PodImage[] {
  const path = POD_SPEC_PATH[kind];
  if (path === undefined || !isRecord(object)) return [];
  let spec: unknown = object;
  for (const key of path) {
    if (!isRecord(spec)) return [];
    spec = spec[key];
  }
  if (!isRecord(spec)) return [];
  const out: PodImage[] = [];
  for (const field of CONTAINER_FIELDS) {
    const list = spec[field];
    if (list === undefined || list === null) continue;
    if (!Array.isArray(list)) throw new BadReviewError(`${jsonPointer([...path, field])} must be an array`);
    list.forEach((c: unknown, index) => {
      // a container without a string image is invalid; the API server's own validation refuses it
      if (!isRecord(c) || typeof c.image !== 'string') return;
      out.push({
        pointer: jsonPointer([...path, field, index, 'image']),
        image: c.image,
        field,
        index,
        container: typeof c.name === 'string' ? c.name : '',
      });
    });
  }
  return out;
}

/** "containers[0] \"app\"": where an image sits, for messages. */
export function describeLocation(i: PodImage): string {
  return `${i.field}[${i.index}]${i.container ? ` "${i.container}"` : ''}`;
}
