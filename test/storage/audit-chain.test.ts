// AuditChainCheck (src/storage/audit.ts): every kind of tampering is named by the seq where it shows.
import { describe, expect, it } from 'vitest';
import { sha256Hex } from '../../src/digest.js';
import { AuditChainCheck, canonicalJson, type AuditEntry } from '../../src/storage/index.js';

/** A valid chain of n entries built the way appendAudit builds it. */
function chain(n: number): AuditEntry[] {
  const out: AuditEntry[] = [];
  let prev = '0'.repeat(64);
  for (let seq = 1; seq <= n; seq++) {
    const text = canonicalJson({ event: 'publish', gun: `g${seq}`, seq, time: '2026-01-01T00:00:00.000Z', prev });
    prev = sha256Hex(Buffer.from(text));
    out.push({ seq, createdAt: 0, text, hash: prev });
  }
  return out;
}

function problems(es: AuditEntry[]): { seq: number; kind: string }[] {
  const c = new AuditChainCheck();
  for (const e of es) c.add(e);
  return c.problems.map(({ seq, kind }) => ({ seq, kind }));
}

describe('AuditChainCheck', () => {
  it('accepts an intact chain', () => {
    expect(problems(chain(5))).toEqual([]);
  });

  it('names an edited entry (hash kept) by its seq', () => {
    const es = chain(5);
    es[2] = { ...es[2]!, text: es[2]!.text.replace('"g3"', '"g3-evil"') };
    expect(problems(es)).toEqual([{ seq: 3, kind: 'edited' }]);
  });

  it('names an edited entry whose hash was recomputed at the next entry', () => {
    const es = chain(5);
    const text = es[2]!.text.replace('"g3"', '"g3-evil"');
    es[2] = { ...es[2]!, text, hash: sha256Hex(Buffer.from(text)) };
    expect(problems(es)).toEqual([{ seq: 4, kind: 'chain' }]);
  });

  it('names a removed entry', () => {
    const es = chain(5);
    es.splice(1, 1);
    expect(problems(es)).toEqual([
      { seq: 3, kind: 'missing' },
      { seq: 3, kind: 'chain' },
    ]);
  });

  it('names reordered entries (rows renumbered, or contents swapped)', () => {
    const es = chain(5);
    const swapped = [es[0]!, { ...es[2]!, seq: 2 }, { ...es[1]!, seq: 3 }, es[3]!, es[4]!];
    const p = problems(swapped);
    expect(p).toContainEqual({ seq: 2, kind: 'order' });
    expect(p).toContainEqual({ seq: 3, kind: 'order' });
    expect(p).toContainEqual({ seq: 4, kind: 'chain' });
    const inOrder = [es[0]!, es[2]!, es[1]!, es[3]!, es[4]!];
    expect(problems(inOrder).map((x) => x.seq)).toEqual(expect.arrayContaining([3, 2, 4]));
  });
});
