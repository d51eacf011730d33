// The per-measurement sections of docs/performance.md (GET, signing, lookup, scale, memory,
// enforcer, proxy, admission, start-up), each a heading, a table from the results, and notes.
import type { Results } from '../main.js';
import { renderAdmission } from '../s8-admission.js';
import { renderStartup } from '../s9-startup.js';
import type { Maybe } from './util.js';
import { fmt, fmtInt, kib, ratio, val, yes } from './report-format.js';

/** Appends measurements 1–7, then 8 (admission) and 9 (start-up) from their own modules, to `L`. */
export function renderMeasurements(L: string[], r: Results): void {
  const s = r.sections;
  const g = s.get;
  // ---- 1
  L.push('## 1. GET throughput and latency (keep-alive HTTPS)');
  L.push('');
  if (g) {
    L.push(
      `\`GET /v2/bench/get/_trust/tuf/{timestamp,targets}.json\`, ${g.targets} targets in targets.json. Generator: ${g.generator}.`,
    );
    L.push(
      'Cells: requests/s (p50 / p99 latency in ms) [server CPU, % of one core, notary = server + signer], from the',
    );
    L.push('round with the median rate; the rates of all rounds are in the results file.');
    L.push('');
    L.push(
      'Signet runs twice: one process (the default), and `--workers 2` (a primary and two worker processes on one',
    );
    L.push('port); the last column is the scaling from one process to two workers.');
    L.push('');
    L.push(
      '| file (bytes) | Accept-Encoding | conns | notary-server | Signet | Signet `--workers 2` | bare node:https | Signet / notary | `--workers 2` / notary | Signet / bare | 2 workers / 1 process |',
    );
    L.push('|---|---|---|---|---|---|---|---|---|---|---|');
    for (const x of g.rows) {
      const cell = (v: Maybe<{ rps: number; p50ms: number; p99ms: number; serverCpuPct: number }>): string =>
        val(v, (w) => `${fmtInt(w.rps)} (${fmt(w.p50ms)} / ${fmt(w.p99ms)}) [${fmt(w.serverCpuPct, 0)} %]`);
      const sw = x.signetWorkers ?? { ok: false as const, missing: 'not measured in this run' };
      const bytes = Object.entries(x.bytes)
        .map(([k, v]) => `${k} ${fmtInt(v)}`)
        .join(', ');
      L.push(
        `| ${x.file} (${bytes}) | ${x.encoding ?? 'identity'} | ${x.connections} | ${cell(x.notary)} | ${cell(x.signet)} | ${cell(sw)} | ${cell(x.bare)} | ${ratio(x.signet, x.notary, (w) => w.rps)} | ${ratio(sw, x.notary, (w) => w.rps)} | ${ratio(x.signet, x.bare, (w) => w.rps)} | ${ratio(sw, x.signet, (w) => w.rps)} |`,
      );
    }
    L.push('');
    L.push(`Measured ${g.measuredAt}.`);
  } else L.push('Not measured yet.');
  L.push('');

  // ---- 2
  L.push('## 2. Signing new tags (whole-process wall time)');
  L.push('');
  L.push('Images are pushed to the registry first. notary: one `notary addhash GUN TAG SIZE --sha256 HEX` process per');
  L.push(
    'tag (digest and size handed over from the push, which favours notary) then one `notary publish`. Signet: one',
  );
  L.push('`signet target add GUN --from-file LIST --publish` process given the same digests and sizes (a list file of');
  L.push(
    '`TAG SIZE SHA256` lines), and, separately, one `signet sign IMAGE:TAG…` process that reads every digest from',
  );
  L.push('the registry itself and publishes. The repository was initialised (and published) before the clock starts.');
  L.push('');
  if (s.sign) {
    L.push(
      '| new tags | notary total (addhash / publish) | Signet `target add --from-file --publish` | speed-up (notary ÷ Signet) | Signet `sign` (+ registry lookups) | speed-up (notary ÷ `sign`) |',
    );
    L.push('|---|---|---|---|---|---|');
    for (const x of s.sign.rows) {
      const file = x.signetFile ?? { ok: false as const, missing: 'not measured in this run' };
      const t = (v: Maybe<{ seconds: number; processes: number }>): string =>
        val(v, (w) => `${fmt(w.seconds)} s, ${w.processes} process`);
      L.push(
        `| ${fmtInt(x.tags)} | ${val(x.notary, (v) => `${fmt(v.seconds)} s (${fmt(v.addhashSeconds)} / ${fmt(v.publishSeconds)}), ${v.processes} processes`)} | ${t(file)} | ${ratio(x.notary, file, (v) => v.seconds, 1)} | ${t(x.signet)} | ${ratio(x.notary, x.signet, (v) => v.seconds, 1)} |`,
      );
    }
    L.push('');
    L.push(`Measured ${s.sign.measuredAt}.`);
  } else L.push('Not measured yet.');
  L.push('');

  // ---- 3
  L.push('## 3. Look up / verify one tag (whole-process wall time)');
  L.push('');
  if (s.verify) {
    const v = s.verify;
    L.push(
      `\`notary lookup ${v.gun} ${v.tag}\` vs \`signet --tofu verify --trust-only ${v.gun}:${v.tag}\` (the same work: trust data only);`,
    );
    L.push(
      'plain `signet --tofu verify` also fetches the manifest from the registry and checks its digest and size. Cold = empty',
    );
    L.push(
      'trust dir before each run (root trusted on first use, as `notary lookup` does by default), warm = cache kept.',
    );
    L.push(
      `Median of ${v.nodeBaseline.runs} runs (min–max). Baselines: \`node -e 0\` ${fmt(v.nodeBaseline.medianMs, 1)} ms (${fmt(v.nodeBaseline.minMs, 1)}–${fmt(v.nodeBaseline.maxMs, 1)}); \`signet --help\` (CLI start-up alone) ${val(v.signetStartup, (w) => `${fmt(w.medianMs, 1)} ms (${fmt(w.minMs, 1)}–${fmt(w.maxMs, 1)})`)}.`,
    );
    L.push('');
    L.push(
      '| cache | notary lookup | signet verify --trust-only | Signet ÷ notary time | signet verify (+ registry check) |',
    );
    L.push('|---|---|---|---|---|');
    const t = (x: Maybe<{ medianMs: number; minMs: number; maxMs: number }> | undefined): string =>
      val(x, (w) => `${fmt(w.medianMs, 1)} ms (${fmt(w.minMs, 1)}–${fmt(w.maxMs, 1)})`);
    for (const k of ['cold', 'warm'] as const) {
      L.push(
        `| ${k} | ${t(v.notary[k])} | ${t(v.signet[k])} | ${ratio(v.signet[k], v.notary[k], (w) => w.medianMs)} | ${t(v.signetFull?.[k])} |`,
      );
    }
    L.push('');
    L.push(`Measured ${v.measuredAt}.`);
  } else L.push('Not measured yet.');
  L.push('');

  // ---- 4
  L.push('## 4. Repository scale: adding one tag to a big repository');
  L.push('');
  L.push('Each repository is built fast (changelist files written straight into the trust dir, then one publish; that');
  L.push(
    'publish time is the "build" column). Then one new tag is added: notary = `notary addhash` + `notary publish`,',
  );
  L.push('Signet = `signet sign IMAGE:TAG`. Bytes are counted by a TCP pass-through in front of the server (TLS');
  L.push('records included), median of the runs.');
  L.push('');
  if (s.scale) {
    L.push(
      '| tags in repo | notary: add one tag | notary: sent / received | Signet: add one tag | Signet: sent / received | Signet speed-up (notary ÷ Signet time) | upload notary ÷ Signet |',
    );
    L.push('|---|---|---|---|---|---|---|');
    for (const x of s.scale.rows) {
      const t = (v: Maybe<{ addOneSeconds: number; buildSeconds: number | null; targetsJsonBytes: number }>): string =>
        val(
          v,
          (w) =>
            `${fmt(w.addOneSeconds)} s (build ${w.buildSeconds === null || !Number.isFinite(w.buildSeconds) ? 'did not finish' : `${fmt(w.buildSeconds, 1)} s`}; targets.json ${kib(w.targetsJsonBytes)})`,
        );
      const b = (v: Maybe<{ uploadBytes: number; downloadBytes: number; connections: number }>): string =>
        val(v, (w) => `${kib(w.uploadBytes)} / ${kib(w.downloadBytes)} (${w.connections} conns)`);
      L.push(
        `| ${fmtInt(x.tags)} | ${t(x.notary)} | ${b(x.notary)} | ${t(x.signet)} | ${b(x.signet)} | ${ratio(x.notary, x.signet, (w) => w.addOneSeconds, 1)} | ${ratio(x.notary, x.signet, (w) => w.uploadBytes, 1)} |`,
      );
    }
    L.push('');
    for (const x of s.scale.rows) {
      for (const v of [x.notary, x.signet])
        if (v.ok && v.value.buildNote) L.push(`- ${fmtInt(x.tags)} tags: ${v.value.buildNote}.`);
    }
    L.push('');
    L.push(`Runs per size: ${s.scale.reps}. Measured ${s.scale.measuredAt}.`);
  } else L.push('Not measured yet.');
  L.push('');

  // ---- 5
  L.push('## 5. Server memory holding many repositories');
  L.push('');
  if (s.memory) {
    const mm = s.memory;
    L.push(
      `Fresh servers; ${fmtInt(mm.repos)} repositories of ${mm.targetsPerRepo} targets each, created by direct HTTPS publishes`,
    );
    L.push(
      `(GET timestamp.key, then one multipart POST of root+targets+snapshot), ${mm.concurrency ?? 8} in flight. RSS from /proc/<pid>/status,`,
    );
    L.push('idle before, 5 s after the last publish, and the peak (VmHWM). notary = notary-server + notary-signer.');
    L.push('notary runs with its **memory** storage (everything in RAM); Signet with its default SQLite file.');
    L.push('');
    L.push('| | idle RSS | RSS holding the repos | peak RSS | create rate | on disk |');
    L.push('|---|---|---|---|---|---|');
    for (const [name, x] of [
      ['notary', mm.notary],
      ['Signet', mm.signet],
    ] as const) {
      L.push(
        `| ${name} | ${val(x, (w) => `${fmt(w.idleRssKiB / 1024, 1)} MiB`)} | ${val(x, (w) => `${fmt(w.loadedRssKiB / 1024, 1)} MiB`)} | ${val(x, (w) => `${fmt(w.peakRssKiB / 1024, 1)} MiB`)} | ${val(x, (w) => `${fmtInt(w.reposPerSecond)} repos/s`)} | ${val(x, (w) => (w.dataBytes !== undefined ? kib(w.dataBytes) : '– (memory store)'))} |`,
      );
    }
    L.push(
      `| Signet / notary | ${ratio(mm.signet, mm.notary, (w) => w.idleRssKiB)} | ${ratio(mm.signet, mm.notary, (w) => w.loadedRssKiB)} | ${ratio(mm.signet, mm.notary, (w) => w.peakRssKiB)} | ${ratio(mm.signet, mm.notary, (w) => w.reposPerSecond)} | |`,
    );
    L.push('');
    if (mm.notary.ok)
      L.push(
        `Per process (MiB idle → loaded): ${Object.entries(mm.notary.value.perProcess)
          .map(([k, v]) => `${k} ${fmt(v.idle / 1024, 1)} → ${fmt(v.loaded / 1024, 1)}`)
          .join(', ')}.`,
      );
    const heap = mm.signet.ok ? mm.signet.value.heap : undefined;
    if (heap) {
      L.push(
        `Signet's own view after the load (GET /metrics): V8 heap used ${fmt((heap.nodejs_heap_size_used_bytes ?? NaN) / 2 ** 20, 1)} MiB of ${fmt((heap.nodejs_heap_size_total_bytes ?? NaN) / 2 ** 20, 1)} MiB, external ${fmt((heap.nodejs_external_memory_bytes ?? NaN) / 2 ** 20, 1)} MiB (its in-memory caches of current and immutable metadata are bounded by count and bytes, src/server/options.ts).`,
      );
    }
    L.push('');
    L.push(`Measured ${mm.measuredAt}.`);
  } else L.push('Not measured yet.');
  L.push('');

  L.push('## 6. Warm enforcer decision (in-process, the proxy and admission webhook path)');
  L.push('');
  if (s.enforce) {
    const e = s.enforce;
    L.push(
      `\`createEnforcer\` (src/enforce) with the trust data of a ${e.tags}-tag repository in its warm cache; each decision timed alone`,
    );
    L.push(
      `(\`process.hrtime\` around one awaited call), after a warm-up. Trust server requests during the timed loops: ${e.requestsDuringLoops}.`,
    );
    L.push('');
    L.push(`| decision | decisions | median | p99 | max | mean | ≤ ${e.limitMs} ms (median and p99) |`);
    L.push('|---|---|---|---|---|---|---|');
    for (const [name, t] of [
      ['`checkTag(repo, tag)` (proxy: manifest by tag)', e.checkTag],
      ['`checkReference("host/name:tag")` (admission: one pod image)', e.checkReference],
      ['`checkDigest(repo, digest)` (proxy: manifest by digest)', e.checkDigest],
    ] as const) {
      L.push(
        `| ${name} | ${fmtInt(t.decisions)} | ${fmt(t.medianMs, 4)} ms | ${fmt(t.p99Ms, 4)} ms | ${fmt(t.maxMs, 3)} ms | ${fmt(t.meanMs, 4)} ms | ${yes(t.medianMs <= e.limitMs && t.p99Ms <= e.limitMs)} |`,
      );
    }
    L.push('');
    L.push('The max column is scheduling: a decision that does no I/O is stalled only when the process is not');
    L.push('running (GC, or the other work on this shared 2-core machine; see the background load above).');
    L.push('');
    L.push(`Measured ${e.measuredAt}.`);
  } else L.push('Not measured yet.');
  L.push('');

  // ---- 7
  const px = r.sections.proxy;
  L.push('## 7. Manifest GETs through `signet proxy` against the registry directly');
  L.push('');
  if (px) {
    L.push(
      `\`GET /v2/bench/proxy/manifests/v1\` (a signed tag, ${fmtInt(px.manifestBytes)}-byte Docker manifest), docker-registry 2.8 directly and through the proxy. Warm: the trust decision comes from the enforcer's in-process cache, and after the first GET the proxy serves the verified manifest bytes from its manifest cache (30 s, same access only; docs/proxy.md). The last two columns run a second proxy with \`--manifest-cache 0\`, which fetches the signed digest upstream and checks its hash on every request. Generator: ${px.generator}.`,
    );
    L.push('Cells: requests/s (p50 / p99 latency in ms) [CPU, % of one core: registry; proxy + registry].');
    L.push('');
    L.push(
      '| conns | registry directly | through the proxy | proxy / direct (target ≥ 0.50) | proxy with `--manifest-cache 0` | uncached / direct |',
    );
    L.push('|---|---|---|---|---|---|');
    for (const x of px.rows) {
      const cell = (v: Maybe<{ rps: number; p50ms: number; p99ms: number; cpuPct: number }> | undefined): string =>
        val(v, (w) => `${fmtInt(w.rps)} (${fmt(w.p50ms)} / ${fmt(w.p99ms)}) [${fmt(w.cpuPct, 0)} %]`);
      L.push(
        `| ${x.connections} | ${cell(x.direct)} | ${cell(x.proxy)} | ${ratio(x.proxy, x.direct, (w) => w.rps)} | ${cell(x.uncached)} | ${ratio(x.uncached, x.direct, (w) => w.rps)} |`,
      );
    }
    L.push('');
    L.push(`Measured ${px.measuredAt}.`);
  } else L.push('Not measured yet.');
  L.push('');
  L.push(...renderAdmission(s.admission));
  L.push(...renderStartup(s.startup));
}
