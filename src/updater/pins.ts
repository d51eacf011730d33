/**
 * Trust pinning (N:trustpinning/trustpin.go). A pin for a GUN or a GUN prefix
 * (`prefix*`) says which root certificates may anchor trust: explicit certificate key IDs, a CA bundle
 * the root leaf must chain to, or explicit trust-on-first-use. Precedence as notary: certs by exact GUN,
 * then certs by the longest `*` prefix, then the CA with the longest prefix, then TOFU.
 *
 * Unlike Docker (pure TOFU), Signet refuses a first-seen root without a pin unless TOFU is asked for
 * (flag, env or a tofu pin). notary checks a cert pin against every new root, rotations included
 * (N:trustpinning/certs.go ValidateRoot); Signet makes a cert pin the anchor of the root chain instead:
 * a root reached through the chain from a root the pin allows is trusted and the pin follows it
 * (pin-walk.ts). A CA pin is checked against every root, a cached one included.
 *
 * Stored in `<trustDir>/signet/pins.json` (0600, dir 0700):
 *   {"version":1,"pins":{"<gun or prefix*>":{"certs":["<keyid>"…]} | {"caPem":"…"} | {"tofu":true}}}
 */
import crypto from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { SignetError } from '../errors.js';
import { writeFileAtomic } from '../fs/index.js';
import { pemBlocks, type PublicKey } from '../tuf/index.js';

export interface PinEntry {
  /** Root certificate key IDs (TUF ID of the x509 key, or the canonical ID of its public key). */
  certs?: string[];
  /** PEM CA bundle the root leaf certificate must chain to. */
  caPem?: string;
  /** Trust the first root seen (and pin nothing more). */
  tofu?: boolean;
  /** When the pin was written (informational). */
  created?: string;
  /** Set when the pin followed a root rotation: the IDs it named before and the root version reached. */
  followed?: { from: string[]; rootVersion: number };
}

/** A cert pin moved along a verified root rotation (the updater reports it; `signet verify --json`). */
export interface PinFollowed {
  /** The pin that allowed the root the chain started from (a GUN or `prefix*`). */
  pattern: string;
  from: string[];
  /** The certificate key IDs of the root reached. */
  to: string[];
  rootVersion: number;
  /** Whether the pin source stored it (a trust dir's pins.json does; a policy's pins are not rewritten). */
  saved: boolean;
}

export interface PinsFile {
  version: 1;
  pins: Record<string, PinEntry>;
}

/** Where an updater asks how a GUN is pinned: the trust dir's PinStore, or a policy rule's pins. */
export interface PinSource {
  resolve(gun: string): Promise<ResolvedPin>;
  /** Record that `gun`'s pin followed a verified root rotation (absent: the source is read-only). */
  follow?(gun: string, followed: PinFollowed): Promise<void>;
}

/** How a GUN is pinned, after applying the precedence rules. */
export type ResolvedPin =
  | { kind: 'certs'; pattern: string; certs: string[] }
  | { kind: 'ca'; pattern: string; caPem: string }
  | { kind: 'tofu'; pattern: string }
  | { kind: 'none' };

function prefixOf(pattern: string): string {
  return pattern.endsWith('*') ? pattern.replace(/\*+$/, '') : pattern;
}

/** Pure: the pin that applies to `gun` (notary's precedence). */
export function resolvePin(pins: Record<string, PinEntry>, gun: string): ResolvedPin {
  const exact = pins[gun];
  if (exact?.certs !== undefined && exact.certs.length > 0) return { kind: 'certs', pattern: gun, certs: exact.certs };
  let best: { pattern: string; len: number } | undefined;
  for (const [pattern, entry] of Object.entries(pins)) {
    if (!pattern.endsWith('*') || entry.certs === undefined || entry.certs.length === 0) continue;
    const p = prefixOf(pattern);
    if (gun.startsWith(p) && (best === undefined || p.length > best.len)) best = { pattern, len: p.length };
  }
  if (best !== undefined) return { kind: 'certs', pattern: best.pattern, certs: pins[best.pattern]?.certs ?? [] };
  // CA: longest prefix (a pattern with or without the trailing `*`), as notary's `ca` map is prefix-keyed
  let ca: { pattern: string; len: number } | undefined;
  for (const [pattern, entry] of Object.entries(pins)) {
    if (entry.caPem === undefined) continue;
    const p = prefixOf(pattern);
    if (gun.startsWith(p) && (ca === undefined || p.length > ca.len)) ca = { pattern, len: p.length };
  }
  if (ca !== undefined) return { kind: 'ca', pattern: ca.pattern, caPem: pins[ca.pattern]?.caPem ?? '' };
  for (const [pattern, entry] of Object.entries(pins)) {
    if (entry.tofu !== true) continue;
    if (pattern === gun || (pattern.endsWith('*') && gun.startsWith(prefixOf(pattern))))
      return { kind: 'tofu', pattern };
  }
  return { kind: 'none' };
}

