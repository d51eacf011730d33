/**
 * CLI output: exit codes a pipeline can act on (docs/client.md), error printing, JSON, tables and
 * a small TTY progress bar. Commands write through an `Output` so tests can capture it.
 */
import { SignetError, type SignetErrorCode } from '../errors.js';
import { assumedTrustServer, withGlobals } from './hints.js';

export const EXIT = {
  OK: 0,
  GENERAL: 1,
  USAGE: 2,
  NOT_FOUND: 3,
  VERIFICATION: 4,
  AUTH: 5,
  NETWORK: 6,
  PASSPHRASE: 7,
  TAG_MOVED: 8,
  STALE: 9,
  /** `status --expiring`: something expires within the window (not an error) */
  EXPIRING: 10,
} as const;

const BY_CODE: Partial<Record<SignetErrorCode, number>> = {
  USAGE: EXIT.USAGE,
  SERVICE_RETIRED: EXIT.USAGE,
  INVALID_GUN: EXIT.USAGE,
  NOT_SIGNED: EXIT.NOT_FOUND,
  NOT_FOUND: EXIT.NOT_FOUND,
  REPOSITORY_NOT_FOUND: EXIT.NOT_FOUND,
  NOT_INITIALIZED: EXIT.NOT_FOUND,
  BAD_SIGNATURE: EXIT.VERIFICATION,
  THRESHOLD: EXIT.VERIFICATION,
  UNKNOWN_KEY: EXIT.VERIFICATION,
  INVALID_KEY_ID: EXIT.VERIFICATION,
  EXPIRED: EXIT.VERIFICATION,
  ROLLBACK: EXIT.VERIFICATION,
  CERTIFICATE: EXIT.VERIFICATION,
  ROOT_ROTATION: EXIT.VERIFICATION,
  MIX_AND_MATCH: EXIT.VERIFICATION,
  ENDLESS_DATA: EXIT.VERIFICATION,
  SIGNATURE_BUDGET: EXIT.VERIFICATION,
  MALFORMED_METADATA: EXIT.VERIFICATION,
  DIGEST_MISMATCH: EXIT.VERIFICATION,
  UNTRUSTED_ROOT: EXIT.VERIFICATION,
  PIN_MISMATCH: EXIT.VERIFICATION,
  SIGNERS_REQUIRED: EXIT.VERIFICATION,
  TAG_MOVED: EXIT.TAG_MOVED,
  TRUST_STALE: EXIT.STALE,
  POLICY: EXIT.USAGE,
  UNAUTHORIZED: EXIT.AUTH,
  NETWORK: EXIT.NETWORK,
  TIMEOUT: EXIT.NETWORK,
  HTTP: EXIT.NETWORK,
  REGISTRY: EXIT.NETWORK,
  PASSPHRASE_REQUIRED: EXIT.PASSPHRASE,
  BAD_PASSPHRASE: EXIT.PASSPHRASE,
  PKCS11_PIN: EXIT.PASSPHRASE,
};

/** The process exit code for an error (1 for anything unexpected). */
export function exitCodeFor(err: unknown): number {
  if (err instanceof SignetError) return BY_CODE[err.code] ?? EXIT.GENERAL;
  return EXIT.GENERAL;
}

/**
 * Terminal controls in text that came from elsewhere (key-file headers, trust data, a server's or a
 * registry's error): C0 but newline and tab, DEL, C1 and the bidirectional overrides. Written as
 * `\u00XX`, which also keeps JSON output valid (it is a JSON escape of the same character).
 */
