/** Sigstore (cosign) signatures: key files, payloads, registry attachments, the bridge and the reverse check. */
export {
  COSIGN_PRIVATE_KEY_PEM,
  SIGSTORE_PRIVATE_KEY_PEM,
  decryptCosignKey,
  encryptCosignKey,
  generateCosignKeyPair,
  loadCosignPublicKey,
  publicKeyPem,
} from './cosign-key.js';
export {
  SIGNATURE_TYPE,
  buildPayload,
  parsePayload,
  signPayload,
  verifyPayloadSignature,
  type SimpleSigningPayload,
} from './payload.js';
export {
  SIGNATURE_ANNOTATION,
  SIGNATURE_ARTIFACT_TYPE,
  SIMPLE_SIGNING_MEDIA_TYPE,
  digestOfSignatureTag,
  newSignatureLayer,
  readSignatureManifest,
  signatureManifestBytes,
  writeSignatureManifest,
  signatureTag,
  type SignatureLayer,
  type SignatureManifest,
} from './attachments.js';
export { judgeLayer, verifySigstoreImage, type LayerVerdict, type SigstoreVerified } from './verify.js';
export { runBridge, type BridgeEntry, type BridgeOptions, type BridgeReport } from './bridge.js';
