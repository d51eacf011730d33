/**
 * Key rotation (N:client/client.go): root (local), targets (local),
 * snapshot (local or server), timestamp (server only). The new root lists the new key and is
 * published at once; a root rotation is signed by the old and the new root keys.
 */
import { SignetError } from '../errors.js';
import { generatePrivateKey } from '../keys/index.js';
import { certificatePublicKey, createRootCertificate, publicKeyToJson, type PublicKey } from '../tuf/index.js';
import type { RootRoleChange } from './change.js';
import type { PublishReport, Repository } from './repository.js';

export type RotatableRole = 'root' | 'targets' | 'snapshot' | 'timestamp';

export interface RotateResult extends PublishReport {
  role: RotatableRole;
  serverManaged: boolean;
  /** TUF key ID listed in root */
  keyId: string;
  /** canonical ID (the private key file name, for local keys) */
  canonicalId: string;
}

/**
 * `opts.keyId`: use this key of the trust dir's key store (e.g. a PKCS#11 token key recorded there)
 * as the new root or targets key instead of generating one.
 */
export async function rotateKey(
  repo: Repository,
  role: string,
  opts: { serverManaged?: boolean; now?: Date; keyId?: string } = {},
): Promise<RotateResult> {
  if (role !== 'root' && role !== 'targets' && role !== 'snapshot' && role !== 'timestamp') {
    throw new SignetError('USAGE', `cannot rotate ${role}: only root, targets, snapshot and timestamp keys rotate`, {
      fix: 'delegation (signer) keys are replaced with `signet signer remove` and `signet signer add`',
    });
  }
  const serverManaged = opts.serverManaged ?? role === 'timestamp';
  if (role === 'timestamp' && !serverManaged)
    throw new SignetError('USAGE', 'the timestamp key is always held by the server');
  if ((role === 'root' || role === 'targets') && serverManaged) {
    throw new SignetError('USAGE', `the ${role} key cannot be held by the server`, {
      fix: 'rotate it without --server-managed',
    });
  }
  if (opts.keyId !== undefined && role !== 'root' && role !== 'targets')
    throw new SignetError('USAGE', `an existing key can become the new root or targets key, not the ${role} key`, {
      fix: `rotate ${role} without --key`,
    });
  // must exist on the server: RotateKey publishes immediately
  const before = await repo.read({ forWrite: true });

  let pub: PublicKey;
  if (serverManaged) {
    pub = await repo.remote.rotateServerKey(repo.gun, role as 'snapshot' | 'timestamp');
  } else if (opts.keyId !== undefined) {
    const bare = await repo.keyStore.publicKey(opts.keyId);
    pub =
      role === 'root'
        ? certificatePublicKey(
            await createRootCertificate(repo.gun, await repo.keyStore.signer(opts.keyId, bare), opts.now ?? new Date()),
          )
        : bare;
  } else if (role === 'root') {
    const key = generatePrivateKey('ecdsa');
    const cert = await createRootCertificate(repo.gun, key.keyObject, opts.now ?? new Date());
    pub = certificatePublicKey(cert);
    await repo.keyStore.add(key, { role: 'root' });
  } else {
    const key = generatePrivateKey('ecdsa');
    pub = key.publicKey;
    await repo.keyStore.add(key, { role, gun: repo.gun });
  }
  const change: RootRoleChange = {
    type: 'role',
    action: 'create',
    role: 'root',
    path: role,
    baseRole: role,
    keys: [publicKeyToJson(pub)],
  };
  const res = await repo.publish({ extra: [change], includeStaged: false });
  // keep the pin valid for both the old and the new root certificate
  if (role === 'root') await repo.pinRoot([...(before.root.signed.roles.root?.keyids ?? []), pub.id]);
  return { ...res, role, serverManaged, keyId: pub.id, canonicalId: pub.canonicalId };
}
