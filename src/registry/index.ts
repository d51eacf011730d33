/** OCI distribution client: reference normalisation, manifest digest/size, registry auth. */
export {
  parseImageReference,
  familiarString,
  referenceString,
  checkDigest,
  DOCKER_HUB,
  type ImageReference,
} from './reference.js';
export {
  RegistryClient,
  registryBaseUrl,
  isLoopbackRegistry,
  MEDIA_TYPES,
  DEFAULT_MAX_MANIFEST_BYTES,
  type RegistryClientOptions,
  type ResolvedManifest,
} from './client.js';
export { credentialHostKey } from './credentials.js';
export type { Credential } from '../http/index.js';
export { RegistryWriter, type RegistryWriterOptions } from './push.js';
