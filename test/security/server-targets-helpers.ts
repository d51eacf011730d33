/** Shared by the server-targets attack tests: targets bodies, raw envelopes and signatures over raw bytes. */
import { newTargets, type Signer, type TargetsSigned } from '../../src/tuf/index.js';

export const YEAR = 365 * 24 * 3600 * 1000;
export const THRESHOLD_MSG = (role: string): string => `valid signatures did not meet threshold for ${role}`;

export function targetsBody(version: number, extra: Partial<TargetsSigned> = {}): TargetsSigned {
  return { ...newTargets(new Date(Date.now() + YEAR), version), ...extra };
}

/** Envelope bytes with `signed` given as raw JSON text (to keep duplicate or odd keys). */
export function rawEnvelope(signedJson: string, signatures: { keyid: string; method: string; sig: string }[]): Buffer {
  return Buffer.from(`{"signed":${signedJson},"signatures":${JSON.stringify(signatures)}}`);
}

export async function sigOver(signedBytes: Buffer, signer: Signer) {
  const { method, sig } = await signer.sign(signedBytes);
  return { keyid: signer.publicKey.id, method, sig: sig.toString('base64') };
}
