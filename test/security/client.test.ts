/**
 * The client against a hostile trust server and a tampered trust dir (N:client/tufclient.go, N:trustpinning/trustpin.go, N:const.go):
 * each case breaks one thing and expects exactly one SignetError code.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  canonicalJson,
  fileMeta,
  serializeEnvelope,
  newSnapshot,
  newTimestamp,
  parseSnapshot,
  signMetadata,
  type FileMeta,
} from '../../src/tuf/index.js';
import { resolveTag } from '../../src/updater/index.js';
import { simClient, type SimClient } from '../simulator/client.js';
import { SimRepo, plainKey } from '../simulator/repo.js';
import { endlessBody, serveBytes, startSimServer } from '../simulator/server.js';
import { simWorlds } from '../simulator/world.js';
import { codeOf } from './helpers.js';

const GUN = '127.0.0.1:5999/sec/app';
const DIGEST = 'cd'.repeat(32);
const DAY = 24 * 3600 * 1000;

const { cleanup, world } = simWorlds({ gun: GUN, digest: DIGEST });

/** A timestamp, really signed by the repository's timestamp key, listing `meta` for the snapshot (however odd). */
async function timestampListing(repo: SimRepo, meta: FileMeta, version = 1000): Promise<Buffer> {
  const signed = newTimestamp(meta, new Date(Date.now() + 7 * DAY), version);
  const sigs = [];
  for (const k of repo.keys.timestamp) {
    const { method, sig } = await k.signer.sign(canonicalJson(signed as never));
    sigs.push({ keyid: k.pub.id, method, sig: sig.toString('base64') });
  }
  return serializeEnvelope(signed, sigs);
}

/** A snapshot, really signed by the snapshot key, with `meta` changed by `edit`, served under a fresh timestamp. */
async function serveSnapshotWith(repo: SimRepo, edit: (meta: Record<string, FileMeta>) => void): Promise<void> {
  const cur = parseSnapshot(repo.current.get('snapshot') as Buffer);
  const meta = structuredClone(cur.signed.meta);
  edit(meta);
  const md = await signMetadata(
    'snapshot',
    newSnapshot(meta, new Date(Date.now() + 30 * DAY), cur.signed.version + 1),
    repo.keys.snapshot.map((k) => k.signer),
  );
  repo.serve('snapshot', md.bytes);
  repo.serve('timestamp', await timestampListing(repo, fileMeta(md.bytes), 500));
}

describe('hostile server: lengths and sizes', () => {
  it('timestamp lists the snapshot with length 0: ENDLESS_DATA (not one byte is accepted)', async () => {
    const w = await world();
    const snap = w.repo.current.get('snapshot') as Buffer;
    w.repo.serve('timestamp', await timestampListing(w.repo, { ...fileMeta(snap), length: 0 }));
    expect(await codeOf(w.client.refresh())).toBe('ENDLESS_DATA');
  });

  it('timestamp lists the snapshot with a negative length: MALFORMED_METADATA', async () => {
    const w = await world();
    const snap = w.repo.current.get('snapshot') as Buffer;
    w.repo.serve('timestamp', await timestampListing(w.repo, { ...fileMeta(snap), length: -1 }));
    expect(await codeOf(w.client.refresh())).toBe('MALFORMED_METADATA');
    expect(w.server.requests.some((f) => f.startsWith('snapshot.'))).toBe(false);
  });

  it('snapshot claims a 10 GB targets file: ENDLESS_DATA before any download', async () => {
    const w = await world();
    await serveSnapshotWith(w.repo, (m) => {
      (m['targets'] as FileMeta).length = 10 * 1024 ** 3;
    });
    expect(await codeOf(w.client.refresh())).toBe('ENDLESS_DATA');
    expect(w.server.requests.some((f) => f.startsWith('targets.'))).toBe(false);
  });

  it('snapshot claims a huge root and the server streams it forever: ENDLESS_DATA at the root cap', async () => {
    const w = await world();
    await w.client.refresh();
    await serveSnapshotWith(w.repo, (m) => {
      m['root'] = { hashes: { sha256: Buffer.alloc(32, 7).toString('base64') }, length: 512 * 1024 ** 2 };
    });
    let sent = 0;
    w.server.override(
      (f) => f.startsWith('root.'),
      (req, res) => {
        const orig = res.write.bind(res);
        res.write = ((chunk: Buffer, ...rest: never[]) => {
          sent += chunk.length;
          return orig(chunk, ...rest);
        }) as typeof res.write;
        endlessBody()(req, res);
      },
    );
    const u = w.client.updater({ limits: { rootMaxBytes: 256 * 1024 } });
    expect(await codeOf(u.refresh())).toBe('ENDLESS_DATA');
    // the root download is capped by the root limit, not by the length the (server-signed) snapshot claims
    expect(sent).toBeLessThan(16 * 1024 * 1024);
  });
});

