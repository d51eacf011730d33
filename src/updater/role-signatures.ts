/** Signature checks of the trusted set in the client's dialect (split from trusted-set.ts). */
import { SignetError } from '../errors.js';
import {
  certKeySet,
  delegateError,
  rootThreshold,
  SignatureBudget,
  verifyDelegate,
  type DelegateResult,
  type Metadata,
  type RoleKeySet,
  type RootStepResult,
} from '../tuf/index.js';
import { DEFAULT_LIMITS, type UpdaterLimits } from './limits.js';

/**
 * A failed DelegateResult in the client's dialect: a signature set with no valid signature where no
 * signature is by a listed key is UNKNOWN_KEY (signed by someone else entirely); otherwise the base
 * dialect (THRESHOLD, INVALID_KEY_ID). Undefined when the result is ok.
 */
function signatureError(result: DelegateResult, md: Metadata, set: RoleKeySet): SignetError | undefined {
  const err = delegateError(result);
  if (err?.code !== 'THRESHOLD') return err;
  const listed = new Set(set.keyids);
  const signers = md.signatures.map((s) => s.keyid);
  if (signers.length === 0 || signers.some((id) => listed.has(id))) return err;
  return new SignetError(
    'UNKNOWN_KEY',
    `${md.role} is signed only by key(s) ${signers.join(', ')}, none of which the ${md.role} role lists`,
    {
      fix: 'the metadata was signed by a key that is not trusted for this role (forgery or a missing key rotation); do not trust it',
      cause: err,
      details: { role: md.role, signedBy: signers, expected: set.keyids },
    },
  );
}

/** Verify md with a role key set (verifyDelegate), throwing signatureError's error. */
export function verifyRoleSignatures(md: Metadata, set: RoleKeySet, budget: SignatureBudget): void {
  const err = signatureError(verifyDelegate(md, set, budget), md, set);
  if (err !== undefined) throw err;
}

/**
 * The new root's own certificates or signatures failed (verifyRootStep): CERTIFICATE, or the
 * signature error of its self-signature check.
 */
export function throwSelfFailure(step: RootStepResult): void {
  if (step.failure === 'certificates' && step.certificateError !== undefined) throw step.certificateError;
  if (step.failure === 'self' && step.bySelf !== undefined) {
    const set = certKeySet(step.certificates, rootThreshold(step.root.signed));
    throw signatureError(step.bySelf, step.root, set) ?? new SignetError('INTERNAL', 'root self-check failed');
  }
}

export function limitsOf(opts: { limits?: Partial<UpdaterLimits> | undefined }): UpdaterLimits {
  return { ...DEFAULT_LIMITS, ...opts.limits };
}

/** The signature budget of an update: the one passed in (shared by a walk over past roots), else a new one. */
export function budgetOf(opts: {
  limits?: Partial<UpdaterLimits> | undefined;
  budget?: SignatureBudget | undefined;
}): SignatureBudget {
  if (opts.budget !== undefined) return opts.budget;
  const l = limitsOf(opts);
  return new SignatureBudget({ maxChecks: l.maxSignatureChecks, maxMillis: l.maxSignatureMillis });
}
