// Keys on a PKCS#11 token (SoftHSM2, made by the test) in the client: a root generated on the token
// signs `init`, a delegation key imported onto the token signs `sign` after `signer add`, a second
// token root takes over with `key rotate`; the real notary client and `signet verify` accept the
// result, and no private key of those roles is left in the trust dir or the test's files.
import crypto from 'node:crypto';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { notaryCli } from '../harness/notary-cli.js';
import { pushImages, type PushedImage } from '../harness/push-image.js';
import { createSoftHsmToken, type SoftHsmToken } from '../harness/softhsm.js';
import { signetCli, type SignetCli } from '../cli/signet.js';
import { startClientPeers, type ClientPeers } from '../client/servers.js';

const hex = (d: string): string => d.replace(/^sha256:/, '');

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(p)));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

describe('PKCS#11 token keys in the client (SoftHSM2, notary-server)', () => {
  let peers: ClientPeers | undefined;
  let token: SoftHsmToken;
  let work: string;
  let gun: string;
  let images: PushedImage[];
  let signet: SignetCli;
  let rootId: string;
  let aliceId: string;
  let aliceScalar: Buffer;
  const rootUri = (): string => `pkcs11:token=${token.label};object=root1`;
  const aliceUri = (): string => `pkcs11:token=${token.label};object=alice`;

  beforeAll(async () => {
    peers = await startClientPeers('notary-server', 'signet-pkcs11-');
    work = path.join(peers.dir, 'work');
    await mkdir(work, { recursive: true });
    token = await createSoftHsmToken(work, 'signet-hsm');
    gun = `${peers.registry.host}/hsm/app`;
    images = await pushImages(peers.registry.host, 'hsm/app', ['1.0', '2.0']);
    signet = signetCli({
      server: peers.server.url,
      caFile: peers.server.caFile,
      trustDir: path.join(work, 'trust'),
      env: { ...token.env(), SIGNET_PKCS11_MODULE: token.module, SIGNET_PKCS11_PIN_FILE: token.pinFile },
    });
  });

  afterAll(async () => {
    await peers?.stop();
  });

  const notary = (): ReturnType<typeof notaryCli> =>
    // a fresh notary trust dir: it trusts the published root on first use and checks every signature
    notaryCli({
      server: peers!.server.url,
      caFile: peers!.server.caFile,
      trustDir: path.join(work, `notary-${Date.now()}`),
    });

  it('generates a root key on the token and uses it in init', async () => {
    const gen = JSON.parse(
      (await signet.ok(['key', 'generate', '--pkcs11', rootUri(), '--role', 'root', '--json'])).stdout,
    ) as { id: string; role: string; uri: string };
    expect(gen.role).toBe('root');
    expect(gen.uri).toMatch(/^pkcs11:token=signet-hsm;object=root1;id=/);
    rootId = gen.id;

    const init = JSON.parse((await signet.ok(['init', gun, '--root-key', rootUri(), '--json'])).stdout) as {
      rootKeyId: string;
      published: string[];
    };
    expect(init.rootKeyId).toBe(rootId);
    expect(init.published).toContain('root');
    const list = await notary().run(['list', gun]);
    expect(list.code, `${list.stdout}\n${list.stderr}`).toBe(0);
  });

  it('imports a delegation key onto the token; signer add and sign use it', async () => {
    const { privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    aliceScalar = Buffer.from(privateKey.export({ format: 'jwk' }).d ?? '', 'base64url');
    const keyFile = path.join(work, 'alice.pem');
    await writeFile(keyFile, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
    const imp = JSON.parse(
      (await signet.ok(['key', 'import', keyFile, '--to-pkcs11', aliceUri(), '--role', 'alice', '--json'])).stdout,
    ) as { id: string; role: string }[];
    expect(imp[0]?.role).toBe('alice');
    aliceId = imp[0]!.id;
    await rm(keyFile); // the user's own copy; signet keeps none

    const onToken = JSON.parse(
      (await signet.ok(['key', 'list', '--pkcs11', `pkcs11:token=${token.label}`, '--json'])).stdout,
    ) as { id: string; label: string; role?: string }[];
    expect(onToken.map((k) => [k.label, k.role, k.id])).toEqual([
      ['alice', 'alice', aliceId],
      ['root1', 'root', rootId],
    ]);

    await signet.ok(['signer', 'add', 'alice', gun, '--key', aliceUri()]);
    await signet.ok(['sign', `${gun}:1.0`]);
    const digest = hex(images.find((i) => i.tag === '1.0')!.digest);

    const n = notary();
    const list = await n.run(['list', gun, '--roles', 'targets/releases']);
    expect(list.code, `${list.stdout}\n${list.stderr}`).toBe(0);
    expect(list.stdout).toContain(digest);
    const lookup = await n.run(['lookup', gun, '1.0']);
    expect(lookup.code, lookup.stderr).toBe(0);
    expect(lookup.stdout).toContain(digest);
    const verified = await signet.ok(['verify', `${gun}:1.0`, '--json']);
    expect(verified.stdout).toContain(digest);
    const insp = JSON.parse((await signet.ok(['inspect', gun])).stdout) as {
      Signers: { Name: string; Keys: { ID: string }[] }[];
    }[];
    expect(insp[0]!.Signers).toEqual([{ Name: 'alice', Keys: [{ ID: aliceId }] }]);
  });

  it('leaves no private key of the token roles in the trust dir or the test files', async () => {
    const files = (await walk(work)).filter((f) => !f.startsWith(token.tokenDir));
    expect(files.length).toBeGreaterThan(3);
    for (const f of files) {
      const base = path.basename(f);
      for (const id of [rootId, aliceId]) expect(base.endsWith('.key') && base.includes(id), f).toBe(false);
      const bytes = await readFile(f);
      // the only private keys left are init's targets key (and the server's own, not in these folders)
      for (const m of bytes.toString('latin1').matchAll(/-----BEGIN ([A-Z ]*PRIVATE KEY)-----\n([\s\S]*?)-----END/g)) {
        expect(m[2], f).toMatch(/^role: targets$/m);
        expect(path.basename(f), f).toMatch(/\.key$/);
      }
      expect(bytes.includes(aliceScalar), f).toBe(false);
      expect(bytes.includes(aliceScalar.toString('base64')), f).toBe(false);
      expect(bytes.includes(aliceScalar.toString('hex')), f).toBe(false);
    }
    // the token's own store holds the scalar only encrypted under the PIN
    for (const f of await walk(token.tokenDir)) expect((await readFile(f)).includes(aliceScalar), f).toBe(false);
    // the reference files name the key, never the PIN
    for (const f of await walk(path.join(signet.trustDir, 'pkcs11'))) {
      expect((await stat(f)).mode & 0o077).toBe(0);
      expect(await readFile(f, 'utf8')).not.toContain(token.pin);
    }
  });

  it('rotates the root to a second token key', async () => {
    const gen = JSON.parse(
      (
        await signet.ok([
          'key',
          'generate',
          '--pkcs11',
          `pkcs11:token=${token.label};object=root2`,
          '--role',
          'root',
          '--json',
        ])
      ).stdout,
    ) as { id: string };
    const rot = JSON.parse(
      (await signet.ok(['key', 'rotate', gun, 'root', '--key', `pkcs11:token=${token.label};object=root2`, '--json']))
        .stdout,
    ) as { canonicalId: string; published: string[] };
    expect(rot.canonicalId).toBe(gen.id);
    expect(rot.published).toContain('root');
    await signet.ok(['sign', `${gun}:2.0`]);
    const n = notary();
    const lookup = await n.run(['lookup', gun, '2.0']);
    expect(lookup.code, `${lookup.stdout}\n${lookup.stderr}`).toBe(0);
    expect(lookup.stdout).toContain(hex(images.find((i) => i.tag === '2.0')!.digest));
    await signet.ok(['verify', `${gun}:2.0`]);
    const keys = JSON.parse((await signet.ok(['key', 'list', '--json'])).stdout) as { id: string; pkcs11?: string }[];
    expect(keys.find((k) => k.id === gen.id)?.pkcs11).toMatch(/object=root2/);
  });

  it('rotates the targets key to a token key generated for this repository', async () => {
    const targetsUri = `pkcs11:token=${token.label};object=targets1`;
    const gen = JSON.parse(
      (await signet.ok(['key', 'generate', '--pkcs11', targetsUri, '--role', 'targets', '--gun', gun, '--json']))
        .stdout,
    ) as { id: string; gun: string };
    expect(gen.gun).toBe(gun);
    const rot = JSON.parse(
      (await signet.ok(['key', 'rotate', gun, 'targets', '--key', targetsUri, '--json'])).stdout,
    ) as {
      keyId: string;
    };
    expect(rot.keyId).toBe(gen.id);
    // targets is re-signed on the token; the notary client accepts it
    const list = await notary().run(['list', gun]);
    expect(list.code, `${list.stdout}\n${list.stderr}`).toBe(0);
    await signet.ok(['verify', `${gun}:1.0`]);
  });

  it('fails with a clear error and a non-zero exit: wrong PIN, missing module, unknown object', async () => {
    const badPin = path.join(work, 'bad.pin');
    await writeFile(badPin, '0000-wrong\n', { mode: 0o600 });
    const gun2 = `${peers!.registry.host}/hsm/other`;
    const wrong = await signet.run(['init', gun2, '--root-key', rootUri()], {
      env: { SIGNET_PKCS11_PIN_FILE: badPin },
    });
    expect(wrong.code).toBe(7);
    expect(wrong.stderr).toMatch(/wrong PIN for the PKCS#11 token signet-hsm/);
    expect(wrong.stderr).toMatch(/fix: .*--pkcs11-pin-file/);
    expect(wrong.stderr).not.toContain(token.pin);

    const noModule = await signet.run(['sign', `${gun}:1.0`], {
      env: { SIGNET_PKCS11_MODULE: path.join(work, 'missing.so') },
    });
    expect(noModule.code).toBe(1);
    expect(noModule.stderr).toMatch(/cannot load the PKCS#11 module .*missing\.so/);
    expect(noModule.stderr).toMatch(/fix: .*--pkcs11-module/);

    const unknown = await signet.run(['init', gun2, '--root-key', `pkcs11:token=${token.label};object=nope`]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/no private key "nope" on token signet-hsm/);
    expect(unknown.stderr).toMatch(
      /fix: list the token's keys with `signet .*key list --pkcs11 'pkcs11:token=signet-hsm'`/,
    );

    const unset = await signet.run(['key', 'list', '--pkcs11', `pkcs11:token=${token.label}`], {
      env: { SIGNET_PKCS11_MODULE: '' },
    });
    expect(unset.code).toBe(1);
    expect(unset.stderr).toMatch(/no PKCS#11 module given/);
    // nothing was half-written for the repository that failed
    expect((await notary().run(['list', gun2])).code).not.toBe(0);
  });
});
