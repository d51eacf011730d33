// Measurement 2: sign 1, 100 and 1,000 new tags of images already in the registry, whole-process
// wall time from the first command to the published result.
//   notary: `notary addhash GUN TAG SIZE --sha256 HEX` per tag (one process each; digest and size are
//           handed over from the push, not looked up, which favours notary) + one `notary publish`.
//   signet: one `signet target add GUN --from-file LIST --publish` given the same digests and sizes as
//           notary (one `TAG SIZE SHA256` line per tag), and, in another repository, one
//           `signet sign IMAGE:TAG…` (it resolves digests in the registry itself).
import { mkdir, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pushImages, type PushedImage } from '../test/harness/push-image.js';
import type { Ctx } from './lib/context.js';
import { notaryRun } from './lib/context.js';
import { TrustHttp } from './lib/minituf.js';
import { signetCli, signetCommandMissing } from './lib/signet.js';
import { attempt, check, log, type Maybe } from './lib/util.js';

export interface SignRow {
  tags: number;
  notary: Maybe<{ seconds: number; addhashSeconds: number; publishSeconds: number; processes: number }>;
  signet: Maybe<{ seconds: number; processes: number }>;
  /** `target add --from-file --publish` (absent in results from before it existed) */
  signetFile?: Maybe<{ seconds: number; processes: number }>;
}

export interface SignSection {
  measuredAt: string;
  rows: SignRow[];
}

export const signCounts = (quick: boolean): number[] => (quick ? [1, 100] : [1, 100, 1000]);

/** Targets in targets.json plus its direct delegations (docker signs into targets/releases when it exists). */
export async function countTargets(http: TrustHttp, gun: string): Promise<number> {
  type T = { signed: { targets: Record<string, unknown>; delegations?: { roles?: { name: string }[] | null } } };
  const get = async (role: string): Promise<T> =>
    JSON.parse((await http.get(`/v2/${gun}/_trust/tuf/${role}.json`)).toString('utf8')) as T;
  const top = await get('targets');
  let n = Object.keys(top.signed.targets).length;
  for (const r of top.signed.delegations?.roles ?? []) n += Object.keys((await get(r.name)).signed.targets).length;
  return n;
}

export async function runSign(ctx: Ctx): Promise<SignSection> {
  if (!ctx.registry) throw new Error('registry not started');
  const host = ctx.registry.host;
  const dir = path.join(ctx.work, 's2');
  await mkdir(dir, { recursive: true });
  const notary = notaryRun(ctx.notary.url, ctx.notary.caFile, path.join(dir, 'notary-trust'));
  const nHttp = new TrustHttp(ctx.notary.url, readFileSync(ctx.notary.caFile));
  const rows: SignRow[] = [];
  for (const n of signCounts(ctx.opts.quick)) {
    const name = `bench/sign${n}`;
    const gun = `${host}/${name}`;
    const tags = Array.from({ length: n }, (_, i) => `t${String(i).padStart(4, '0')}`);
    log(`s2: pushing ${n} images to ${gun}`);
    const images: PushedImage[] = await pushImages(host, name, tags);

    log(`s2: notary, ${n} tags`);
    const notaryRes = await attempt(`s2 notary ${n}`, async () => {
      check(await notary(['init', gun, '-p']), 'notary init');
      const t0 = process.hrtime.bigint();
      for (const img of images) {
        check(
          await notary(['addhash', gun, img.tag, String(img.size), '--sha256', img.digest.slice(7)]),
          'notary addhash',
        );
      }
      const t1 = process.hrtime.bigint();
      check(await notary(['publish', gun]), 'notary publish');
      const t2 = process.hrtime.bigint();
      const got = await countTargets(nHttp, gun);
      if (got !== n) throw new Error(`notary-server holds ${got} targets for ${gun}, expected ${n}`);
      return {
        seconds: Number(t2 - t0) / 1e9,
        addhashSeconds: Number(t1 - t0) / 1e9,
        publishSeconds: Number(t2 - t1) / 1e9,
        processes: n + 1,
      };
    });

    log(`s2: signet, ${n} tags`);
    const signetRes: SignRow['signet'] = !ctx.signet.ok
      ? { ok: false, missing: ctx.signet.missing }
      : await attempt(`s2 signet ${n}`, async () => {
          for (const c of [['init'], ['sign']]) {
            const why = await signetCommandMissing(c);
            if (why) throw new Error(why);
          }
          const server = ctx.signet.ok ? ctx.signet.value.url : '';
          const cli = signetCli({ server, caFile: ctx.ca.caCert, trustDir: path.join(dir, 'signet-trust') });
          check(await cli.run(['init', gun]), 'signet init');
          const t0 = process.hrtime.bigint();
          check(await cli.run(['sign', ...images.map((i) => `${gun}:${i.tag}`)]), 'signet sign');
          const t1 = process.hrtime.bigint();
          const sHttp = new TrustHttp(server, ctx.caPem);
          try {
            const got = await countTargets(sHttp, gun);
            if (got !== n) throw new Error(`signet server holds ${got} targets for ${gun}, expected ${n}`);
          } finally {
            sHttp.close();
          }
          return { seconds: Number(t1 - t0) / 1e9, processes: 1 };
        });
    log(`s2: signet target add --from-file --publish, ${n} tags`);
    const fileGun = `${host}/bench/signfile${n}`;
    const signetFile: SignRow['signet'] = !ctx.signet.ok
      ? { ok: false, missing: ctx.signet.missing }
      : await attempt(`s2 signet target add ${n}`, async () => {
          const server = ctx.signet.ok ? ctx.signet.value.url : '';
          const cli = signetCli({ server, caFile: ctx.ca.caCert, trustDir: path.join(dir, 'signet-trust') });
          check(await cli.run(['init', fileGun]), 'signet init');
          check(await cli.run(['publish', fileGun]), 'signet publish (initial)');
          const list = path.join(dir, `list${n}.txt`);
          await writeFile(list, images.map((i) => `${i.tag} ${i.size} ${i.digest}\n`).join(''));
          const t0 = process.hrtime.bigint();
          check(await cli.run(['target', 'add', fileGun, '--from-file', list, '--publish']), 'signet target add');
          const t1 = process.hrtime.bigint();
          const sHttp = new TrustHttp(server, ctx.caPem);
          try {
            const got = await countTargets(sHttp, fileGun);
            if (got !== n) throw new Error(`signet server holds ${got} targets for ${fileGun}, expected ${n}`);
          } finally {
            sHttp.close();
          }
          return { seconds: Number(t1 - t0) / 1e9, processes: 1 };
        });
    rows.push({ tags: n, notary: notaryRes, signet: signetRes, signetFile });
  }
  nHttp.close();
  return { measuredAt: new Date().toISOString(), rows };
}