/** The exact `signet pin` command that pins these root keys for `gun`. */
export function pinCommand(gun: string, keys: readonly PublicKey[]): string {
  return `signet pin ${gun} ${keys.map((k) => k.id).join(' ')}`;
}

/**
 * Pure: which of a new root's valid leaf-certificate keys the pin allows (N:trustpinning certsCheck /
 * caCheck / tofusCheck). Throws PIN_MISMATCH when a pin exists and nothing matches, and UNTRUSTED_ROOT
 * on a first bootstrap with no pin and no TOFU.
 */
export function applyPin(
  pin: ResolvedPin,
  certKeys: readonly PublicKey[],
  opts: { gun: string; now: Date; firstBootstrap: boolean; tofu: boolean },
): PublicKey[] {
  switch (pin.kind) {
    case 'certs': {
      const allowed = new Set(pin.certs.map((c) => c.toLowerCase()));
      const ok = certKeys.filter((k) => allowed.has(k.id) || allowed.has(k.canonicalId));
      if (ok.length === 0) {
        throw new SignetError(
          'PIN_MISMATCH',
          `the root of ${opts.gun} is signed by certificate key(s) ${certKeys.map((k) => k.id).join(', ')}, but ${pin.pattern} is pinned to ${pin.certs.join(', ')}`,
          {
            fix: `if the repository owner really changed the root key, verify the new key ID out of band and re-pin: ${pinCommand(opts.gun, certKeys)}`,
            details: { gun: opts.gun, pinned: pin.certs, found: certKeys.map((k) => k.id) },
          },
        );
      }
      return ok;
    }
    case 'ca': {
      const ok = certKeys.filter((k) => chainsToCa(k, pin.caPem, opts.now));
      if (ok.length === 0) {
        throw new SignetError(
          'PIN_MISMATCH',
          `no root certificate of ${opts.gun} chains to the CA pinned for ${pin.pattern}`,
          {
            fix: 'the root is not issued by the pinned CA; check the CA bundle (signet pin --list) or the repository',
            details: { gun: opts.gun, found: certKeys.map((k) => k.id) },
          },
        );
      }
      return ok;
    }
    case 'tofu':
      return [...certKeys];
    case 'none':
      if (!opts.firstBootstrap || opts.tofu) return [...certKeys];
      throw new SignetError(
        'UNTRUSTED_ROOT',
        `${opts.gun} has no pinned root and trust on first use is off; its root certificate key ID(s): ${certKeys.map((k) => k.id).join(' ')}`,
        {
          fix: `check these key IDs with the repository owner, then run: ${pinCommand(opts.gun, certKeys)} (or accept blindly with --tofu / SIGNET_TOFU=1)`,
          details: { gun: opts.gun, keyIds: certKeys.map((k) => k.id) },
        },
      );
  }
}

/** Does the leaf of this x509 key (with the bundle's intermediates) chain to a CA in `caPem`? */
function chainsToCa(key: PublicKey, caPem: string, now: Date): boolean {
  let chain: crypto.X509Certificate[];
  let cas: crypto.X509Certificate[];
  try {
    chain = pemBlocks(Buffer.from(key.public, 'base64').toString('utf8')).map(
      (b) => new crypto.X509Certificate(b.bytes),
    );
    cas = pemBlocks(caPem)
      .filter((b) => b.type === 'CERTIFICATE')
      .map((b) => new crypto.X509Certificate(b.bytes))
      .filter((c) => new Date(c.validTo).getTime() >= now.getTime()); // expired CA certs are ignored
  } catch {
    return false;
  }
  const leaf = chain[0];
  if (leaf === undefined) return false;
  const intermediates = chain.slice(1).filter((c) => c.ca);
  let current = leaf;
  for (let depth = 0; depth < 8; depth++) {
    for (const ca of cas) {
      if (current.checkIssued(ca) && current.verify(ca.publicKey)) return true;
    }
    const next = intermediates.find((i) => i !== current && current.checkIssued(i) && current.verify(i.publicKey));
    if (next === undefined) return false;
    current = next;
  }
  return false;
}

