export { NotaryRemote, KEY_BODY_LIMIT, type RemoteOptions } from './notary-remote.js';
export type { RemoteAuth, Challenge } from './auth.js';
export { parseChallenges, repositoryScope } from './auth.js';
export { buildMultipart, type MultipartBody } from './multipart.js';
export { parseErrorEnvelope, typedErrorMessage, ERROR_BODY_LIMIT, type ServerErrorEntry } from './errors.js';
