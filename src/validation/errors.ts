/**
 * notary's validation errors (`N:tuf/validation/errors.go`), which the server sends as the
 * `INVALID_UPDATE` detail `{"Name":…,"Error":{"Msg":…}}` (D:registry/api/errcode/*.go) and from which the notary
 * client rebuilds a typed error ("The root metadata is invalid: <Msg>").
 */
import { SignetError, type SignetErrorCode } from '../errors.js';

export type ValidationErrorName =
  'ErrValidation' | 'ErrBadHierarchy' | 'ErrBadRoot' | 'ErrBadTargets' | 'ErrBadSnapshot';

const PREFIX: Record<ValidationErrorName, string> = {
  ErrValidation: 'An error occurred during validation',
  ErrBadHierarchy: 'Metadata hierarchy is incomplete',
  ErrBadRoot: 'The root metadata is invalid',
  ErrBadTargets: 'The targets metadata is invalid',
  ErrBadSnapshot: 'The snapshot metadata is invalid',
};

export class ValidationError extends SignetError {
  readonly notaryName: ValidationErrorName;
  readonly msg: string;
  readonly missing: string | undefined;

  constructor(
    notaryName: ValidationErrorName,
    msg: string,
    opts: { code?: SignetErrorCode; missing?: string; cause?: unknown; fix?: string } = {},
  ) {
    super(opts.code ?? 'SERVER_REJECTED', `${PREFIX[notaryName]}: ${msg}`, {
      ...(opts.cause !== undefined ? { cause: opts.cause } : {}),
      ...(opts.fix !== undefined ? { fix: opts.fix } : {}),
      details: { name: notaryName, msg, ...(opts.missing !== undefined ? { missing: opts.missing } : {}) },
    });
    this.notaryName = notaryName;
    this.msg = msg;
    this.missing = opts.missing;
  }

  /** notary's SerializableError JSON (the `detail` of INVALID_UPDATE). */
  serializable(): { Name: ValidationErrorName; Error: { Msg: string; Missing?: string } } {
    if (this.notaryName === 'ErrBadHierarchy') {
      return { Name: this.notaryName, Error: { Missing: this.missing ?? '', Msg: this.msg } };
    }
    return { Name: this.notaryName, Error: { Msg: this.msg } };
  }
}

export function isValidationError(e: unknown): e is ValidationError {
  return e instanceof ValidationError;
}

/** notary's exact texts, where clients or fixtures depend on them. */
export const MSG = {
  noRoot: 'no pre-existing root and no root provided in update.',
  noSnapshotKey: 'no snapshot was included in update and server does not hold current snapshot key for repository',
  // sic: two spaces in notary v0.7.0 (N:server/handlers/validation.go generateTimestamp)
  noTimestampKey: 'no  timestamp keys exist on the server',
  leafCerts: 'could not validate the path to a trusted root: unable to retrieve valid leaf certificates',
  rotation: 'could not rotate trust to a new trusted root: failed to validate data with current trusted certificates',
  selfSigned: 'could not validate the path to a trusted root: failed to validate integrity of roots',
} as const;