describe('hostile server: wrong files and chains', () => {
  it('answers 200 with the snapshot for timestamp.json: MALFORMED_METADATA', async () => {
    const w = await world();
    w.server.override('timestamp.json', serveBytes(w.repo.current.get('snapshot') as Buffer));
    expect(await codeOf(w.client.refresh())).toBe('MALFORMED_METADATA');
  });

  it('answers 200 with targets.json for the snapshot checksum: MIX_AND_MATCH', async () => {
    const w = await world();
    w.server.override((f) => f.startsWith('snapshot.'), serveBytes(w.repo.current.get('targets') as Buffer));
    expect(await codeOf(w.client.refresh())).toBe('MIX_AND_MATCH');
  });

  it('answers 200 with the timestamp for root.json on first contact: MALFORMED_METADATA', async () => {
    const w = await world();
    w.server.override('root.json', serveBytes(w.repo.current.get('timestamp') as Buffer));
    expect(await codeOf(w.client.refresh())).toBe('MALFORMED_METADATA');
  });

  it("answers with another GUN's (validly signed) root: CERTIFICATE", async () => {
    const other = await SimRepo.create('127.0.0.1:5999/sec/other');
    const w = await world();
    w.server.override('root.json', serveBytes(other.current.get('root') as Buffer));
    expect(await codeOf(w.client.refresh())).toBe('CERTIFICATE');
  });

  it('a root chain of 1,000 versions is refused without walking it: ROOT_ROTATION', async () => {
    const w = await world();
    await w.client.refresh();
    w.repo.versions['root'] = 999;
    await w.repo.signRoot(); // v1000, validly signed by the same root key
    await w.repo.resignServerRoles();
    w.server.requests.length = 0;
    expect(await codeOf(w.client.refresh({ forWrite: true }))).toBe('ROOT_ROTATION');
    expect(w.server.requests.filter((f) => /^\d+\.root\.json$/.test(f))).toEqual([]);
  });

  it('a delegation chain deeper than the limit: INVALID_ROLE', async () => {
    const w = await world({
      setup: (r) => {
        let role = 'targets';
        for (let i = 0; i < 5; i++) {
          role = `${role}/d${i}`;
          r.addDelegation(role);
        }
      },
    });
    const u = w.client.updater({ limits: { maxDelegationDepth: 4 } });
    expect(await codeOf(u.refresh())).toBe('INVALID_ROLE');
    expect(await codeOf(w.client.updater({ limits: { maxDelegationDepth: 5 } }).refresh())).toBe('OK');
  });

  it('a timestamp signed by the snapshot key: UNKNOWN_KEY', async () => {
    const w = await world();
    w.repo.signers['timestamp'] = w.repo.keys.snapshot;
    await w.repo.signTimestamp();
    expect(await codeOf(w.client.refresh())).toBe('UNKNOWN_KEY');
  });
});

