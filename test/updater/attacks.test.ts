/**
 * The client against a hostile trust server (test/simulator): each case breaks exactly one thing and
 * expects exactly one error code. Metadata is really signed (fresh ECDSA keys, real root certificates).
 */
import crypto from 'node:crypto';
import { rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isSignetError } from '../../src/errors.js';
import { RegistryClient } from '../../src/registry/index.js';
import { serializeEnvelope, type TargetsSigned } from '../../src/tuf/index.js';
import { verifyImage } from '../../src/client/index.js';
import { resolveTag } from '../../src/updater/index.js';
import { codeOf } from '../helpers/errors.js';
import { SimRepo, plainKey, sha256Hex } from '../simulator/repo.js';
import { endlessBody, lyingLength, serveBytes } from '../simulator/server.js';
import { simWorlds } from '../simulator/world.js';

const GUN = '127.0.0.1:5999/sim/app';
const DAY = 24 * 3600 * 1000;
const DIGEST = 'ab'.repeat(32);

const { cleanup, world } = simWorlds({ gun: GUN, digest: DIGEST });

/** Re-serialise targets.json with a changed target but the old signatures (what a server can do). */
function tamperTargets(repo: SimRepo, change: (t: TargetsSigned) => void): void {
  const env = JSON.parse((repo.current.get('targets') as Buffer).toString()) as {
    signed: TargetsSigned;
    signatures: [];
  };
  change(env.signed);
  repo.serve('targets', serializeEnvelope(env.signed, env.signatures));
}

