// Cell formatting for docs/performance.md: numbers, sizes, ratios, missing measurements, met/missed.
import type { Maybe } from './util.js';

export const fmtInt = (x: number): string => Math.round(x).toLocaleString('en-US');
export const fmt = (x: number, d = 2): string => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');
export const miss = (m: { ok: false; missing: string }): string =>
  `n/a (${(m.missing || 'not available yet').split('\n')[0]!.slice(0, 90).replace(/\|/g, '/')})`;
export const val = <T>(m: Maybe<T> | undefined, f: (v: T) => string): string =>
  !m ? 'n/a' : m.ok ? f(m.value) : miss(m);
export const ratio = <T>(a: Maybe<T> | undefined, b: Maybe<T> | undefined, f: (v: T) => number, d = 2): string =>
  a?.ok && b?.ok ? `${fmt(f(a.value) / f(b.value), d)}×` : 'n/a';
export const kib = (b: number): string => (b >= 1 << 20 ? `${fmt(b / (1 << 20), 1)} MiB` : `${fmt(b / 1024, 1)} KiB`);
export const yes = (ok: boolean | undefined): string =>
  ok === undefined ? 'not measured yet' : ok ? '**met**' : '**missed**';
