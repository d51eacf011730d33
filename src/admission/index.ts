/** The Kubernetes admission webhook (AdmissionReview v1): validate, mutate (pin to digests), serve. */
export {
  ADMISSION_API_VERSION,
  BadReviewError,
  parseAdmissionReview,
  reviewResponse,
  type AdmissionRequest,
  type AdmissionResponse,
  type AdmissionReviewResponse,
} from './review.js';
export {
  ADMITTED_KINDS,
  CONTAINER_FIELDS,
  podImages,
  describeLocation,
  type PodImage,
  type ContainerField,
} from './images.js';
export { escapePointerToken, jsonPointer, encodePatch, type PatchOperation } from './patch.js';
export { decide, pinnedImage, MAX_WARNING_LENGTH, type Decision, type ImageOutcome } from './decide.js';
export {
  AdmissionHandler,
  type AdmissionEndpoint,
  type AdmissionHandlerOptions,
  type HandlerResult,
} from './handler.js';
export {
  startAdmissionServer,
  DEFAULT_MAX_BODY_BYTES,
  type AdmissionServer,
  type AdmissionServerOptions,
} from './server.js';
