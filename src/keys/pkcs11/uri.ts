/**
 * PKCS#11 URIs (RFC 7512): `pkcs11:token=L;object=root1?module-path=/usr/lib/…&pin-source=file:/run/pin`.
 * Path attributes pick the token and the key object; query attributes name the module and where
 * the PIN is. `pin-value` is refused: a URI is stored in the trust dir and printed, a PIN never is.
 */
import { SignetError } from '../../errors.js';

export interface Pkcs11Uri {
  /** token label (CK_TOKEN_INFO.label, trailing blanks trimmed) */
  token?: string;
  manufacturer?: string;
  model?: string;
  serial?: string;
  /** object label (CKA_LABEL) */
  object?: string;
  /** object ID (CKA_ID) bytes */
  id?: Buffer;
  /** object class: only `private` (or absent) names a signing key */
  type?: string;
  slotId?: number;
  modulePath?: string;
  /** RFC 7512 §2.4 pin-source: a file path or `file:` URI */
  pinSource?: string;
}

const PATH_ATTRS = new Set(['token', 'manufacturer', 'model', 'serial', 'object', 'id', 'type', 'slot-id']);
// library-* attributes describe the module; they are accepted and not matched (RFC 7512 §2.3 lets a consumer ignore them)
const IGNORED_PATH_ATTRS = new Set([
  'library-manufacturer',
  'library-description',
  'library-version',
  'slot-description',
  'slot-manufacturer',
]);
const QUERY_ATTRS = new Set(['module-path', 'pin-source', 'module-name']);

function bad(
  text: string,
  why: string,
  fix = 'write it as pkcs11:token=<label>;object=<key label> (RFC 7512)',
): SignetError {
  return new SignetError('PKCS11_URI', `${JSON.stringify(redact(text))} is not a usable PKCS#11 URI: ${why}`, { fix });
}

/** The URI with any pin-value replaced, for messages. */
function redact(text: string): string {
  return text.replace(/(pin-value=)[^&;]*/gi, '$1***');
}

function decode(text: string, v: string): Buffer {
  if (/%(?![0-9A-Fa-f]{2})/.test(v)) throw bad(text, `bad percent-encoding in ${JSON.stringify(v)}`);
  const bytes: number[] = [];
  for (let i = 0; i < v.length; i++) {
    if (v[i] === '%') {
      bytes.push(parseInt(v.slice(i + 1, i + 3), 16));
      i += 2;
    } else for (const b of Buffer.from(v[i] ?? '', 'utf8')) bytes.push(b);
  }
  return Buffer.from(bytes);
}

export function isPkcs11Uri(text: string): boolean {
  return text.toLowerCase().startsWith('pkcs11:');
}

export function parsePkcs11Uri(text: string): Pkcs11Uri {
  if (!isPkcs11Uri(text)) throw bad(text, 'it does not start with "pkcs11:"');
  const body = text.slice('pkcs11:'.length);
  const q = body.indexOf('?');
  const pathPart = q < 0 ? body : body.slice(0, q);
  const queryPart = q < 0 ? '' : body.slice(q + 1);
  const out: Pkcs11Uri = {};
  const seen = new Set<string>();
  const take = (attr: string, raw: string): void => {
    if (seen.has(attr)) throw bad(text, `attribute ${attr} appears twice`);
    seen.add(attr);
    const bytes = decode(text, raw);
    const str = bytes.toString('utf8');
    switch (attr) {
      case 'token':
        out.token = str;
        break;
      case 'manufacturer':
        out.manufacturer = str;
        break;
      case 'model':
        out.model = str;
        break;
      case 'serial':
        out.serial = str;
        break;
      case 'object':
        out.object = str;
        break;
      case 'id':
        out.id = bytes;
        break;
      case 'type':
        out.type = str;
        break;
      case 'slot-id':
        if (!/^\d+$/.test(str)) throw bad(text, `slot-id must be a number, not ${JSON.stringify(str)}`);
        out.slotId = Number(str);
        break;
      case 'module-path':
        out.modulePath = str;
        break;
      case 'pin-source':
        out.pinSource = str;
        break;
      default:
        break;
    }
  };
  for (const part of pathPart === '' ? [] : pathPart.split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw bad(text, `${JSON.stringify(part)} is not attribute=value`);
    const attr = part.slice(0, eq).toLowerCase();
    if (IGNORED_PATH_ATTRS.has(attr)) continue;
    if (!PATH_ATTRS.has(attr)) throw bad(text, `unknown path attribute ${JSON.stringify(attr)}`);
    take(attr, part.slice(eq + 1));
  }
  for (const part of queryPart === '' ? [] : queryPart.split('&')) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw bad(text, `${JSON.stringify(part)} is not attribute=value`);
    const attr = part.slice(0, eq).toLowerCase();
    if (attr === 'pin-value')
      throw bad(
        text,
        'it carries the PIN (pin-value); Signet stores and prints key URIs, so it never takes a PIN from one',
        'drop pin-value and give the PIN with pin-source=file:/path, --pkcs11-pin-file, SIGNET_PKCS11_PIN_FILE or SIGNET_PKCS11_PIN',
      );
    if (!QUERY_ATTRS.has(attr)) throw bad(text, `unknown query attribute ${JSON.stringify(attr)}`);
    if (attr === 'module-name') continue; // a module search name; Signet needs the path
    take(attr, part.slice(eq + 1));
  }
  if (out.type !== undefined && out.type !== 'private')
    throw bad(text, `type=${out.type} does not name a private key`, 'drop type= or use type=private');
  return out;
}

/** RFC 7512 §2.3: unreserved and a few safe characters stay (and `/` in query values); the rest is percent-encoded. */
function encode(v: string | Buffer, query = false): string {
  const bytes = typeof v === 'string' ? Buffer.from(v, 'utf8') : v;
  let s = '';
  for (const b of bytes) {
    const c = String.fromCharCode(b);
    const safe = /[A-Za-z0-9\-._~:[\]@!$'()*+,]/.test(c) || (query && c === '/');
    s += safe && b < 0x80 ? c : `%${b.toString(16).padStart(2, '0')}`;
  }
  return s;
}

/** The URI text (never a PIN: there is none to write). */
export function formatPkcs11Uri(u: Pkcs11Uri): string {
  const path: string[] = [];
  if (u.token !== undefined) path.push(`token=${encode(u.token)}`);
  if (u.manufacturer !== undefined) path.push(`manufacturer=${encode(u.manufacturer)}`);
  if (u.model !== undefined) path.push(`model=${encode(u.model)}`);
  if (u.serial !== undefined) path.push(`serial=${encode(u.serial)}`);
  if (u.slotId !== undefined) path.push(`slot-id=${u.slotId}`);
  if (u.object !== undefined) path.push(`object=${encode(u.object)}`);
  if (u.id !== undefined) path.push(`id=${[...u.id].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('')}`);
  if (u.type !== undefined) path.push(`type=${encode(u.type)}`);
  const query: string[] = [];
  if (u.modulePath !== undefined) query.push(`module-path=${encode(u.modulePath, true)}`);
  if (u.pinSource !== undefined) query.push(`pin-source=${encode(u.pinSource, true)}`);
  return `pkcs11:${path.join(';')}${query.length > 0 ? `?${query.join('&')}` : ''}`;
}
