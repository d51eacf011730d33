export type { ServerSigner, ServerKeyRole } from './types.js';
export { LocalServerSigner, type LocalSignerOptions } from './local-signer.js';
export { KeyCipher } from './cipher.js';
