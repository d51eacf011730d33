/**
 * From the enforcer's verdicts to the admission decision: which images are refused (and why), the
 * warnings, and the JSONPatch that pins each verified tag to its signed digest. Pure.
 */
import type { Verdict } from '../enforce/index.js';
import { parseImageReference } from '../registry/index.js';
import { describeLocation, type PodImage } from './images.js';
import { replaceString, type PatchOperation } from './patch.js';

/** What checking one image gave: a verdict, or an error the enforcer threw (treated as a refusal). */
export type ImageOutcome = { verdict: Verdict } | { error: { code: string; message: string } };

export interface DecideOptions {
  /** --report-only: never deny; say what enforcement would refuse in warnings. */
  reportOnly: boolean;
  /** /mutate: pin verified tags to their digests (enforce mode only). */
  mutate: boolean;
}

export interface Decision {
  allowed: boolean;
  /** Why the request is denied: each refused image, where it sits and why (set when !allowed). */
  message?: string;
  warnings: string[];
  patch: PatchOperation[];
  /** The refused images (also in report mode), for the log. */
  refused: { image: string; code: string }[];
}

/** Kubernetes shows warnings to the user; keep each under 120 characters (admission/v1 types.go). */
export const MAX_WARNING_LENGTH = 119;
const MAX_REASON_LENGTH = 300;

function clip(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

/** `name:tag@sha256:…`: the image as written, with its (possibly implicit) tag and the signed digest. */
export function pinnedImage(image: string, verdict: Verdict): string | undefined {
  if (verdict.digest === undefined || verdict.tag === undefined) return undefined;
  let ref;
  try {
    ref = parseImageReference(image);
  } catch {
    return undefined;
  }
  if (ref.digest !== undefined) return undefined; // already by digest: nothing to pin
  return `${image}${ref.tag === undefined ? `:${verdict.tag}` : ''}@${verdict.digest}`;
}

function refusalOf(o: ImageOutcome): { code: string; message: string; enforced: boolean } | undefined {
  if ('error' in o) return { ...o.error, enforced: true }; // fail closed: an unchecked image is not trusted
  const v = o.verdict;
  if (v.mode === 'skip') return undefined;
  if (v.refusal !== undefined) return { ...v.refusal, enforced: !v.allowed };
  if (!v.allowed) return { code: 'DENIED', message: 'refused by the policy', enforced: true };
  return undefined;
}

/**
 * The decision for one admission request. `outcomes` holds one outcome per distinct image string
 * of `images`; an image without an outcome is refused (it was not checked).
 */
export function decide(
  images: readonly PodImage[],
  outcomes: ReadonlyMap<string, ImageOutcome>,
  opts: DecideOptions,
): Decision {
  const byImage = new Map<string, PodImage[]>();
  for (const i of images) byImage.set(i.image, [...(byImage.get(i.image) ?? []), i]);
  const denials: string[] = [];
  const warnings: string[] = [];
  const patch: PatchOperation[] = [];
  const refused: { image: string; code: string }[] = [];
  for (const [image, places] of byImage) {
    const outcome = outcomes.get(image) ?? { error: { code: 'INTERNAL', message: 'the image was not checked' } };
    const refusal = refusalOf(outcome);
    if (refusal !== undefined) {
      refused.push({ image, code: refusal.code });
      const where = places.map(describeLocation).join(', ');
      if (refusal.enforced && !opts.reportOnly) {
        denials.push(`${image} (${where}): ${refusal.code}: ${clip(refusal.message, MAX_REASON_LENGTH)}`);
      } else {
        const verb = refusal.enforced ? 'would be denied' : 'fails verification (report mode)';
        warnings.push(clip(`signet: ${image} ${verb}: ${refusal.code}`, MAX_WARNING_LENGTH));
      }
      continue;
    }
    if (!('verdict' in outcome)) continue;
    const v = outcome.verdict;
    if (v.mode === 'skip') continue;
    if (v.trust?.source === 'cached') {
      warnings.push(
        clip(`signet: ${image} checked against cached trust data (${v.trust.ageSeconds}s old)`, MAX_WARNING_LENGTH),
      );
    }
    // only enforcement changes workloads: report mode and --report-only observe without patching
    const pinned = opts.mutate && v.mode === 'enforce' && !opts.reportOnly ? pinnedImage(image, v) : undefined;
    if (pinned !== undefined) for (const p of places) patch.push(...replaceString(p.pointer, image, pinned));
  }
  if (denials.length > 0) {
    const n = denials.length;
    return {
      allowed: false,
      message: `signet: ${n} image${n === 1 ? '' : 's'} refused: ${denials.join('; ')}`,
      warnings,
      patch: [],
      refused,
    };
  }
  return { allowed: true, warnings, patch, refused };
}
