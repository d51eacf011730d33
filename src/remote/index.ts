export { NotaryRemote, KEY_BODY_LIMIT, repositoryScope, type RemoteOptions, type RemoteAuth } from './notary-remote.js';
export { buildMultipart, type MultipartBody } from './multipart.js';
export { parseErrorEnvelope, typedErrorMessage, ERROR_BODY_LIMIT, type ServerErrorEntry } from './errors.js';