describe('attacks: one expected code per case', () => {
  it('refuses a target digest changed by the server (targets signature breaks): THRESHOLD', async () => {
    const w = await world();
    tamperTargets(w.repo, (t) => {
      (t.targets.latest as { hashes: { sha256: string } }).hashes.sha256 = Buffer.alloc(32, 7).toString('base64');
    });
    await w.repo.resignServerRoles();
    expect(await codeOf(w.client.refresh())).toBe('THRESHOLD');
  });

  it('refuses a target length changed by the server: THRESHOLD', async () => {
    const w = await world();
    tamperTargets(w.repo, (t) => {
      (t.targets.latest as { length: number }).length = 1;
    });
    await w.repo.resignServerRoles();
    expect(await codeOf(w.client.refresh())).toBe('THRESHOLD');
  });

  it('refuses a registry manifest whose digest differs from the signed one: DIGEST_MISMATCH', async () => {
    const manifest = Buffer.from(
      '{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json"}',
    );
    const evil = Buffer.from(
      '{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","x":1}',
    );
    const reg = http.createServer((req, res) => {
      if (req.url === '/v2/') return void res.end('{}');
      res.writeHead(200, {
        'content-type': 'application/vnd.docker.distribution.manifest.v2+json',
        'content-length': String(evil.length),
      });
      res.end(evil);
    });
    await new Promise<void>((r) => reg.listen(0, '127.0.0.1', r));
    cleanup.push(() => new Promise<void>((r) => reg.close(() => r())));
    const gun = `127.0.0.1:${(reg.address() as AddressInfo).port}/sim/app`;
    const w = await world({ gun, setup: (r) => r.setTarget('v1', sha256Hex(manifest), manifest.length) });
    const registry = new RegistryClient({ retries: 0 });
    cleanup.push(() => registry.close());
    const p = verifyImage({
      ref: `${gun}:v1`,
      updater: w.client.updater(),
      registry,
    });
    expect(await codeOf(p)).toBe('DIGEST_MISMATCH');
  });

  it('refuses a timestamp older than the cached one: ROLLBACK', async () => {
    const w = await world();
    const old = w.repo.current.get('timestamp') as Buffer;
    await w.repo.signTimestamp();
    await w.client.refresh();
    w.repo.serve('timestamp', old);
    expect(await codeOf(w.client.refresh())).toBe('ROLLBACK');
  });

  it('refuses a snapshot older than the cached one, even under a fresh timestamp: ROLLBACK', async () => {
    const w = await world();
    const old = w.repo.current.get('snapshot') as Buffer;
    await w.repo.resignServerRoles();
    await w.client.refresh();
    w.repo.serve('snapshot', old);
    await w.repo.signTimestamp();
    expect(await codeOf(w.client.refresh())).toBe('ROLLBACK');
  });

  it('refuses targets older than the cached ones, even under a fresh snapshot: ROLLBACK', async () => {
    const w = await world();
    const old = w.repo.current.get('targets') as Buffer;
    w.repo.setTarget('v2', DIGEST, 10);
    await w.repo.publish(['targets']);
    await w.client.refresh();
    w.repo.serve('targets', old);
    await w.repo.resignServerRoles();
    expect(await codeOf(w.client.refresh())).toBe('ROLLBACK');
  });

  it('refuses an expired timestamp (freeze): EXPIRED', async () => {
    const w = await world();
    w.repo.expires.timestamp = new Date(Date.now() - DAY);
    await w.repo.signTimestamp();
    expect(await codeOf(w.client.refresh())).toBe('EXPIRED');
  });

  it('refuses an expired snapshot: EXPIRED', async () => {
    const w = await world();
    w.repo.expires.snapshot = new Date(Date.now() - DAY);
    await w.repo.resignServerRoles();
    expect(await codeOf(w.client.refresh())).toBe('EXPIRED');
  });

  it('refuses expired targets: EXPIRED', async () => {
    const w = await world();
    w.repo.expires.targets = new Date(Date.now() - DAY);
    await w.repo.publish(['targets']);
    expect(await codeOf(w.client.refresh())).toBe('EXPIRED');
  });

  it('refuses an expired root (freeze): EXPIRED', async () => {
    const w = await world();
    w.repo.expires.root = new Date(Date.now() - DAY);
    await w.repo.signRoot();
    await w.repo.resignServerRoles();
    expect(await codeOf(w.client.refresh())).toBe('EXPIRED');
  });

  it('refuses a cached root that has since expired when the server has nothing newer: EXPIRED', async () => {
    const w = await world();
    await w.client.refresh();
    expect(await codeOf(w.client.refresh({ now: new Date(Date.now() + 11 * 365 * DAY) }))).toBe('EXPIRED');
  });

  it('refuses targets that do not match what the snapshot lists (mix-and-match): MIX_AND_MATCH', async () => {
    const w = await world();
    const old = w.repo.current.get('targets') as Buffer;
    w.repo.setTarget('v2', DIGEST, 10);
    await w.repo.publish(['targets']);
    const hex = sha256Hex(w.repo.current.get('targets') as Buffer);
    w.server.override(`targets.${hex}.json`, serveBytes(old));
    expect(await codeOf(w.client.refresh())).toBe('MIX_AND_MATCH');
  });

  it('stops reading a never-ending timestamp body: ENDLESS_DATA', async () => {
    const w = await world();
    w.server.override('timestamp.json', endlessBody());
    expect(await codeOf(w.client.refresh())).toBe('ENDLESS_DATA');
  });

  it('refuses a timestamp whose Content-Length is over 1 MiB without reading it: ENDLESS_DATA', async () => {
    const w = await world();
    w.server.override('timestamp.json', lyingLength(2 * 1024 * 1024));
    expect(await codeOf(w.client.refresh())).toBe('ENDLESS_DATA');
  });

  it('refuses a snapshot longer than the length the timestamp lists: ENDLESS_DATA', async () => {
    const w = await world();
    const snap = w.repo.current.get('snapshot') as Buffer;
    w.server.override((f) => f.startsWith('snapshot.'), serveBytes(Buffer.concat([snap, Buffer.alloc(4096, 0x20)])));
    expect(await codeOf(w.client.refresh())).toBe('ENDLESS_DATA');
  });

  it('refuses to download targets the snapshot lists as larger than the metadata cap: ENDLESS_DATA', async () => {
    const w = await world();
    const targetsLen = (w.repo.current.get('targets') as Buffer).length;
    const u = w.client.updater({ limits: { metadataMaxBytes: targetsLen - 1 } });
    expect(await codeOf(u.refresh())).toBe('ENDLESS_DATA');
    expect(w.server.requests.some((f) => f.startsWith('targets.'))).toBe(false);
  });

  it('refuses a timestamp signed by a key the root does not list: UNKNOWN_KEY', async () => {
    const w = await world();
    w.repo.signers.timestamp = [plainKey()];
    await w.repo.signTimestamp();
    expect(await codeOf(w.client.refresh())).toBe('UNKNOWN_KEY');
  });

  it('refuses targets with fewer valid signatures than the threshold (1 of 2): THRESHOLD', async () => {
    const w = await world({ targetsKeys: 2, targetsThreshold: 2 });
    await w.client.refresh(); // 2 of 2 is fine
    w.repo.signers.targets = [w.repo.keys.targets[0] as never];
    w.repo.setTarget('v2', DIGEST, 10);
    await w.repo.publish(['targets']);
    expect(await codeOf(w.client.refresh())).toBe('THRESHOLD');
  });

  it('refuses a new root not signed by the old root key: ROOT_ROTATION', async () => {
    const w = await world();
    await w.client.refresh();
    await w.repo.rotateRoot({ signWithOld: false });
    expect(await codeOf(w.client.refresh())).toBe('ROOT_ROTATION');
  });

  it('refuses a root whose certificate is for another GUN: CERTIFICATE', async () => {
    const w = await world({ certGun: '127.0.0.1:5999/other/app' });
    expect(await codeOf(w.client.refresh())).toBe('CERTIFICATE');
  });

  it('refuses a root whose certificate has expired: CERTIFICATE', async () => {
    const w = await world({ certNow: new Date(Date.now() - 11 * 365 * DAY), certYears: 10 });
    expect(await codeOf(w.client.refresh())).toBe('CERTIFICATE');
  });

  it('ignores a target a delegation signs outside its paths: NOT_SIGNED', async () => {
    const w = await world({
      setup: (r) => {
        r.addDelegation('targets/releases', { paths: ['v1'] });
        r.setTarget('v1.0', DIGEST, 11, 'targets/releases');
        r.setTarget('evil', DIGEST, 12, 'targets/releases');
      },
    });
    const ref = { name: GUN, familiar: GUN, tag: 'evil' };
    expect(await codeOf(verifyImage({ ref, updater: w.client.updater() }))).toBe('NOT_SIGNED');
    const ok = await verifyImage({ ref: { ...ref, tag: 'v1.0' }, updater: w.client.updater() });
    expect(ok.role).toBe('targets/releases');
  });

  it('refuses a rotated root the pinned root did not sign, whatever the cache: ROOT_ROTATION / PIN_MISMATCH', async () => {
    const w = await world();
    const pinned = w.repo.rootKeys[0]?.pub.id as string;
    await w.client.pins.setCerts(GUN, [pinned]);
    await w.client.refresh({ tofu: false });
    await w.repo.rotateRoot({ signWithOld: false });
    expect(await codeOf(w.client.refresh({ tofu: false }))).toBe('ROOT_ROTATION');
    // a fresh verifier with the same pin (no cache): the chain from the pinned v1 is broken
    await rm(path.join(w.client.trustDir, 'tuf'), { recursive: true });
    expect(await codeOf(w.client.refresh({ tofu: false }))).toBe('PIN_MISMATCH');
  });

  it('refuses a first-seen root that differs from the pin: PIN_MISMATCH', async () => {
    const w = await world();
    await w.client.pins.setCerts(GUN, [crypto.randomBytes(32).toString('hex')]);
    expect(await codeOf(w.client.refresh({ tofu: false }))).toBe('PIN_MISMATCH');
  });

  it('refuses a first-seen root without pin or TOFU, naming the pin command: UNTRUSTED_ROOT', async () => {
    const w = await world();
    try {
      await w.client.refresh({ tofu: false });
      expect.unreachable();
    } catch (e) {
      expect(isSignetError(e, 'UNTRUSTED_ROOT')).toBe(true);
      expect((e as { fix: string }).fix).toContain(`signet pin ${GUN} ${w.repo.rootKeys[0]?.pub.id}`);
    }
  });
});

