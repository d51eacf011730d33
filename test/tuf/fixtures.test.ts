import crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  checkFileMeta,
  delegationRoleKeys,
  parseMetadata,
  parseRoot,
  parseSnapshot,
  parseTargets,
  parseTimestamp,
  publicKeyFromJson,
  rootRoleKeys,
  serializeEnvelope,
  verifyRole,
  type KeyJson,
  type TargetsSigned,
} from '../../src/tuf/index.js';
import { keyFiles, vector } from './helpers.js';

const captures = {
  notary: {
    files: {
      root: 'root.json',
      '1.root': '1.root.json',
      '2.root': '2.root.json',
      targets: 'targets.json',
      'targets.hash': 'targets.30af31d03eee046ce638c302d175f3566eeb9033cadecdd9c9dc66e696ba7d8a.json',
      'targets/releases': 'targets/releases.json',
      snapshot: 'snapshot.json',
      timestamp: 'timestamp.json',
    },
    delegations: ['targets/releases'],
  },
  docker: {
    files: {
      root: 'root.json',
      targets: 'targets.json',
      'targets/releases': 'targets/releases.json',
      'targets/alice': 'targets/alice.json',
      'targets/bob': 'targets/bob.json',
      snapshot: 'snapshot.json',
      timestamp: 'timestamp.json',
    },
    delegations: ['targets/releases', 'targets/alice', 'targets/bob'],
  },
} as const;

function roleOf(name: string): string {
  if (name.endsWith('root')) return 'root';
  if (name === 'targets.hash') return 'targets';
  return name;
}

for (const [capture, spec] of Object.entries(captures) as [
  keyof typeof captures,
  (typeof captures)[keyof typeof captures],
][]) {
  describe(`${capture} capture`, () => {
    for (const [name, file] of Object.entries(spec.files)) {
      it(`parses ${file} and re-serialises it byte for byte`, () => {
        const bytes = vector(capture, file);
        const md = parseMetadata(roleOf(name), bytes);
        expect(serializeEnvelope(md.signed, md.signatures).equals(bytes)).toBe(true);
        expect(md.bytes.equals(bytes)).toBe(true);
      });
    }

    it('verifies root with the x509 keys of its own root role', () => {
      const root = parseRoot(vector(capture, 'root.json'));
      const set = rootRoleKeys(root.signed, 'root');
      expect(Object.values(set.keys).every((k) => k.keytype === 'ecdsa-x509')).toBe(true);
      verifyRole(root, set);
    });

    it("the root key's canonical ID names the root private key file", () => {
      const root = parseRoot(vector(capture, 'root.json'));
      const set = rootRoleKeys(root.signed, 'root');
      const files = keyFiles(capture);
      for (const k of Object.values(set.keys)) {
        expect(k.canonicalId).not.toBe(k.id);
        expect(files).toContain(`root-${k.canonicalId}.key`);
      }
    });

    it("verifies targets, snapshot and timestamp with root's role keys", () => {
      const root = parseRoot(vector(capture, 'root.json'));
      verifyRole(parseTargets('targets', vector(capture, 'targets.json')), rootRoleKeys(root.signed, 'targets'));
      verifyRole(parseSnapshot(vector(capture, 'snapshot.json')), rootRoleKeys(root.signed, 'snapshot'));
      verifyRole(parseTimestamp(vector(capture, 'timestamp.json')), rootRoleKeys(root.signed, 'timestamp'));
    });

    for (const role of spec.delegations) {
      it(`verifies ${role} with the delegation keys listed in targets`, () => {
        const targets = parseTargets('targets', vector(capture, 'targets.json'));
        const md = parseTargets(role, vector(capture, `${role}.json`));
        verifyRole(md, delegationRoleKeys(targets.signed as TargetsSigned, role));
      });
    }

    it('snapshot meta matches the root, targets and delegation files; timestamp matches snapshot', () => {
      const snap = parseSnapshot(vector(capture, 'snapshot.json'));
      const listed = Object.keys(snap.signed.meta).sort();
      expect(listed).toEqual(['root', 'targets', ...spec.delegations].sort());
      for (const role of listed) {
        const fm = snap.signed.meta[role];
        if (fm === undefined) throw new Error('unreachable');
        checkFileMeta(vector(capture, `${role}.json`), fm, role);
      }
      const ts = parseTimestamp(vector(capture, 'timestamp.json'));
      checkFileMeta(vector(capture, 'snapshot.json'), ts.signed.meta.snapshot, 'snapshot');
    });
  });
}

describe('notary capture extras', () => {
  it('targets.<sha256>.json is named by the hex sha256 of its bytes and equals targets.json', () => {
    const hex = '30af31d03eee046ce638c302d175f3566eeb9033cadecdd9c9dc66e696ba7d8a';
    const bytes = vector('notary', `targets.${hex}.json`);
    expect(crypto.createHash('sha256').update(bytes).digest('hex')).toBe(hex);
    expect(bytes.equals(vector('notary', 'targets.json'))).toBe(true);
  });

  it('root v1 and v2 verify with their own root role and v2 with v1 root keys (rotation)', () => {
    const v1 = parseRoot(vector('notary', '1.root.json'));
    const v2 = parseRoot(vector('notary', '2.root.json'));
    verifyRole(v1, rootRoleKeys(v1.signed, 'root'));
    verifyRole(v2, rootRoleKeys(v2.signed, 'root'));
    verifyRole(v2, rootRoleKeys(v1.signed, 'root'));
    expect(v2.signed.version).toBe(v1.signed.version + 1);
  });

  for (const role of ['timestamp', 'snapshot'] as const) {
    it(`${role}.key gives the key ID root lists for ${role}`, () => {
      const json = JSON.parse(vector('notary', `${role}.key`).toString('utf8')) as KeyJson;
      const pk = publicKeyFromJson(json);
      const root = parseRoot(vector('notary', 'root.json'));
      expect(root.signed.roles[role]?.keyids).toEqual([pk.id]);
      expect(pk.canonicalId).toBe(pk.id);
    });
  }
});
