/**
 * A dump of the notary tables as files, for databases `signet server import` cannot reach directly
 * (MySQL, or a copy taken elsewhere). A directory holding `tuf_files`, `changefeed` and optionally
 * `private_keys`, each as `<table>.csv` (PostgreSQL `\copy <table> to … with (format csv, header)`)
 * or `<table>.tsv` (`mysql --batch` output with its header line, binary columns as HEX()).
 * Columns are found by header name; binary columns are hex, with or without PostgreSQL's `\x`.
 * docs/migrate.md gives the commands.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { SignetError } from '../errors.js';
import { usedAt, type NotarySource, type SourceChange, type SourceFile, type SourceKey } from './source.js';

type Row = Map<string, string | null>;

/** RFC 4180 CSV as PostgreSQL writes it: an unquoted empty field is NULL, a quoted one is ''. */
function parseCsv(text: string): (string | null)[][] {
  const rows: (string | null)[][] = [];
  let row: (string | null)[] = [];
  let i = 0;
  while (i <= text.length) {
    if (i === text.length) {
      if (row.length > 0) rows.push(row);
      break;
    }
    let value: string | null;
    if (text[i] === '"') {
      let s = '';
      i++;
      for (;;) {
        const q = text.indexOf('"', i);
        if (q < 0) throw new SignetError('USAGE', 'unterminated quoted field in a CSV dump');
        s += text.slice(i, q);
        if (text[q + 1] === '"') {
          s += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
      value = s;
    } else {
      let j = i;
      while (j < text.length && text[j] !== ',' && text[j] !== '\n' && text[j] !== '\r') j++;
      value = j === i ? null : text.slice(i, j);
      i = j;
    }
    row.push(value);
    if (text[i] === ',') {
      i++;
      continue;
    }
    if (text[i] === '\r') i++;
    if (text[i] === '\n') i++;
    rows.push(row);
    row = [];
    if (i === text.length) break;
  }
  return rows;
}

/** `mysql --batch`: tab-separated, backslash escapes, NULL spelled out. */
function parseTsv(text: string): (string | null)[][] {
  const unescape = (v: string): string =>
    v.replace(/\\(.)/g, (_m, c: string) => ({ t: '\t', n: '\n', '0': '\0', '\\': '\\' })[c] ?? c);
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) =>
      l
        .replace(/\r$/, '')
        .split('\t')
        .map((v) => (v === 'NULL' ? null : unescape(v))),
    );
}

function readTable(dir: string, table: string, required: boolean): Row[] {
  for (const [ext, parse] of [
    ['csv', parseCsv],
    ['tsv', parseTsv],
  ] as const) {
    const file = path.join(dir, `${table}.${ext}`);
    if (!existsSync(file)) continue;
    const [header, ...rows] = parse(readFileSync(file, 'utf8'));
    if (header === undefined) return [];
    const names = header.map((h) => (h ?? '').trim().toLowerCase());
    return rows.map((r) => new Map(names.map((n, k) => [n, r[k] ?? null])));
  }
  if (!required) return [];
  throw new SignetError('USAGE', `the dump directory ${dir} has no ${table}.csv or ${table}.tsv`, {
    fix: 'export the table as docs/migrate.md shows, or point --from-dump at the right directory',
  });
}

function col(row: Row, name: string, table: string): string {
  const v = row.get(name);
  if (v === undefined || v === null) {
    throw new SignetError('USAGE', `${table} dump: column ${name} is missing or NULL`, {
      fix: 'export every column of the table (docs/migrate.md)',
    });
  }
  return v;
}

function hex(v: string, what: string): Buffer {
  const h = v.startsWith('\\x') ? v.slice(2) : v;
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(h)) throw new SignetError('USAGE', `${what} is not hex in the dump`);
  return Buffer.from(h, 'hex');
}

/** `2026-12-02 01:02:03.456789` (UTC unless an offset follows) or epoch milliseconds. */
function time(v: string | null | undefined): number | null {
  if (v === null || v === undefined || v === '') return null;
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v);
  const m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2}(?:\.\d+)?)\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/.exec(v.trim());
  if (m === null) throw new SignetError('USAGE', `unreadable time ${JSON.stringify(v)} in the dump`);
  let tz = m[3] ?? 'Z';
  if (/^[+-]\d{2}$/.test(tz)) tz += ':00';
  const ms = Date.parse(`${m[1]}T${m[2]}${tz}`);
  if (Number.isNaN(ms)) {
    // years before 1970 (Go's zero time) parse fine; anything else unreadable is an error
    throw new SignetError('USAGE', `unreadable time ${JSON.stringify(v)} in the dump`);
  }
  return ms;
}

const live = (r: Row): boolean => {
  const d = r.get('deleted_at');
  return d === undefined || d === null || d === '';
};

export function openDumpSource(dir: string): NotarySource {
  if (!existsSync(dir)) {
    throw new SignetError('USAGE', `the dump directory ${dir} does not exist`, { fix: 'check --from-dump' });
  }
  const files: SourceFile[] = readTable(dir, 'tuf_files', true)
    .filter(live)
    .map((r) => ({
      gun: col(r, 'gun', 'tuf_files'),
      role: col(r, 'role', 'tuf_files'),
      version: Number(col(r, 'version', 'tuf_files')),
      sha256: (r.get('sha256') ?? '').trim().toLowerCase(),
      data: hex(col(r, 'data', 'tuf_files'), 'tuf_files.data'),
      createdAt: new Date(time(r.get('created_at')) ?? 0),
    }));
  const byGun = new Map<string, SourceFile[]>();
  for (const f of files) {
    const list = byGun.get(f.gun) ?? [];
    list.push(f);
    byGun.set(f.gun, list);
  }
  for (const list of byGun.values())
    list.sort((a, b) => (a.role < b.role ? -1 : a.role > b.role ? 1 : a.version - b.version));
  const changes: SourceChange[] = readTable(dir, 'changefeed', false)
    .map((r) => ({
      id: col(r, 'id', 'changefeed'),
      gun: col(r, 'gun', 'changefeed'),
      version: Number(col(r, 'version', 'changefeed')),
      sha256: (r.get('sha256') ?? '').trim().toLowerCase(),
      category: (r.get('category') === 'deletion' ? 'deletion' : 'update') as SourceChange['category'],
      createdAt: new Date(time(r.get('created_at')) ?? 0),
    }))
    .sort((a, b) => Number(a.id) - Number(b.id));
  const keys: SourceKey[] = readTable(dir, 'private_keys', false)
    .filter(live)
    .map((r) => ({
      keyId: col(r, 'key_id', 'private_keys'),
      algorithm: col(r, 'algorithm', 'private_keys'),
      encryptionAlg: col(r, 'encryption_alg', 'private_keys'),
      keywrapAlg: col(r, 'keywrap_alg', 'private_keys'),
      passphraseAlias: col(r, 'passphrase_alias', 'private_keys'),
      public: hex(col(r, 'public', 'private_keys'), 'private_keys.public'),
      private: hex(col(r, 'private', 'private_keys'), 'private_keys.private').toString('utf8'),
      gun: col(r, 'gun', 'private_keys'),
      role: col(r, 'role', 'private_keys'),
      createdAt: new Date(time(r.get('created_at')) ?? 0),
      lastUsed: usedAt(time(r.get('last_used'))),
    }));
  return {
    guns: () => Promise.resolve([...byGun.keys()].sort()),
    files: (gun) => Promise.resolve(byGun.get(gun) ?? []),
    changes: () => Promise.resolve(changes),
    keys: () => Promise.resolve(keys),
    close: () => Promise.resolve(),
  };
}