describe('signature floods', () => {
  it('a root.json padded with 20,000 bogus signatures is refused fast: THRESHOLD', async () => {
    const w = await world();
    const env = JSON.parse((w.repo.current.get('root') as Buffer).toString()) as {
      signed: unknown;
      signatures: { keyid: string; method: string; sig: string }[];
    };
    const bogus = { keyid: env.signatures[0]!.keyid, method: 'ecdsa', sig: Buffer.alloc(64, 1).toString('base64') };
    const flooded = Buffer.from(
      JSON.stringify({ signed: env.signed, signatures: [...Array(20_000).fill(bogus), ...env.signatures] }),
    );
    w.server.override('root.json', serveBytes(flooded));
    const t0 = Date.now();
    expect(await codeOf(w.client.refresh())).toBe('THRESHOLD');
    expect(Date.now() - t0).toBeLessThan(3000); // 11.8 s before the fix
  });
});

describe('tampered trust dir', () => {
  const rootFile = (c: SimClient): string => path.join(c.trustDir, 'tuf', ...GUN.split('/'), 'metadata', 'root.json');

  it('a cached root with one byte changed: THRESHOLD (never silently replaced)', async () => {
    const w = await world();
    await w.client.refresh();
    const file = rootFile(w.client);
    const bytes = await readFile(file);
    const s = bytes.toString().replace('"consistent_snapshot":false', '"consistent_snapshot":true ');
    await writeFile(file, s.trimEnd());
    expect(await codeOf(w.client.refresh())).toBe('THRESHOLD');
  });

  it('a cached root swapped for an attacker root while the GUN is pinned: PIN_MISMATCH', async () => {
    const w = await world();
    await w.client.pins.setCerts(GUN, [w.repo.rootKeys[0]!.pub.id]);
    await w.client.refresh({ tofu: false });
    // the attacker writes its own (self-consistent) repository into the cache and serves it
    const evil = await SimRepo.create(GUN);
    evil.setTarget('latest', 'ee'.repeat(32), 528);
    await evil.publish();
    const evilServer = await startSimServer(evil);
    cleanup.push(() => evilServer.close());
    await writeFile(rootFile(w.client), evil.current.get('root') as Buffer);
    const victim = await simClient(evilServer.url, GUN);
    cleanup.push(() => victim.close());
    const { cp } = await import('node:fs/promises');
    await cp(w.client.trustDir, victim.trustDir, { recursive: true });
    expect(await codeOf(victim.refresh({ tofu: false }))).toBe('PIN_MISMATCH');
    expect(await codeOf(victim.refresh({ tofu: false, offline: true }))).toBe('PIN_MISMATCH');
  });

  it('after a legitimate rotation and a re-pin by hand, the old cached root still leads to the new pinned root', async () => {
    const w = await world();
    await w.client.pins.setCerts(GUN, [w.repo.rootKeys[0]!.pub.id]);
    await w.client.refresh({ tofu: false });
    const fresh = await w.repo.rotateRoot({ signWithOld: true });
    await w.client.pins.setCerts(GUN, [fresh.pub.id]);
    expect(await codeOf(w.client.refresh({ tofu: false }))).toBe('OK');
    expect(await w.client.pins.resolve(GUN)).toMatchObject({ certs: [fresh.pub.id] });
  });
});

describe('prototype keys in target lookups', () => {
  it.each([['constructor'], ['__proto__'], ['toString'], ['hasOwnProperty']])(
    'an unsigned tag %j resolves to nothing (no inherited property is taken for a target)',
    async (tag) => {
      const w = await world();
      const repo = await w.client.refresh();
      expect(resolveTag(repo, tag)).toBeNull();
    },
  );

  it('a signed tag named constructor resolves to its own digest', async () => {
    const w = await world({ setup: (r) => r.setTarget('constructor', 'ab'.repeat(32), 10) });
    const repo = await w.client.refresh();
    expect(resolveTag(repo, 'constructor')?.digest).toBe(`sha256:${'ab'.repeat(32)}`);
    void plainKey;
  });
});
