/**
 * The registry client's failures as coded errors: statuses of a manifest GET, and the transport's
 * failures (network, TLS, deadline, oversized bodies, redirect loops) in the registry's words.
 */
import { SignetError } from '../errors.js';
import type { HttpErrors, HttpResponse } from '../http/index.js';
import { referenceString, type ImageReference } from './reference.js';

/** The transport's failures for requests to `registry` (a host[:port] as in the image name). */
export function registryErrors(registry: string, timeoutMs: number): HttpErrors {
  return {
    tooLarge: (req, _url, reason) =>
      new SignetError('ENDLESS_DATA', `${req.what} is larger than the ${req.maxBytes}-byte limit (${reason})`, {
        fix: 'Refusing to read more. If this is a legitimate, very large manifest, raise maxManifestBytes; otherwise the registry is misbehaving.',
        details: { limit: req.maxBytes },
      }),
    failed: (req, url, kind, cause) => {
      if (kind === 'timeout') {
        // Headers or body not finished within the deadline: a stalled registry, not a bug here.
        return new SignetError(
          'TIMEOUT',
          `registry ${registry} did not finish sending ${req.what} within ${timeoutMs} ms (${url})`,
          {
            fix: `Check that ${registry} is up and reachable; on a slow link raise --timeout (or SIGNET_TIMEOUT_MS).`,
            cause,
            details: { registry, url, timeoutMs },
          },
        );
      }
      const msg = cause instanceof Error ? cause.message : String(cause);
      const fix =
        kind === 'tls' && url.startsWith('https:')
          ? `If ${registry} serves plain HTTP, add it with --insecure-registry ${registry}; if it uses a private CA, trust that CA.`
          : `Check that ${registry} is reachable and running, then retry.`;
      return new SignetError('NETWORK', `cannot reach registry ${registry} (${url}): ${msg}`, {
        fix,
        cause,
        details: { registry, url },
      });
    },
    tooManyRedirects: (_req, url) =>
      new SignetError('REGISTRY', `too many redirects starting at ${url}`, {
        fix: 'The registry is misconfigured; contact its operator.',
      }),
  };
}

/** A manifest GET that did not answer 200. */
export function manifestStatusError(ref: ImageReference, shown: string, res: HttpResponse): SignetError {
  const errors = parseErrors(res.body);
  const codes = errors.map((e) => e.code).filter(Boolean);
  const summary = errors.length
    ? errors.map((e) => [e.code, e.message].filter(Boolean).join(': ')).join('; ')
    : res.body.toString('utf8').slice(0, 200).trim();
  const details = { registry: ref.registry, reference: shown, status: res.status, codes };
  if (res.status === 404) {
    if (codes.includes('NAME_UNKNOWN')) {
      return new SignetError('NOT_FOUND', `repository unknown: ${ref.name} does not exist in ${ref.registry}`, {
        fix: `Check the repository name, or push the image first (docker push ${referenceString(ref)}).`,
        details,
      });
    }
    return new SignetError('NOT_FOUND', `manifest unknown: ${shown} is not in ${ref.registry}`, {
      fix: 'Check the tag or digest (and that the image was pushed to this registry).',
      details,
    });
  }
  if (res.status === 401 || res.status === 403)
    return accessDenied(ref, `HTTP ${res.status}${summary ? `: ${summary}` : ''}`, details);
  if (res.status === 429) {
    return new SignetError('REGISTRY', `registry ${ref.registry} is rate-limiting requests (HTTP 429) for ${shown}`, {
      fix: 'Wait and retry, or log in to get a higher pull limit.',
      details,
    });
  }
  return new SignetError(
    'REGISTRY',
    `registry ${ref.registry} answered HTTP ${res.status} for manifest ${shown}${summary ? `: ${summary}` : ''}`,
    { fix: 'Retry later; if it persists, check the registry logs.', details },
  );
}

/**
 * The registry's 401 was not answered because the credential-origin rule (src/http/origin.ts)
 * kept the credentials back: a foreign host asked after a redirect, or the realm is plain http.
 */
export function credentialsWithheld(
  ref: ImageReference,
  problem: 'foreign-challenge' | 'realm',
  detail: string,
): SignetError {
  const realmHost = /https?:\/\/([^/\s;,]+)/.exec(detail)?.[1];
  return new SignetError('UNAUTHORIZED', `credentials for ${ref.registry} not sent: ${detail}`, {
    fix:
      problem === 'realm'
        ? `Ask the operator of ${ref.registry} to serve its token service over https${realmHost !== undefined ? `; if plain http to ${realmHost} is intended, add --insecure-registry ${realmHost}` : ''}.`
        : `Only ${ref.registry} itself may ask for its credentials; pull from the host it redirects to directly, or contact the registry operator.`,
    details: { registry: ref.registry, problem, status: 401 },
  });
}

/** Pull access refused (`why` says how). */
function accessDenied(ref: ImageReference, why: string, details: Record<string, unknown> = {}): SignetError {
  return new SignetError('UNAUTHORIZED', `registry ${ref.registry} denied pull access to ${ref.repository} (${why})`, {
    fix: `Log in with "docker login ${ref.registry}" (or pass credentials), and check you may pull ${ref.repository}.`,
    details: { registry: ref.registry, ...details },
  });
}

function parseErrors(body: Buffer): { code?: string; message?: string }[] {
  try {
    const j = JSON.parse(body.toString('utf8')) as { errors?: unknown };
    if (!Array.isArray(j.errors)) return [];
    return j.errors
      .filter((e): e is Record<string, unknown> => typeof e === 'object' && e !== null)
      .map((e) => ({
        ...(typeof e['code'] === 'string' ? { code: e['code'] } : {}),
        ...(typeof e['message'] === 'string' ? { message: e['message'] } : {}),
      }));
  } catch {
    return [];
  }
}
