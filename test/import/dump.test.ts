// The dump reader of `signet server import --from-dump`: psql \copy CSV and mysql --batch TSV.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDumpSource } from '../../src/import/index.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
function dir(files: Record<string, string>): string {
  const d = mkdtempSync(path.join(os.tmpdir(), 'signet-dump-'));
  dirs.push(d);
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(d, name), text);
  return d;
}

describe('openDumpSource', () => {
  it('reads psql CSV: \\x hex, quoted fields, NULL as an empty field, soft-deleted rows left out', async () => {
    const d = dir({
      'tuf_files.csv':
        'id,created_at,updated_at,deleted_at,gun,role,version,data,sha256\n' +
        '1,2026-12-01 10:00:00.5,,,"a/b",root,1,\\x7b7d,44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a\n' +
        '2,2026-12-01 10:00:01,,2026-12-01 11:00:00,a/b,targets,1,\\x00,\n' +
        '3,2026-12-01 10:00:02,,,"x,y",timestamp,2,\\x,\n',
      'changefeed.csv':
        'id,created_at,gun,version,sha256,category\n2,2026-12-01 10:00:02,a/b,1,abc,update\n1,2026-12-01 09:00:00,c,0,,deletion\n',
    });
    const src = openDumpSource(d);
    expect(await src.guns()).toEqual(['a/b', 'x,y']);
    const files = await src.files('a/b');
    expect(files).toHaveLength(1);
    expect(files[0]).toMatchObject({ role: 'root', version: 1, data: Buffer.from('{}') });
    expect(files[0]!.createdAt.toISOString()).toBe('2026-12-01T10:00:00.500Z');
    expect((await src.changes()).map((c) => [c.id, c.category])).toEqual([
      ['1', 'deletion'],
      ['2', 'update'],
    ]);
    expect(await src.keys()).toEqual([]);
  });

  it('reads mysql --batch TSV: HEX() columns, NULL spelled out, Go zero time as never used', async () => {
    const d = dir({
      'tuf_files.tsv':
        'gun\trole\tversion\tdata\tsha256\tcreated_at\tdeleted_at\nr/s\tsnapshot\t3\t7B7D\tNULL\t2026-12-01 10:00:00\tNULL\n',
      'private_keys.tsv':
        'key_id\tencryption_alg\tkeywrap_alg\talgorithm\tpassphrase_alias\tpublic\tprivate\tgun\trole\tcreated_at\tlast_used\tdeleted_at\n' +
        'k1\tA256GCM\tPBES2-HS256+A128KW\tecdsa\ttimestamp_1\t3059\t652E\tr/s\ttimestamp\t2026-12-01 10:00:00\t0001-01-01 00:00:00\tNULL\n',
    });
    const src = openDumpSource(d);
    expect((await src.files('r/s'))[0]).toMatchObject({
      role: 'snapshot',
      version: 3,
      sha256: '',
      data: Buffer.from('{}'),
    });
    const [k] = await src.keys();
    expect(k).toMatchObject({
      keyId: 'k1',
      passphraseAlias: 'timestamp_1',
      private: 'e.',
      lastUsed: null,
      role: 'timestamp',
    });
    expect(k!.public).toEqual(Buffer.from([0x30, 0x59]));
    expect(await src.changes()).toEqual([]);
  });

  it('names the missing table and a directory that does not exist', () => {
    expect(() => openDumpSource(dir({}))).toThrow(expect.objectContaining({ code: 'USAGE' }));
    expect(() => openDumpSource('/nonexistent/dump')).toThrow(/does not exist/);
  });
});
