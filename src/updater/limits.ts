/** Caps on what a trust server can make the client download or walk (N:const.go). */
export interface UpdaterLimits {
  /** timestamp.json download cap (notary MaxTimestampSize). */
  timestampMaxBytes: number;
  /** root.json cap when no length is known (notary MaxDownloadSize). */
  rootMaxBytes: number;
  /**
   * Cap on any snapshot/targets/delegation download, whatever length its parent lists: the parent
   * may be signed by a server-held key (snapshot, timestamp), so its lengths are not fully trusted.
   */
  metadataMaxBytes: number;
  /** How many root versions one update may walk through. */
  maxRootRotations: number;
  /** How many delegated targets roles are loaded at most. */
  maxDelegations: number;
  /** Maximum nesting of delegations below `targets` (targets/a = 1). */
  maxDelegationDepth: number;
  /** Signature checks one update may make, all roles together (stops a flood of bogus signatures). */
  maxSignatureChecks: number;
  /** Milliseconds one update may spend checking signatures, so that a few slow keys cannot stall it. */
  maxSignatureMillis: number;
}

export const DEFAULT_LIMITS: UpdaterLimits = {
  timestampMaxBytes: 1024 * 1024,
  rootMaxBytes: 100 * 1024 * 1024,
  metadataMaxBytes: 100 * 1024 * 1024,
  maxRootRotations: 256,
  maxDelegations: 1000,
  maxDelegationDepth: 16,
  // a legitimate update checks one signature per role: 1,000 delegations take ~0.5 s
  maxSignatureChecks: 4096,
  maxSignatureMillis: 2000,
};
