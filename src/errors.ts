/**
 * One error class for the whole project. Every failure a user can see carries a stable
 * `code` (tests assert codes, never wording), a message that says what is wrong, and,
 * where we know it, a `fix` that says what to do about it.
 */
export type SignetErrorCode =
  // metadata model / crypto (src/tuf)
  | 'MALFORMED_METADATA' // bytes are not the expected JSON shape; message names the field
  | 'CANONICAL_JSON' // value cannot be encoded in notary's canonical JSON (floats, control bytes)
  | 'BAD_SIGNATURE' // a signature failed to verify / threshold not met
  | 'THRESHOLD' // fewer valid signatures than the role threshold
  | 'SIGNATURE_BUDGET' // one update's signature checks went over their count or time budget
  | 'UNKNOWN_KEY' // signature by a key that the role does not list
  | 'INVALID_KEY' // unusable or unsupported public/private key
  | 'INVALID_KEY_ID' // a key's content does not hash to the ID it is listed under
  | 'EXPIRED' // metadata (or certificate) past its expiry: freeze attack
  | 'ROLLBACK' // version lower than one already trusted
  | 'CERTIFICATE' // root certificate invalid: CN/GUN mismatch, CA, SHA-1, expired…
  | 'ROOT_ROTATION' // new root not signed by the previous root's threshold
  | 'MIX_AND_MATCH' // hash/length of a role does not match what its parent lists
  | 'ENDLESS_DATA' // download larger than the limit
  | 'INVALID_ROLE' // role name not valid / not a direct child / path outside delegation
  | 'INVALID_GUN'
  // key files and passphrases (src/keys)
  | 'KEY_FILE' // a key file cannot be read/parsed
  | 'BAD_PASSPHRASE' // passphrase does not decrypt the key
  | 'PASSPHRASE_REQUIRED' // no TTY and no env variable: message names the variable
  | 'KEY_NOT_FOUND'
  | 'KEY_ON_TOKEN' // the private key lives on a PKCS#11 token: it signs there and is never read out
  // PKCS#11 tokens (src/keys/pkcs11)
  | 'PKCS11_UNAVAILABLE' // the optional native package pkcs11js is not installed
  | 'PKCS11_MODULE' // no module path given, or the module cannot be loaded
  | 'PKCS11_PIN' // no PIN, a wrong PIN or a locked PIN
  | 'PKCS11_URI' // a pkcs11: URI that cannot be parsed or names no single key/token
  | 'PKCS11_TOKEN_NOT_FOUND' // no token in the module matches the URI
  | 'PKCS11' // any other failed PKCS#11 call (message names the CKR_ value)
  // network / remote trust server / registry
  | 'NETWORK'
  | 'TIMEOUT' // a request (connect, headers or body) took longer than its deadline
  | 'HTTP'
  | 'UNAUTHORIZED'
  | 'NOT_FOUND'
  | 'REPOSITORY_NOT_FOUND'
  | 'SERVER_REJECTED'
  | 'REGISTRY'
  // client / verification outcome
  | 'NOT_SIGNED' // the tag has no trust data
  | 'DIGEST_MISMATCH' // registry serves a manifest whose digest differs from the signed one
  | 'TAG_MOVED' // the registry's tag points at another digest than the signed one
  | 'TRUST_STALE' // trust server unreachable and the cached trust data is older than allowed
  | 'SIGNERS_REQUIRED' // the signed digest lacks the distinct signers a policy requires
  | 'POLICY' // the policy file is unreadable or invalid
  | 'UNTRUSTED_ROOT' // no pin and no TOFU: message shows the key IDs and the pin command
  | 'PIN_MISMATCH'
  | 'NOT_INITIALIZED'
  | 'USAGE' // bad command line / configuration
  | 'SERVICE_RETIRED' // the default trust server for the image no longer exists (notary.docker.io)
  | 'CONFLICT'
  | 'STORAGE'
  | 'AUDIT_BROKEN' // the server's audit trail fails its hash-chain check; the message names the entries
  // the server's remote signer (notary-signer's gRPC API)
  | 'SIGNER_UNAVAILABLE' // the remote signer cannot be reached or did not answer in time; the message names its address
  | 'SIGNER' // the remote signer answered with an error or with something unusable
  | 'INTERNAL';

export class SignetError extends Error {
  readonly code: SignetErrorCode;
  readonly fix: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(
    code: SignetErrorCode,
    message: string,
    options: { fix?: string; cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SignetError';
    this.code = code;
    this.fix = options.fix;
    this.details = options.details;
  }
}

export function isSignetError(err: unknown, code?: SignetErrorCode): err is SignetError {
  return err instanceof SignetError && (code === undefined || err.code === code);
}
