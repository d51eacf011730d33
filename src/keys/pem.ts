/**
 * Key files' PEM blocks with RFC 1421 style headers (`role`, `gun`, `path`, Proc-Type/DEK-Info),
 * byte-compatible with Go's encoding/pem:
 *   -----BEGIN TYPE-----\n
 *   Proc-Type: …\n            (first, when present)
 *   key: value\n               (the other headers, sorted by key)
 *   \n                         (only when there are headers)
 *   base64 in 64-column lines\n
 *   -----END TYPE-----\n
 * Reading is src/tuf's one PEM reader; this adds the header order on writing and the refusal of a
 * malformed block in a key file (Go would skip it and then report "no key").
 */
import { SignetError } from '../errors.js';
import { pemEncode, scanPem, type PemBlock as TufPemBlock } from '../tuf/index.js';

export type PemBlock = Pick<TufPemBlock, 'type' | 'headers' | 'bytes'>;

function checkHeaderText(what: string, s: string): void {
  if (/[\r\n]/.test(s)) throw new SignetError('KEY_FILE', `PEM ${what} must not contain a line break`);
}

export function encodePem(block: PemBlock): string {
  checkHeaderText('type', block.type);
  const keys = Object.keys(block.headers).filter((k) => k !== 'Proc-Type');
  keys.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if ('Proc-Type' in block.headers) keys.unshift('Proc-Type');
  const lines = keys.map((k): [string, string] => {
    const v = block.headers[k] ?? '';
    checkHeaderText('header', k);
    checkHeaderText('header', v);
    if (k.includes(':') || k === '') throw new SignetError('KEY_FILE', `invalid PEM header name ${JSON.stringify(k)}`);
    return [k, v];
  });
  return pemEncode(block.type, block.bytes, lines);
}

/**
 * Decodes every PEM block in `text` (text outside blocks is ignored, as Go does). Throws KEY_FILE
 * on a block that is malformed (no END line, a mismatched one, a body that is not base64).
 */
export function decodePemBlocks(text: string): TufPemBlock[] {
  const { blocks, problems } = scanPem(text);
  const bad = problems[0];
  if (bad !== undefined) {
    throw new SignetError(
      'KEY_FILE',
      `PEM block ${JSON.stringify(bad.type.slice(0, 80))} is malformed: ${bad.problem}`,
      {
        details: { offset: bad.offset },
      },
    );
  }
  return blocks;
}
