export type { ServerSigner, ServerKeyRole } from './types.js';
export { LocalServerSigner, type LocalSignerOptions } from './local-signer.js';
export { KeyCipher } from './cipher.js';
export { RemoteServerSigner, DEFAULT_REMOTE_SIGNER_TIMEOUT_MS, type RemoteSignerOptions } from './grpc/client.js';
