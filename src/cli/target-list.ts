/**
 * Target sizes and hashes as the user gives them: `signet target add NAME --sha256 --size`, or a
 * list of many (`--from-file`), one target a line: `NAME SIZE SHA256` (notary addhash's order of
 * size and hash; `sha256:` prefix allowed), blank lines and `#` comments ignored.
 */
import { hexToBase64 } from '../digest.js';
import { SignetError } from '../errors.js';

export interface TargetLine {
  name: string;
  length: number;
  /** base64, as TUF file meta holds it */
  sha256: string;
}

export function parseSize(v: string, where = '--size'): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n))
    throw new SignetError('USAGE', `${where} must be a byte count, got ${v}`);
  return n;
}

export function parseSha256(v: string, where = '--sha256'): string {
  const hex = v.replace(/^sha256:/, '').toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new SignetError('USAGE', `${where} must be 64 hex digits, got ${v}`);
  return hexToBase64(hex);
}

const FORMAT = 'one target a line: NAME SIZE SHA256 (e.g. v1.2 1234 sha256:3b1f…), # for comments';

/** Every target of a list; a bad or repeated line is refused with its line number (nothing staged). */
export function parseTargetList(text: string, source: string): TargetLine[] {
  const out: TargetLine[] = [];
  const seen = new Map<string, number>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).trim();
    if (line === '' || line.startsWith('#')) continue;
    const where = `line ${i + 1} of ${source}`;
    const fields = line.split(/\s+/);
    if (fields.length !== 3)
      throw new SignetError('USAGE', `${where} has ${fields.length} field(s), expected 3: ${JSON.stringify(line)}`, {
        fix: FORMAT,
      });
    const [name, size, sha] = fields as [string, string, string];
    const first = seen.get(name);
    if (first !== undefined)
      throw new SignetError('USAGE', `${where} names ${JSON.stringify(name)} again (first on line ${first})`, {
        fix: 'list each target once',
      });
    seen.set(name, i + 1);
    try {
      out.push({
        name,
        length: parseSize(size, `the size on ${where}`),
        sha256: parseSha256(sha, `the sha256 on ${where}`),
      });
    } catch (e) {
      throw e instanceof SignetError ? new SignetError('USAGE', e.message, { fix: FORMAT }) : e;
    }
  }
  if (out.length === 0) throw new SignetError('USAGE', `${source} lists no targets`, { fix: FORMAT });
  return out;
}
