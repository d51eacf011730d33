/**
 * Real notary 0.7 client publishes (raw HTTP captured in fixtures/vectors/wire) go through our
 * multipart reader and validateUpdate unchanged: Go's multipart bytes, Go-made x509 root
 * certificates, notary's canonical JSON and signatures, the snapshot-key rotation to the server.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { serializeEnvelope } from '../../src/tuf/index.js';
import { validateUpdate, type StoredRepo } from '../../src/validation/index.js';
import { readUpload } from '../../src/server/multipart.js';

const WIRE = path.join(import.meta.dirname, '../fixtures/vectors/wire');
const GUN = '127.0.0.1:5000/library/wire';

function parseRequest(file: string): { headers: Record<string, string>; body: Buffer } {
  const raw = readFileSync(path.join(WIRE, file));
  const sep = raw.indexOf('\r\n\r\n');
  const headers: Record<string, string> = {};
  for (const line of raw.subarray(0, sep).toString('latin1').split('\r\n').slice(1)) {
    const i = line.indexOf(':');
    headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
  }
  return { headers, body: raw.subarray(sep + 4) };
}

describe('replaying the captured notary CLI publishes', () => {
  it('accepts every publish of the captured session, in order', async () => {
    const posts = readdirSync(WIRE)
      .filter((f) => /^\d+-POST-.*_trust_tuf\.request$/.test(f))
      .sort();
    expect(posts.length).toBe(4);
    const stored: StoredRepo = { targets: new Map() };
    const seen: string[][] = [];
    for (const f of posts) {
      const { headers, body } = parseRequest(f);
      const uploaded = await readUpload(Readable.from([body]), headers, {
        bodyLimit: 1 << 24,
        roleLimit: 1 << 22,
        maxParts: 100,
      });
      seen.push([...uploaded.keys()].sort());
      const plan = validateUpdate({ gun: GUN, stored, uploaded, now: new Date() });
      for (const a of plan.accepted) {
        if (a.role === 'root') stored.root = a.data;
        else if (a.role === 'snapshot') stored.snapshot = a.data;
        else stored.targets?.set(a.role, a.data);
      }
      // the server-generated snapshot: its content is what matters for the next round
      if (plan.snapshotToSign !== undefined) stored.snapshot = serializeEnvelope(plan.snapshotToSign, []);
    }
    expect(seen).toEqual([['root', 'snapshot', 'targets'], ['snapshot', 'targets'], ['root'], ['targets']]);
  });

  it('refuses the first publish for another GUN (the root certificate names the captured GUN)', async () => {
    const { headers, body } = parseRequest(
      readdirSync(WIRE)
        .filter((f) => /^\d+-POST-.*_trust_tuf\.request$/.test(f))
        .sort()[0] as string,
    );
    const uploaded = await readUpload(Readable.from([body]), headers, {
      bodyLimit: 1 << 24,
      roleLimit: 1 << 22,
      maxParts: 100,
    });
    expect(() =>
      validateUpdate({ gun: '127.0.0.1:5000/library/other', stored: {}, uploaded, now: new Date() }),
    ).toThrow(expect.objectContaining({ notaryName: 'ErrBadRoot' }));
  });
});
