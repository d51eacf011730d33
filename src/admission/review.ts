/**
 * The AdmissionReview v1 envelope (k8s.io/api/admission/v1 types.go): reading a request the API
 * server sends and writing the response it expects. Pure: bytes in, values out.
 */

export const ADMISSION_API_VERSION = 'admission.k8s.io/v1';

/** `metav1.GroupVersionKind` / `GroupVersionResource` as the API server writes them. */
export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}
export interface GroupVersionResource {
  group: string;
  version: string;
  resource: string;
}

/** The fields of `AdmissionRequest` the webhook reads; the rest is carried but ignored. */
export interface AdmissionRequest {
  uid: string;
  kind: GroupVersionKind;
  resource: GroupVersionResource;
  subResource?: string;
  name?: string;
  namespace?: string;
  operation: string;
  /** The object as it would be stored; null on DELETE and CONNECT. */
  object: unknown;
  /** The object before an UPDATE (absent otherwise). */
  oldObject?: unknown;
  dryRun?: boolean;
}

/** `AdmissionResponse`: `patch` is base64 of an RFC 6902 document; each warning under 120 characters. */
export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status?: { code: number; message: string; reason?: string };
  patchType?: 'JSONPatch';
  patch?: string;
  warnings?: string[];
}

export interface AdmissionReviewResponse {
  apiVersion: typeof ADMISSION_API_VERSION;
  kind: 'AdmissionReview';
  response: AdmissionResponse;
}

/** A request body the webhook cannot read: answered with HTTP 400 and this message as JSON. */
export class BadReviewError extends Error {
  override readonly name = 'BadReviewError';
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function str(o: Record<string, unknown>, key: string, where: string, required: boolean): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) {
    if (required) throw new BadReviewError(`${where}.${key} is missing`);
    return undefined;
  }
  if (typeof v !== 'string') throw new BadReviewError(`${where}.${key} must be a string`);
  return v;
}

function group<K extends string>(
  o: Record<string, unknown>,
  key: string,
  last: K,
): Record<'group' | 'version' | K, string> {
  const v = o[key];
  if (!isRecord(v)) throw new BadReviewError(`request.${key} must be an object`);
  const where = `request.${key}`;
  return {
    group: str(v, 'group', where, false) ?? '',
    version: str(v, 'version', where, true) as string,
    [last]: str(v, last, where, true) as string,
  } as Record<'group' | 'version' | K, string>;
}

/** Parse the body of `POST /validate` or `/mutate`; throws BadReviewError naming the first bad field. */
export function parseAdmissionReview(body: Buffer | string): AdmissionRequest {
  let doc: unknown;
  try {
    doc = JSON.parse(typeof body === 'string' ? body : body.toString('utf8'));
  } catch (e) {
    throw new BadReviewError(`the body is not JSON: ${(e as Error).message}`);
  }
  if (!isRecord(doc)) throw new BadReviewError('the body must be a JSON object (an AdmissionReview)');
  if (doc.kind !== 'AdmissionReview') throw new BadReviewError('kind must be AdmissionReview');
  if (doc.apiVersion !== ADMISSION_API_VERSION) {
    throw new BadReviewError(`apiVersion must be ${ADMISSION_API_VERSION} (admissionReviewVersions: ["v1"])`);
  }
  const r = doc.request;
  if (!isRecord(r)) throw new BadReviewError('request is missing');
  const uid = str(r, 'uid', 'request', true) as string;
  if (uid === '') throw new BadReviewError('request.uid is empty');
  const subResource = str(r, 'subResource', 'request', false);
  const name = str(r, 'name', 'request', false);
  const namespace = str(r, 'namespace', 'request', false);
  if (r.dryRun !== undefined && r.dryRun !== null && typeof r.dryRun !== 'boolean') {
    throw new BadReviewError('request.dryRun must be a boolean');
  }
  return {
    uid,
    kind: group(r, 'kind', 'kind'),
    resource: group(r, 'resource', 'resource'),
    ...(subResource ? { subResource } : {}),
    ...(name ? { name } : {}),
    ...(namespace ? { namespace } : {}),
    operation: str(r, 'operation', 'request', true) as string,
    object: r.object ?? null,
    ...(r.oldObject !== undefined && r.oldObject !== null ? { oldObject: r.oldObject } : {}),
    ...(r.dryRun === true ? { dryRun: true } : {}),
  };
}

/** The response document; the uid is always the request's. */
export function reviewResponse(response: AdmissionResponse): AdmissionReviewResponse {
  return { apiVersion: ADMISSION_API_VERSION, kind: 'AdmissionReview', response };
}
