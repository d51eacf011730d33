// `signet sign` signs what the registry serves: resolveTags asks the registry for every tag, a bounded
// number at a time, and keeps the order the user gave.
import { describe, expect, it } from 'vitest';
import { resolveTags } from '../../src/client/index.js';
import { parseImageReference, type ImageReference } from '../../src/registry/index.js';

describe('resolveTags', () => {
  it('returns each tag with the digest and size the registry served, in order, a few at a time', async () => {
    let inFlight = 0;
    let peak = 0;
    const registry = {
      async resolve(ref: ImageReference | string) {
        const r = ref as ImageReference;
        inFlight++;
        peak = Math.max(peak, inFlight);
        await new Promise((res) => setTimeout(res, Number(r.tag?.slice(1)) % 3));
        inFlight--;
        return {
          digest: `sha256:${r.tag!.padStart(64, '0')}`,
          size: 100 + Number(r.tag!.slice(1)),
          mediaType: 'x',
          bytes: Buffer.alloc(0),
        };
      },
    };
    const refs = Array.from({ length: 40 }, (_, i) => parseImageReference(`127.0.0.1:5000/app:t${i}`));
    const seen: string[] = [];
    const out = await resolveTags(registry, refs, { concurrency: 5, onResolved: (r) => seen.push(r.tag!) });
    expect(out.map((t) => t.tag)).toEqual(refs.map((r) => r.tag));
    expect(out[7]).toEqual({ tag: 't7', digest: `sha256:${'t7'.padStart(64, '0')}`, size: 107 });
    expect(seen.sort()).toEqual(refs.map((r) => r.tag!).sort());
    expect(peak).toBeLessThanOrEqual(5);
    expect(peak).toBeGreaterThan(1);
  });

  it('refuses a reference without a tag', async () => {
    const registry = { resolve: async () => ({ digest: 'sha256:0', size: 1, mediaType: 'x', bytes: Buffer.alloc(0) }) };
    const ref = parseImageReference(`127.0.0.1:5000/app@sha256:${'a'.repeat(64)}`);
    await expect(resolveTags(registry, [ref])).rejects.toMatchObject({ code: 'USAGE' });
  });
});