/** The pins file of a trust dir. Also used by `signet init` (client) to pin a root it just made. */
export class PinStore {
  readonly file: string;

  constructor(trustDir: string) {
    this.file = path.join(trustDir, 'signet', 'pins.json');
  }

  async load(): Promise<PinsFile> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, pins: {} };
      throw new SignetError('STORAGE', `cannot read ${this.file}: ${(e as Error).message}`, { cause: e });
    }
    try {
      const j = JSON.parse(text) as PinsFile;
      if (typeof j !== 'object' || j === null || typeof j.pins !== 'object' || j.pins === null)
        throw new Error('no "pins" object');
      return { version: 1, pins: j.pins };
    } catch (e) {
      throw new SignetError('STORAGE', `${this.file} is not a valid pins file: ${(e as Error).message}`, {
        cause: e,
        fix: `fix or remove ${this.file}, then pin again with signet pin`,
      });
    }
  }

  async list(): Promise<Array<{ pattern: string; pin: PinEntry }>> {
    const f = await this.load();
    return Object.keys(f.pins)
      .sort()
      .map((pattern) => ({ pattern, pin: f.pins[pattern] as PinEntry }));
  }

  async resolve(gun: string): Promise<ResolvedPin> {
    return resolvePin((await this.load()).pins, gun);
  }

  /** Pin `pattern` (a GUN or `prefix*`) to root certificate key IDs. Replaces any pin for it. */
  async setCerts(pattern: string, keyIds: string[]): Promise<void> {
    const ids = keyIds.map((k) => k.toLowerCase());
    for (const id of ids) {
      if (!/^[0-9a-f]{64}$/.test(id)) {
        throw new SignetError('USAGE', `${id} is not a key ID (64 hex characters)`, {
          fix: 'copy the full key ID from the UNTRUSTED_ROOT message or docker trust inspect',
        });
      }
    }
    await this.set(pattern, { certs: [...new Set(ids)] });
  }

  /**
   * The root of `gun` rotated through a verified chain from a root its pin allowed: pin the GUN itself
   * (exact pins win over `prefix*` ones, so a prefix pin shared with other GUNs stays as it is).
   */
  async follow(gun: string, followed: PinFollowed): Promise<void> {
    const f = await this.load();
    f.pins[gun] = {
      ...f.pins[gun],
      certs: [...followed.to],
      created: new Date().toISOString(),
      followed: { from: [...followed.from], rootVersion: followed.rootVersion },
    };
    await this.save(f);
  }

  async setCa(pattern: string, caPem: string): Promise<void> {
    if (!pemBlocks(caPem).some((b) => b.type === 'CERTIFICATE')) {
      throw new SignetError('USAGE', 'the CA file holds no PEM CERTIFICATE', {
        fix: 'pass a PEM bundle of CA certificates',
      });
    }
    await this.set(pattern, { caPem });
  }

  async setTofu(pattern: string): Promise<void> {
    await this.set(pattern, { tofu: true });
  }

  async remove(pattern: string): Promise<boolean> {
    const f = await this.load();
    if (!(pattern in f.pins)) return false;
    delete f.pins[pattern];
    await this.save(f);
    return true;
  }

  /**
   * Add the pins of `from` (a key backup's copy of a pins file) whose pattern has no pin here;
   * existing pins are never replaced. Returns the patterns added.
   */
  async addMissing(from: unknown): Promise<string[]> {
    const pins = (from as Partial<PinsFile> | null)?.pins;
    if (typeof pins !== 'object' || pins === null) return [];
    const f = await this.load();
    const added: string[] = [];
    for (const [pattern, entry] of Object.entries(pins)) {
      if (pattern in f.pins || pattern === '' || pattern.includes('\n') || typeof entry !== 'object' || entry === null)
        continue;
      f.pins[pattern] = entry;
      added.push(pattern);
    }
    if (added.length > 0) await this.save(f);
    return added;
  }

  private async set(pattern: string, entry: PinEntry): Promise<void> {
    if (pattern === '' || pattern.includes('\n'))
      throw new SignetError('USAGE', `invalid pin pattern ${JSON.stringify(pattern)}`);
    const f = await this.load();
    f.pins[pattern] = { ...entry, created: new Date().toISOString() };
    await this.save(f);
  }

  private async save(f: PinsFile): Promise<void> {
    await writeFileAtomic(this.file, JSON.stringify(f, null, 2) + '\n', { createDir: true });
  }
}
