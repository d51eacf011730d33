/**
 * Docker's default trust server for an image (C:cli/trust/trust.go GetNotaryServer): notary.docker.io
 * for Docker Hub, else the registry host itself over HTTPS.
 */
export function defaultTrustServer(registryHost: string): string {
  if (registryHost === 'docker.io' || registryHost === 'index.docker.io' || registryHost === 'registry-1.docker.io')
    return 'https://notary.docker.io';
  return `https://${registryHost}`;
}
