export type { ServerSigner, ServerKeyRole } from './types.js';
export { LocalServerSigner, type LocalSignerOptions } from './local-signer.js';
export { KeyCipher } from './cipher.js';
export { ServerKeyring, SERVER_KEY_ALGORITHM, type HeldKey } from './keyring.js';
export {
  startSignerService,
  type SignerService,
  type SignerServiceOptions,
  type ServiceLogger,
  type ServiceTlsFiles,
} from './grpc/service.js';
export { RemoteServerSigner, DEFAULT_REMOTE_SIGNER_TIMEOUT_MS, type RemoteSignerOptions } from './grpc/client.js';
export { readPem } from './grpc/service-tls.js';