// eslint-disable-next-line no-control-regex
const TERMINAL_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** The one escaping of everything the CLI prints: no byte of `text` can drive the terminal. */
export function escapeControl(text: string): string {
  return text.replace(TERMINAL_CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Where commands write; `out` and `err` escape terminal controls (`escapeControl`). */
export interface Output {
  out(text: string): void;
  err(text: string): void;
  /** our own terminal control sequences (the progress bar), written as they are */
  control(seq: string): void;
  /** stderr is a terminal (progress bars, colours) */
  readonly isTTY: boolean;
}

export function processOutput(isTTY = Boolean(process.stderr.isTTY)): Output {
  return {
    out: (t) => void process.stdout.write(escapeControl(t)),
    err: (t) => void process.stderr.write(escapeControl(t)),
    control: (seq) => void process.stderr.write(seq),
    isTTY,
  };
}

/** Errors that may come from talking to the wrong trust server: they say which one was assumed. */
const SERVER_CODES: ReadonlySet<SignetErrorCode> = new Set<SignetErrorCode>([
  'NETWORK',
  'TIMEOUT',
  'HTTP',
  'UNAUTHORIZED',
  'NOT_FOUND',
  'REPOSITORY_NOT_FOUND',
  'NOT_INITIALIZED',
  'SERVER_REJECTED',
  'NOT_SIGNED',
]);

/**
 * `Error: <message>`, when known `  fix: <what to do>`, and for a server error on an assumed trust
 * server `  trust server: <url> (assumed: <why>)`; JSON `{"error":{code,message,fix,trustServer}}`
 * with --json. Suggested `signet …` commands carry the user's global flags (hints.ts).
 */
export function formatError(err: unknown, json = false): string {
  const e =
    err instanceof SignetError
      ? err
      : new SignetError('INTERNAL', err instanceof Error ? err.message : String(err), { cause: err });
  const message = withGlobals(e.message);
  const fix = e.fix !== undefined ? withGlobals(e.fix) : undefined;
  const server = SERVER_CODES.has(e.code) ? assumedTrustServer() : undefined;
  if (json) {
    return `${JSON.stringify({
      error: {
        code: e.code,
        message,
        ...(fix ? { fix } : {}),
        ...(server ? { trustServer: { url: server.url, assumed: server.why } } : {}),
      },
    })}\n`;
  }
  let s = `Error: ${message}\n`;
  if (fix) s += `  fix: ${fix}\n`;
  if (server) s += `  trust server: ${server.url} (assumed: ${server.why}; name another with --server URL)\n`;
  if (e.code === 'INTERNAL' && err instanceof Error && err.stack && !(err instanceof SignetError)) {
    s += '  (unexpected error; please report it)\n';
  }
  return s;
}

/** One warning line: `Warning: <text>`, or the text as it is when it already says WARNING. */
export function formatWarning(text: string): string {
  const t = withGlobals(text);
  return /^warning:/i.test(t) ? `${t}\n` : `Warning: ${t}\n`;
}

export function printJson(o: Output, value: unknown): void {
  o.out(`${JSON.stringify(value, null, 2)}\n`);
}

/** After a signer removal or revocation: the tags that now resolve to another digest, or to none. */
export function printTagChanges(
  o: Output,
  gun: string,
  changes: ReadonlyArray<{ tag: string; before: string; after: string | null }>,
): void {
  if (changes.length === 0) {
    o.out(`No tag of ${gun} changed its signed digest\n`);
    return;
  }
  o.out(`Tags of ${gun} whose signed digest changed:\n`);
  for (const c of changes) o.out(`  ${c.tag}: ${c.before} → ${c.after ?? 'now unsigned'}\n`);
}

/** A left-aligned table as docker's tabwriter prints it: cells padded by 3, columns at least 10 wide. */
export function formatTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(10, 3 + Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length))));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n') + '\n';
}

/**
 * A one-line progress bar on stderr, only on a TTY (a pipe gets nothing, so logs stay clean).
 * `tick(label)` after each item; `done()` clears the line.
 */
export function progressBar(o: Output, total: number, title: string): { tick(label?: string): void; done(): void } {
  let n = 0;
  const width = 24;
  const draw = (label: string): void => {
    const filled = total === 0 ? width : Math.round((n / total) * width);
    const bar = '#'.repeat(filled) + '-'.repeat(width - filled);
    o.control('\r\x1b[2K');
    o.err(`${title} [${bar}] ${n}/${total} ${label}`.slice(0, 190));
  };
  if (!o.isTTY || total < 2) return { tick: () => undefined, done: () => undefined };
  draw('');
  return {
    tick(label = '') {
      n++;
      draw(label);
    },
    done() {
      o.control('\r\x1b[2K');
    },
  };
}
