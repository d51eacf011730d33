/**
 * Registry-style auth against a trust server (reference §1.3, §5.3): a 401 carries
 * `WWW-Authenticate: Bearer realm="…",service="…",scope="…"`; we fetch a token from the realm with
 * basic credentials and the scope for the GUN, then retry once. `Basic` challenges get basic auth.
 */
export type RemoteAuth = { username: string; password: string } | { token: string };

export interface Challenge {
  scheme: string; // lowercased: 'bearer' | 'basic' | …
  params: Record<string, string>;
}

/** Parse one or more challenges from WWW-Authenticate header values (RFC 7235 syntax). */
export function parseChallenges(header: string | string[] | undefined): Challenge[] {
  if (header === undefined) return [];
  const out: Challenge[] = [];
  for (const value of Array.isArray(header) ? header : [header]) {
    let i = 0;
    const skip = (chars: string): void => {
      while (i < value.length && chars.includes(value[i] as string)) i++;
    };
    const token = (): string => {
      const m = /^[!#$%&'*+\-.^_`|~\w/]+/.exec(value.slice(i));
      if (m === null) return '';
      i += m[0].length;
      return m[0];
    };
    while (i < value.length) {
      skip(' \t,');
      const scheme = token();
      if (scheme === '') break;
      const params: Record<string, string> = {};
      for (;;) {
        skip(' \t');
        const save = i;
        const key = token();
        skip(' \t');
        if (key === '' || value[i] !== '=') {
          i = save; // a bare token: the next challenge's scheme
          break;
        }
        i++;
        skip(' \t');
        let v = '';
        if (value[i] === '"') {
          i++;
          while (i < value.length && value[i] !== '"') {
            if (value[i] === '\\') i++;
            v += value[i] ?? '';
            i++;
          }
          i++;
        } else {
          v = /^[^,\s]*/.exec(value.slice(i))?.[0] ?? '';
          i += v.length;
        }
        params[key.toLowerCase()] = v;
        skip(' \t');
        if (value[i] === ',') i++;
        else break;
      }
      out.push({ scheme: scheme.toLowerCase(), params });
    }
  }
  return out;
}

export function basicHeader(username: string, password: string): string {
  return 'Basic ' + Buffer.from(`${username}:${password}`, 'utf8').toString('base64');
}

/** The scope string for a GUN and action list, e.g. `repository:docker.io/library/x:pull,push`. */
export function repositoryScope(gun: string, actions: string[]): string {
  return `repository:${gun}:${actions.join(',')}`;
}

/** Read the token from a token-server response (`token` or the OAuth-style `access_token`). */
export function tokenFromResponse(body: Buffer): string | undefined {
  try {
    const j = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    if (typeof j.token === 'string' && j.token !== '') return j.token;
    if (typeof j.access_token === 'string' && j.access_token !== '') return j.access_token;
  } catch {
    return undefined;
  }
  return undefined;
}
