/**
 * PEM blocks with RFC 1421 style headers, byte-compatible with Go's encoding/pem:
 *   -----BEGIN TYPE-----\n
 *   Proc-Type: …\n            (first, when present)
 *   key: value\n               (the other headers, sorted by key)
 *   \n                         (only when there are headers)
 *   base64 in 64-column lines\n
 *   -----END TYPE-----\n
 */
import { SignetError } from '../errors.js';

export interface PemBlock {
  type: string;
  headers: Record<string, string>;
  bytes: Buffer;
}

const BEGIN = '-----BEGIN ';
const END = '-----END ';
const DASHES = '-----';

function checkHeaderText(what: string, s: string): void {
  if (/[\r\n]/.test(s)) throw new SignetError('KEY_FILE', `PEM ${what} must not contain a line break`);
}

export function encodePem(block: PemBlock): string {
  checkHeaderText('type', block.type);
  let out = `${BEGIN}${block.type}${DASHES}\n`;
  const keys = Object.keys(block.headers).filter((k) => k !== 'Proc-Type');
  keys.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if ('Proc-Type' in block.headers) keys.unshift('Proc-Type');
  for (const k of keys) {
    const v = block.headers[k] ?? '';
    checkHeaderText('header', k);
    checkHeaderText('header', v);
    if (k.includes(':') || k === '') throw new SignetError('KEY_FILE', `invalid PEM header name ${JSON.stringify(k)}`);
    out += `${k}: ${v}\n`;
  }
  if (keys.length > 0) out += '\n';
  const b64 = block.bytes.toString('base64');
  for (let i = 0; i < b64.length; i += 64) out += b64.slice(i, i + 64) + '\n';
  out += `${END}${block.type}${DASHES}\n`;
  return out;
}

/**
 * Decodes every PEM block in `text` (text outside blocks is ignored, as Go does). Headers are
 * `key: value` lines right after the BEGIN line; values are trimmed. Throws KEY_FILE on a block
 * whose END line is missing or whose body is not base64.
 */
export function decodePemBlocks(text: string): PemBlock[] {
  const lines = text.split('\n').map((l) => l.replace(/[ \t\r]+$/, ''));
  const blocks: PemBlock[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i] ?? '';
    i++;
    if (!line.startsWith(BEGIN) || !line.endsWith(DASHES) || line.length < BEGIN.length + DASHES.length) continue;
    const type = line.slice(BEGIN.length, line.length - DASHES.length);
    const headers: Record<string, string> = {};
    // header lines: contain ':' and come before the body
    while (i < lines.length) {
      const h = lines[i] ?? '';
      const colon = h.indexOf(':');
      if (colon < 0 || h.startsWith(END)) break;
      headers[h.slice(0, colon).trim()] = h.slice(colon + 1).trim();
      i++;
    }
    const body: string[] = [];
    let ended = false;
    while (i < lines.length) {
      const b = lines[i] ?? '';
      i++;
      if (b.startsWith(END)) {
        if (b !== `${END}${type}${DASHES}`) {
          throw new SignetError('KEY_FILE', `PEM block "${type}" ends with a mismatched END line`);
        }
        ended = true;
        break;
      }
      body.push(b.trim());
    }
    if (!ended) throw new SignetError('KEY_FILE', `PEM block "${type}" has no END line`);
    const b64 = body.join('');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length % 4 !== 0) {
      throw new SignetError('KEY_FILE', `PEM block "${type}" body is not valid base64`);
    }
    blocks.push({ type, headers, bytes: Buffer.from(b64, 'base64') });
  }
  return blocks;
}