describe('updates that must work', () => {
  it('warm verification with nothing changed makes exactly one request: timestamp.json', async () => {
    const w = await world({ setup: (r) => void r.addDelegation('targets/releases') });
    await w.client.refresh();
    w.server.requests.length = 0;
    const repo = await w.client.refresh();
    expect(w.server.requests).toEqual(['timestamp.json']);
    expect(resolveTag(repo, 'latest')?.digest).toBe(`sha256:${DIGEST}`);
  });

  it('cold verification fetches root, timestamp, then by checksum', async () => {
    const w = await world();
    await w.client.refresh();
    expect(w.server.requests[0]).toBe('root.json');
    expect(w.server.requests[1]).toBe('timestamp.json');
    expect(w.server.requests[2]).toMatch(/^snapshot\.[0-9a-f]{64}\.json$/);
    expect(w.server.requests[3]).toMatch(/^targets\.[0-9a-f]{64}\.json$/);
    expect(w.client.warnings.some((m) => m.includes('TOFU'))).toBe(true);
  });

  it('a write refresh fetches root.json first; a cold write does not fetch it twice', async () => {
    const w = await world();
    await w.client.refresh({ forWrite: true });
    expect(w.server.requests.filter((f) => f === 'root.json')).toHaveLength(1);
    w.server.requests.length = 0;
    await w.client.refresh({ forWrite: true });
    expect(w.server.requests).toEqual(['root.json', 'timestamp.json']);
  });

  it('walks a root rotation chain v1 → v3 through 2.root.json', async () => {
    const w = await world();
    await w.client.refresh();
    await w.repo.rotateRoot();
    await w.repo.rotateRoot();
    w.server.requests.length = 0;
    const repo = await w.client.refresh({ tofu: false });
    expect(repo.root.signed.version).toBe(3);
    expect(w.server.requests).toContain('2.root.json');
    // and the new root is now the cached one: the next run is one request again
    w.server.requests.length = 0;
    await w.client.refresh({ tofu: false });
    expect(w.server.requests).toEqual(['timestamp.json']);
  });

  it('accepts an expired intermediate root in the chain, but not an expired final root', async () => {
    const w = await world();
    await w.client.refresh();
    w.repo.expires.root = new Date(Date.now() - DAY);
    await w.repo.rotateRoot(); // v2, expired
    delete w.repo.expires.root;
    await w.repo.rotateRoot(); // v3, fine
    expect((await w.client.refresh()).root.signed.version).toBe(3);

    const w2 = await world();
    await w2.client.refresh();
    w2.repo.expires.root = new Date(Date.now() - DAY);
    await w2.repo.rotateRoot();
    expect(await codeOf(w2.client.refresh())).toBe('EXPIRED');
  });

  it('cuts a body that trickles forever with the request timeout (TIMEOUT)', async () => {
    const w = await world();
    w.server.override('timestamp.json', (_q, res) => {
      res.writeHead(200);
      const t = setInterval(() => (res.destroyed ? clearInterval(t) : res.write(' ')), 20);
      res.on('close', () => clearInterval(t));
    });
    const { NotaryRemote } = await import('../../src/remote/index.js');
    const { Updater, PinStore } = await import('../../src/updater/index.js');
    const remote = new NotaryRemote({ serverUrl: w.server.url, retries: 0, timeoutMs: 300 });
    cleanup.push(() => remote.close());
    const u = new Updater({
      gun: GUN,
      remote,
      trustDir: w.client.trustDir,
      pins: new PinStore(w.client.trustDir),
      tofu: true,
    });
    expect(await codeOf(u.refresh())).toBe('TIMEOUT');
  });

  it('offline mode verifies the unexpired cache without any request', async () => {
    const w = await world();
    await w.client.refresh();
    w.server.requests.length = 0;
    const repo = await w.client.refresh({ offline: true });
    expect(w.server.requests).toEqual([]);
    expect(resolveTag(repo, 'latest')).not.toBeNull();
    expect(await codeOf(w.client.refresh({ offline: true, now: new Date(Date.now() + 15 * DAY) }))).toBe('EXPIRED');
  });

  it('falls back to the cached timestamp when the server is down, until it expires', async () => {
    const w = await world();
    await w.client.refresh();
    await w.server.close();
    const repo = await w.client.refresh();
    expect(repo.timestamp.signed.version).toBe(w.repo.versions.timestamp);
    expect(w.client.warnings.some((m) => m.includes('cached copy'))).toBe(true);
  });

  it('skips an expired delegation with a warning, like notary', async () => {
    const w = await world({
      setup: (r) => {
        r.addDelegation('targets/releases');
        r.expires['targets/releases'] = new Date(Date.now() - DAY);
        r.setTarget('rel', DIGEST, 5, 'targets/releases');
      },
    });
    const repo = await w.client.refresh();
    expect(repo.delegations.has('targets/releases')).toBe(false);
    expect(resolveTag(repo, 'rel')).toBeNull();
    expect(w.client.warnings.some((m) => m.includes('targets/releases'))).toBe(true);
  });

  it('warns when targets expire within six months', async () => {
    const w = await world();
    w.repo.expires.targets = new Date(Date.now() + 30 * DAY);
    await w.repo.publish(['targets']);
    await w.client.refresh();
    expect(w.client.warnings.some((m) => m.includes('targets of') && m.includes('expires'))).toBe(true);
  });

  it('reports REPOSITORY_NOT_FOUND when the server has no root.json', async () => {
    const w = await world();
    w.server.override('root.json', (_q, res) => {
      res.writeHead(404);
      res.end(
        '{"errors":[{"code":"METADATA_NOT_FOUND","message":"You have requested metadata that does not exist."}]}',
      );
    });
    expect(await codeOf(w.client.refresh())).toBe('REPOSITORY_NOT_FOUND');
  });
});
