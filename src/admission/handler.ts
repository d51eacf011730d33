/**
 * One admission request, transport aside: parse the AdmissionReview, find the images, ask the
 * enforcer about each distinct one (concurrently), decide, and compose the response document.
 */
import type { Enforcer } from '../enforce/index.js';
import { SignetError } from '../errors.js';
import { decide, type Decision, type ImageOutcome } from './decide.js';
import { podImages, type PodImage } from './images.js';
import { encodePatch } from './patch.js';
import {
  BadReviewError,
  parseAdmissionReview,
  reviewResponse,
  type AdmissionRequest,
  type AdmissionResponse,
  type AdmissionReviewResponse,
} from './review.js';

export type AdmissionEndpoint = 'validate' | 'mutate';

export interface AdmissionHandlerOptions {
  /** The shared enforcer (policy + warm cache); only `checkReference` is used. */
  enforcer: Pick<Enforcer, 'checkReference'>;
  reportOnly: boolean;
  /** Requests in these namespaces are allowed unchecked (--exclude-namespace). */
  excludeNamespaces: readonly string[];
}

/** What the HTTP layer sends: a status and a JSON body. */
export interface HandlerResult {
  status: number;
  body: AdmissionReviewResponse | { error: { code: string; message: string } };
  /** For the log: the request, and the decision when images were checked. */
  request?: AdmissionRequest;
  decision?: Decision;
}

export class AdmissionHandler {
  private readonly excluded: ReadonlySet<string>;

  constructor(private readonly opts: AdmissionHandlerOptions) {
    this.excluded = new Set(opts.excludeNamespaces);
  }

  /**
   * Never throws: a bad body is a 400 with a JSON error; anything else unexpected is a 500.
   * `reportOnly` is true for the /report/… paths (namespaces still in report mode); --report-only
   * makes every path report.
   */
  async handle(endpoint: AdmissionEndpoint, body: Buffer, reportOnly = false): Promise<HandlerResult> {
    let request: AdmissionRequest;
    try {
      request = parseAdmissionReview(body);
    } catch (e) {
      if (e instanceof BadReviewError) return badRequest(e.message);
      throw e;
    }
    try {
      return await this.review(endpoint, request, reportOnly || this.opts.reportOnly);
    } catch (e) {
      if (e instanceof BadReviewError) return badRequest(e.message);
      return { status: 500, body: { error: { code: 'INTERNAL', message: (e as Error).message } }, request };
    }
  }

  private async review(
    endpoint: AdmissionEndpoint,
    request: AdmissionRequest,
    reportOnly: boolean,
  ): Promise<HandlerResult> {
    const allow = (extra: Partial<AdmissionResponse> = {}): HandlerResult => ({
      status: 200,
      body: reviewResponse({ uid: request.uid, allowed: true, ...extra }),
      request,
    });
    if (request.namespace !== undefined && this.excluded.has(request.namespace)) return allow();
    if (request.object === null || request.operation === 'DELETE' || request.operation === 'CONNECT') return allow();
    const images = changedImages(request);
    if (images.length === 0) return allow();

    const distinct = [...new Set(images.map((i) => i.image))];
    const outcomes = new Map<string, ImageOutcome>(
      await Promise.all(distinct.map(async (image) => [image, await this.check(image)] as const)),
    );
    const decision = decide(images, outcomes, { reportOnly, mutate: endpoint === 'mutate' });
    const warnings = decision.warnings.length > 0 ? { warnings: decision.warnings } : {};
    if (!decision.allowed) {
      const response: AdmissionResponse = {
        uid: request.uid,
        allowed: false,
        status: { code: 403, reason: 'Forbidden', message: decision.message ?? 'signet: denied' },
        ...warnings,
      };
      return { status: 200, body: reviewResponse(response), request, decision };
    }
    const patch =
      decision.patch.length > 0 ? { patchType: 'JSONPatch' as const, patch: encodePatch(decision.patch) } : {};
    return { ...allow({ ...warnings, ...patch }), decision };
  }

  private async check(image: string): Promise<ImageOutcome> {
    try {
      return { verdict: await this.opts.enforcer.checkReference(image) };
    } catch (e) {
      const code = e instanceof SignetError ? e.code : 'INTERNAL';
      return { error: { code, message: e instanceof Error ? e.message : String(e) } };
    }
  }
}

function badRequest(message: string): HandlerResult {
  return { status: 400, body: { error: { code: 'BAD_ADMISSION_REVIEW', message } } };
}

/**
 * The images to check. On UPDATE an image that is unchanged at the same place was admitted before
 * (scaling a Deployment or relabelling a Pod must not depend on the trust server); only new or
 * changed images are checked.
 */
function changedImages(request: AdmissionRequest): PodImage[] {
  const images = podImages(request.kind.kind, request.object);
  if (request.operation !== 'UPDATE' || request.oldObject === undefined) return images;
  let before: PodImage[];
  try {
    before = podImages(request.kind.kind, request.oldObject);
  } catch {
    return images;
  }
  const old = new Set(before.map((i) => `${i.pointer}\n${i.image}`));
  return images.filter((i) => !old.has(`${i.pointer}\n${i.image}`));
}
