/**
 * Docker's default trust server for an image (C:cli/trust/trust.go GetNotaryServer): notary.docker.io
 * for Docker Hub, else the registry host itself over HTTPS. Docker shuts notary.docker.io down on
 * 2026-12-08: from that day on a Docker Hub image has no default, and saying so beats a silent
 * connection to a host that is gone (or, later, is someone else's).
 */
import { SignetError } from '../errors.js';

const HUB_NOTARY = 'https://notary.docker.io';
export const HUB_NOTARY_RETIRED = new Date('2026-12-08T00:00:00Z');

export function defaultTrustServer(registryHost: string, now: Date = new Date()): string {
  if (registryHost === 'docker.io' || registryHost === 'index.docker.io' || registryHost === 'registry-1.docker.io') {
    if (now.getTime() < HUB_NOTARY_RETIRED.getTime()) return HUB_NOTARY;
    throw new SignetError(
      'SERVICE_RETIRED',
      `Docker Hub's trust server ${HUB_NOTARY} was retired on ${HUB_NOTARY_RETIRED.toISOString().slice(0, 10)}; there is no default trust server for Docker Hub images any more`,
      {
        fix: 'name the trust server that now holds this repository with --server https://host[:port] or DOCKER_CONTENT_TRUST_SERVER=https://host[:port] (docs/migrate.md)',
      },
    );
  }
  return `https://${registryHost}`;
}
