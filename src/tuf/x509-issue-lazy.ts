/**
 * Issuing certificates needs @peculiar/asn1-x509 (some 450 KB of JavaScript to load): x509-issue.ts is
 * imported only when a certificate is made (init, root key rotation, the server's TLS bootstrap), so
 * that verify and sign do not load it (docs/performance.md, measurement 9).
 */
import type * as issue from './x509-issue.js';

/** notary's root certificate for a GUN (x509-issue.ts createRootCertificate). */
export async function createRootCertificate(
  ...args: Parameters<typeof issue.createRootCertificate>
): ReturnType<typeof issue.createRootCertificate> {
  return (await import('./x509-issue.js')).createRootCertificate(...args);
}

/** The certificate issuer (x509-issue.ts issueCertificate), synchronous once loaded. */
export async function loadCertificateIssuer(): Promise<typeof issue.issueCertificate> {
  return (await import('./x509-issue.js')).issueCertificate;
}
