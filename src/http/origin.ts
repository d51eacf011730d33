/**
 * Where credentials may go. One rule for the trust-server client and the registry client:
 *
 *  - Credentials belong to one origin (scheme, host, port): the trust server the user configured, or
 *    the registry they logged in to. They are sent to that origin, and to nothing reached from it
 *    by a redirect to another origin.
 *  - A 401 challenge counts only when the response came from that origin. A challenge from a host a
 *    cross-origin redirect led to is a stranger asking for someone else's password.
 *  - The token realm a challenge names may be on another host (Docker Hub's is auth.docker.io), but
 *    credentials go there only over https. An http realm gets them only when it is the credentials'
 *    own origin (already plain http by the user's choice) or its exact host:port is one the user
 *    marked insecure (`--insecure-registry host:port`).
 */

/** `scheme://host[:port]` of a URL, lower-cased, default port dropped (WHATWG URL `origin`). */
export function originOf(url: string | URL): string {
  return (typeof url === 'string' ? new URL(url) : url).origin;
}

/**
 * A host list entry as given by the user (`host`, `host:port`, `http://host:port/`) reduced to
 * `host[:port]`, lower-cased; scheme and path dropped, as moby's `loadInsecureRegistries` does.
 */
export function hostListEntry(entry: string): string {
  return entry
    .trim()
    .toLowerCase()
    .replace(/^[a-z][a-z0-9+.-]*:\/\//, '')
    .replace(/\/.*$/, '');
}

/**
 * Whether `hostPort` (`host` or `host:port`, as written in an image name or a URL's `host`) is in
 * the user's list. The match is exact, as moby's `isSecureIndex` looks up `IndexConfigs[indexName]`:
 * `reg.example.com` does not cover `reg.example.com:5000`, so a listed name never opens other ports.
 */
export function hostListed(list: readonly string[], hostPort: string): boolean {
  const want = hostPort.toLowerCase();
  return list.some((e) => hostListEntry(e) === want);
}

/** `url` is set whenever the realm is an http(s) URL, even when credentials may not go there. */
export type RealmVerdict = { ok: true; url: URL } | { ok: false; reason: string; url?: URL };

/**
 * May the credentials of `owner` (an origin) be sent to `realm`? `plainHttpHosts` are the exact
 * `host:port` entries the user accepts plain http for.
 */
export function realmForCredentials(realm: string, owner: string, plainHttpHosts: readonly string[]): RealmVerdict {
  let url: URL;
  try {
    url = new URL(realm);
  } catch {
    return { ok: false, reason: `the token realm ${JSON.stringify(realm)} is not a URL` };
  }
  if (url.protocol === 'https:') return { ok: true, url };
  if (url.protocol !== 'http:') return { ok: false, reason: `the token realm ${JSON.stringify(realm)} is not http(s)` };
  if (url.origin === owner || hostListed(plainHttpHosts, url.host)) return { ok: true, url };
  return {
    ok: false,
    url,
    reason: `the token realm ${url.origin} is plain http on another origin than ${owner}; credentials go to a realm elsewhere only over https`,
  };
}
