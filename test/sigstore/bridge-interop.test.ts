/**
 * Real verifiers: images in a real docker-registry 2.8, tags signed with `signet sign` on Signet's
 * own trust server, bridged with `signet bridge`. Then:
 *  - skopeo 1.9 and podman 4.3 (policy.json `sigstoreSigned` with the bridge's public key,
 *    registries.d `use-sigstore-attachments: true`) accept the bridged tags and refuse an unbridged one;
 *  - a signature written by `skopeo copy --sign-by-sigstore-private-key` (with a key made by
 *    `signet bridge generate-key`) passes `signet verify --sigstore-key`;
 *  - a revoked tag loses its signature on the next run, and a run with nothing to do writes nothing.
 */
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient, RegistryWriter, parseImageReference } from '../../src/registry/index.js';
import {
  buildPayload,
  decryptCosignKey,
  newSignatureLayer,
  readSignatureManifest,
  signPayload,
  writeSignatureManifest,
} from '../../src/sigstore/index.js';
import type { SignetCli } from '../cli/signet.js';
import type { ClientPeers } from '../client/servers.js';
import { run } from '../harness/proc.js';
import type { PushedImage } from '../harness/push-image.js';
import { cosignFixture } from './fixture.js';
import {
  DEBIAN_DISABLED,
  PASSWORD,
  cosignEnv,
  listSigTags,
  runBridge,
  runPodmanPull,
  runSkopeo,
  setupBridge,
  sigTag,
  type BridgeEnv,
  type Report,
} from './bridge-setup.js';

