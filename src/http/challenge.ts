/**
 * `WWW-Authenticate` challenges (RFC 7235 §4.1): `Bearer realm="…",service="…",scope="…"`,
 * `Basic realm="…"`, several per header value or across values. The one parser for the trust-server
 * client and the registry client; it reads each character once.
 */

export interface Challenge {
  /** lower-cased: 'bearer', 'basic', … */
  scheme: string;
  /** parameter names lower-cased; quoted values unescaped */
  params: Record<string, string>;
}

// RFC 7230 tchar, plus '/' so a bare token68 is skipped as one piece.
const TCHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z/]/;

export function parseChallenges(header: string | readonly string[] | undefined): Challenge[] {
  if (header === undefined) return [];
  const out: Challenge[] = [];
  for (const value of typeof header === 'string' ? [header] : header) parseValue(value, out);
  return out;
}

function parseValue(s: string, out: Challenge[]): void {
  let i = 0;
  let current: Challenge | undefined;
  const skipWs = (): void => {
    while (s[i] === ' ' || s[i] === '\t') i++;
  };
  while (i < s.length) {
    skipWs();
    if (s[i] === ',') {
      i++;
      continue;
    }
    const start = i;
    while (i < s.length && TCHAR.test(s[i] as string)) i++;
    const token = s.slice(start, i);
    if (token === '') {
      i++; // a stray character: skip it
      continue;
    }
    skipWs();
    if (s[i] !== '=') {
      current = { scheme: token.toLowerCase(), params: {} };
      out.push(current);
      continue;
    }
    i++;
    skipWs();
    let v = '';
    if (s[i] === '"') {
      i++;
      while (i < s.length && s[i] !== '"') {
        if (s[i] === '\\' && i + 1 < s.length) i++;
        v += s[i];
        i++;
      }
      i++; // the closing quote
    } else {
      const vs = i;
      while (i < s.length && s[i] !== ',' && s[i] !== ' ' && s[i] !== '\t') i++;
      v = s.slice(vs, i);
    }
    if (current !== undefined) current.params[token.toLowerCase()] = v;
  }
}

export function basicAuthorization(username: string, password: string): string {
  return 'Basic ' + Buffer.from(`${username}:${password}`, 'utf8').toString('base64');
}
