/**
 * What one update (a server publish, a client refresh) may spend on signature checks, in checks
 * and in time, and the keys it parsed. A count alone assumed every check costs about 0.3 ms, but a
 * P-521 key costs ~10 ms and a key whose PEM is built to be slow cost 150 ms, so the time spent is
 * counted too: a few costly keys end the update as surely as many cheap ones. Each key is parsed
 * once per budget, whatever the number of signatures or roles that name it.
 */
import type crypto from 'node:crypto';
import { SignetError } from '../errors.js';
import type { PublicKey } from './types.js';

export interface SignatureLimits {
  /** signature checks one update may make */
  maxChecks: number;
  /** milliseconds one update may spend checking signatures (key parsing included) */
  maxMillis: number;
}

/** For a verifyThreshold call made without a budget (a single role checked on its own). */
export const DEFAULT_SIGNATURE_LIMITS: SignatureLimits = { maxChecks: 1024, maxMillis: 1000 };

export class SignatureBudget {
  private checks = 0;
  private millis = 0;
  private readonly parsed = new Map<string, crypto.KeyObject | null>();
  private readonly made = new Map<string, PublicKey>();

  constructor(
    readonly limits: SignatureLimits = DEFAULT_SIGNATURE_LIMITS,
    private readonly clock: () => number = () => performance.now(),
  ) {}

  /** Checks made and milliseconds spent so far. */
  get spent(): { checks: number; millis: number } {
    return { checks: this.checks, millis: Math.round(this.millis) };
  }

  /**
   * `parse(pk)` once per key content and form (a `pycrypto` key is PEM text, the others DER or a
   * certificate); a key that cannot be parsed is remembered as such.
   */
  keyObject(pk: PublicKey, form: string, parse: () => crypto.KeyObject | undefined): crypto.KeyObject | undefined {
    const k = `${form}\u0000${pk.keytype}\u0000${pk.public}`;
    const hit = this.parsed.get(k);
    if (hit !== undefined) return hit ?? undefined;
    let ko: crypto.KeyObject | undefined;
    try {
      ko = parse();
    } catch {
      ko = undefined;
    }
    this.parsed.set(k, ko ?? null);
    return ko;
  }

  /**
   * The PublicKey for key JSON, made by `make` once per key content; the time it takes counts
   * (a role may list 256 keys, and a thousand roles may list them again).
   */
  publicKey(role: string, keytype: string, pub: string, make: () => PublicKey): PublicKey {
    const k = `json\u0000${keytype}\u0000${pub}`;
    const hit = this.made.get(k);
    if (hit !== undefined) return hit;
    const pk = this.spend(role, false, make);
    this.made.set(k, pk);
    return pk;
  }

  /** Runs one signature check for `role`, counted and timed. SIGNATURE_BUDGET once the budget is spent. */
  check(role: string, verify: () => boolean): boolean {
    return this.spend(role, true, verify);
  }

  private spend<T>(role: string, isCheck: boolean, work: () => T): T {
    const { maxChecks, maxMillis } = this.limits;
    if ((isCheck && this.checks >= maxChecks) || this.millis >= maxMillis) {
      throw new SignetError(
        'SIGNATURE_BUDGET',
        `${role}: the signature checks of this update went over the budget of ${maxChecks} checks or ${maxMillis} ms (${this.checks} checks, ${Math.round(this.millis)} ms spent)`,
        {
          fix: 'a role is signed by a handful of keys; this metadata carries an abusive number of signatures, of keys, or of keys that are slow to verify',
          details: { role, checks: this.checks, millis: Math.round(this.millis), maxChecks, maxMillis },
        },
      );
    }
    const t0 = this.clock();
    try {
      return work();
    } finally {
      if (isCheck) this.checks++;
      this.millis += this.clock() - t0;
    }
  }
}