describe('signet bridge against skopeo and podman', () => {
  let env: BridgeEnv | undefined;
  let peers: ClientPeers | undefined;
  let dir: string;
  let host: string;
  let gun: string;
  let signet: SignetCli;
  let img: Record<'v1' | 'v2' | 'old' | 'unsigned', PushedImage>;
  let keyPrefix: string;
  let acceptAll: string;

  beforeAll(async () => {
    env = await setupBridge();
    ({ peers, dir, host, gun, signet, img, keyPrefix, acceptAll } = env);
  }, 240_000);

  afterAll(async () => {
    await peers?.stop();
  });

  const bridge = (extra?: string[]): Promise<Report> => runBridge(env!, extra);
  const sigTags = (): Promise<string[]> => listSigTags(env!);
  const skopeo = (args: string[], policyFile?: string) => runSkopeo(env!, args, policyFile);
  const podmanPull = (ref: string) => runPodmanPull(env!, ref);

  it('generate-key writes an encrypted sigstore private key (0600) and a PKIX public key', async () => {
    const key = await readFile(`${keyPrefix}.key`, 'utf8');
    expect(key).toMatch(/^-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n/);
    expect((await stat(`${keyPrefix}.key`)).mode & 0o777).toBe(0o600);
    expect(await readFile(`${keyPrefix}.pub`, 'utf8')).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
  });

  it('--dry-run reports the three signed digests and writes nothing', async () => {
    const r = await bridge(['--dry-run']);
    expect(r.written.map((w) => w.digest).sort()).toEqual([img.v1.digest, img.v2.digest, img.old.digest].sort());
    expect(r.referrers).toBe('unsupported');
    expect(await sigTags()).toEqual([]);
  });

  it('writes one sha256-<hex>.sig per signed digest; docker-registry 2.8 has no referrers API', async () => {
    const r = await bridge();
    expect(r.written.map((w) => w.digest).sort()).toEqual([img.v1.digest, img.v2.digest, img.old.digest].sort());
    expect(r.failed).toEqual([]);
    expect(r.referrers).toBe('unsupported');
    expect(await sigTags()).toEqual([sigTag(img.v1), sigTag(img.v2), sigTag(img.old)].sort());
  });

  it('skopeo (containers/image) reads the bridged signature from the .sig tag; openssl verifies it', async () => {
    const out = path.join(dir, 'out', 'read-v1');
    const r = await skopeo(['copy', '--src-tls-verify=false', `docker://${gun}:v1`, `dir:${out}`], acceptAll);
    expect(r.code, r.stderr).toBe(0);
    // containers/image stores a sigstore signature in dir: as "\0sigstore-json\n" + {mimeType, payload, annotations}
    const raw = await readFile(path.join(out, 'signature-1'));
    const marker = Buffer.from('\0sigstore-json\n');
    expect(raw.subarray(0, marker.length).equals(marker)).toBe(true);
    const sig = JSON.parse(raw.subarray(marker.length).toString('utf8')) as {
      mimeType: string;
      payload: string;
      annotations: Record<string, string>;
    };
    expect(sig.mimeType).toBe('application/vnd.dev.cosign.simplesigning.v1+json');
    const payload = Buffer.from(sig.payload, 'base64');
    const doc = JSON.parse(payload.toString('utf8')) as { critical: Record<string, Record<string, string>> };
    expect(doc.critical['image']?.['docker-manifest-digest']).toBe(img.v1.digest);
    expect(doc.critical['identity']?.['docker-reference']).toBe(gun);
    await writeFile(path.join(out, 'payload'), payload);
    await writeFile(
      path.join(out, 'sig.der'),
      Buffer.from(sig.annotations['dev.cosignproject.cosign/signature'] ?? '', 'base64'),
    );
    const v = await run('/usr/bin/openssl', [
      'dgst',
      '-sha256',
      '-verify',
      `${keyPrefix}.pub`,
      '-signature',
      path.join(out, 'sig.der'),
      path.join(out, 'payload'),
    ]);
    expect(v.stdout.trim(), v.stderr).toBe('Verified OK');
    // the unbridged tag has no signature to read
    const u = path.join(dir, 'out', 'read-unsigned');
    expect(
      (await skopeo(['copy', '--src-tls-verify=false', `docker://${gun}:unsigned`, `dir:${u}`], acceptAll)).code,
    ).toBe(0);
    await expect(stat(path.join(u, 'signature-1'))).rejects.toThrow();
  });

  it('skopeo and podman with a sigstoreSigned policy: accept bridged, refuse unbridged (where the build verifies sigstore)', async () => {
    const first = await skopeo([
      'copy',
      '--src-tls-verify=false',
      `docker://${gun}:v1`,
      `dir:${path.join(dir, 'out', 'p-v1')}`,
    ]);
    if (DEBIAN_DISABLED.test(first.stderr)) {
      // Debian 12's skopeo 1.9.3 / podman 4.3.1 are built with sigstore disabled: every image is refused,
      // bridged or not. Pin that fact so a sigstore-capable build on this machine turns this branch off.
      console.warn(
        'skopeo/podman here are built without sigstore ("Debian-local change: sigstore disabled"); acceptance not shown',
      );
      expect(first.code).not.toBe(0);
      const pod = await podmanPull(`${gun}:v1`);
      expect(pod.code).not.toBe(0);
      expect(pod.stderr).toMatch(DEBIAN_DISABLED);
      return;
    }
    expect(first.code, first.stderr).toBe(0);
    const v2 = await skopeo([
      'copy',
      '--src-tls-verify=false',
      `docker://${gun}:v2`,
      `dir:${path.join(dir, 'out', 'p-v2')}`,
    ]);
    expect(v2.code, v2.stderr).toBe(0);
    const refused = await skopeo([
      'copy',
      '--src-tls-verify=false',
      `docker://${gun}:unsigned`,
      `dir:${path.join(dir, 'out', 'p-u')}`,
    ]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/signature/i);
    const ok = await podmanPull(`${gun}:v1`);
    expect(ok.code, ok.stderr).toBe(0);
    const podRefused = await podmanPull(`${gun}:unsigned`);
    expect(podRefused.code).not.toBe(0);
    expect(podRefused.stderr).toMatch(/signature/i);
  });

  it('signet verify --sigstore-key accepts a bridged tag and refuses the unbridged one', async () => {
    const ok = await signet.run(['verify', '--sigstore-key', `${keyPrefix}.pub`, `${gun}:v1`]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout.trim()).toBe(img.v1.digest);
    const refused = await signet.run(['verify', '--sigstore-key', `${keyPrefix}.pub`, '--json', `${gun}:unsigned`]);
    expect(refused.code).toBe(3);
    expect(JSON.parse(refused.stderr).error.code).toBe('NOT_SIGNED');
  });

  it('signatures made by others: skopeo --sign-by-sigstore-private-key (where the build signs) and a genuine cosign artifact', async () => {
    const skopeoKey = path.join(dir, 'keys', 'skopeo');
    await signet.ok(['bridge', 'generate-key', '--output-key-prefix', skopeoKey], { env: cosignEnv });
    const passFile = path.join(dir, 'keys', 'skopeo.pass');
    await writeFile(passFile, PASSWORD, { mode: 0o600 });
    const dest = `${host}/skopeo/app:v1`;
    const r = await skopeo(
      [
        'copy',
        '--src-tls-verify=false',
        '--dest-tls-verify=false',
        '--sign-by-sigstore-private-key',
        `${skopeoKey}.key`,
        '--sign-passphrase-file',
        passFile,
        `docker://${gun}:v1`,
        `docker://${dest}`,
      ],
      acceptAll,
    );
    if (DEBIAN_DISABLED.test(r.stderr)) {
      console.warn('skopeo here cannot sign with sigstore ("Debian-local change: sigstore disabled")');
      expect(r.code).not.toBe(0);
    } else {
      expect(r.code, r.stderr).toBe(0);
      const ok = await signet.run(['verify', '--sigstore-key', `${skopeoKey}.pub`, '--json', dest]);
      expect(ok.code, ok.stderr).toBe(0);
      const v = JSON.parse(ok.stdout) as { digest: string; signatures: number; dockerReferences: string[] };
      expect(v.digest).toBe(img.v1.digest);
      expect(v.signatures).toBe(1);
      expect((await signet.run(['verify', '--sigstore-key', `${keyPrefix}.pub`, dest])).code).toBe(3);
    }

    // A signature manifest written by cosign v3.0.4 (test/fixtures/sigstore), stored byte for byte in the
    // registry: signet reads it, the signature verifies, and the identity rule holds: it names
    // localhost:15381/tobby/fixture, so under this registry's name it is refused as moved.
    const fx = await cosignFixture();
    const ref = parseImageReference(`${host}/tobby/fixture`);
    const writer = new RegistryWriter();
    try {
      await writer.putBlob(ref, fx.payload);
      await writer.putBlob(ref, fx.config);
      await writer.putManifest(
        ref,
        `${fx.subject.replace(':', '-')}.sig`,
        'application/vnd.oci.image.manifest.v1+json',
        fx.manifest,
      );
    } finally {
      await writer.close();
    }
    const moved = await signet.run([
      'verify',
      '--sigstore-key',
      fx.pubFile,
      '--json',
      `${host}/tobby/fixture@${fx.subject}`,
    ]);
    expect(moved.code, moved.stderr).toBe(4);
    const err = JSON.parse(moved.stderr) as { error: { code: string; message: string } };
    expect(err.error.code).toBe('BAD_SIGNATURE');
    expect(err.error.message).toMatch(/other-repository: localhost:15381\/tobby\/fixture/);
    const wrongKey = await signet.run([
      'verify',
      '--sigstore-key',
      `${keyPrefix}.pub`,
      `${host}/tobby/fixture@${fx.subject}`,
    ]);
    expect(wrongKey.code).toBe(3);
  });

  it('a second run writes nothing', async () => {
    const r = await bridge();
    expect(r.written).toEqual([]);
    expect(r.removed).toEqual([]);
    expect(r.current).toHaveLength(3);
  });

  it("a revoked tag loses its signature; another signer's layer in the same manifest is kept", async () => {
    // a second signer's layer on old's signature manifest, beside the bridge's
    const other = path.join(dir, 'keys', 'other');
    await signet.ok(['bridge', 'generate-key', '--output-key-prefix', other], { env: cosignEnv });
    const otherKey = await decryptCosignKey(await readFile(`${other}.key`, 'utf8'), PASSWORD, 'other.key');
    const ref = parseImageReference(gun);
    const client = new RegistryClient({ retries: 0 });
    const writer = new RegistryWriter();
    try {
      const existing = await readSignatureManifest(client, writer, ref, img.old.digest);
      expect(existing?.layers).toHaveLength(1);
      const payload = buildPayload(ref.name, img.old.digest, { creator: 'another signer' });
      const layers = [...(existing?.layers ?? []), newSignatureLayer(payload, signPayload(otherKey, payload))];
      await writeSignatureManifest(writer, ref, img.old.digest, layers);
    } finally {
      await client.close();
      await writer.close();
    }
    const oldRef = `${gun}@${img.old.digest}`;
    expect((await signet.run(['verify', '--sigstore-key', `${other}.pub`, oldRef])).code).toBe(0);
    expect((await signet.run(['verify', '--sigstore-key', `${keyPrefix}.pub`, oldRef])).code).toBe(0);

    await signet.ok(['revoke', `${gun}:old`]);
    const dry = await bridge(['--dry-run']);
    expect(dry.removed).toEqual([{ digest: img.old.digest, signatureTag: sigTag(img.old), deleted: false }]);
    expect((await signet.run(['verify', '--sigstore-key', `${keyPrefix}.pub`, oldRef])).code).toBe(0);
    const r = await bridge();
    expect(r.written).toEqual([]);
    expect(r.removed).toEqual([{ digest: img.old.digest, signatureTag: sigTag(img.old), deleted: false }]);
    expect((await signet.run(['verify', '--sigstore-key', `${keyPrefix}.pub`, oldRef])).code).toBe(3);
    expect((await signet.run(['verify', '--sigstore-key', `${other}.pub`, oldRef])).code).toBe(0);
    const again = await bridge();
    expect(again.written).toEqual([]);
    expect(again.removed).toEqual([]);
  });

  it("a revoked tag whose manifest holds only the bridge's signature loses the whole .sig tag", async () => {
    await signet.ok(['revoke', `${gun}:v2`]);
    const r = await bridge();
    expect(r.removed).toEqual([{ digest: img.v2.digest, signatureTag: sigTag(img.v2), deleted: true }]);
    expect(await sigTags()).toEqual([sigTag(img.v1), sigTag(img.old)].sort());
    const refused = await signet.run(['verify', '--sigstore-key', `${keyPrefix}.pub`, `${gun}@${img.v2.digest}`]);
    expect(refused.code).toBe(3);
    const again = await bridge();
    expect(again.written).toEqual([]);
    expect(again.removed).toEqual([]);
    expect(again.current.map((c) => c.digest)).toEqual([img.v1.digest]);
  });
  it('a signed tag whose manifest is gone from the registry is reported, exits non-zero, and keeps its signature', async () => {
    const writer = new RegistryWriter();
    try {
      await writer.deleteManifest(parseImageReference(gun), img.v1.digest);
    } finally {
      await writer.close();
    }
    const r = await signet.run(['bridge', gun, '--key', `${keyPrefix}.key`, '--json'], { env: cosignEnv });
    expect(r.code, r.stderr).toBe(3);
    const report = JSON.parse(r.stdout) as Report & { failed: { tag: string; code: string }[] };
    expect(report.failed).toMatchObject([{ tag: 'v1', code: 'NOT_FOUND' }]);
    expect(report.removed).toEqual([]);
    expect(await sigTags()).toContain(sigTag(img.v1));
  });
});
