// The real notary CLI (Debian package "notary", 0.7) for interop tests. It never prompts:
// passphrases come from NOTARY_*_PASSPHRASE, stdin is closed (or fed `input`), with a timeout.
import { mkdirSync } from 'node:fs';
import { childEnv, requireBinary, run } from './proc.js';

export const NOTARY_BIN = '/usr/bin/notary';

export const TEST_PASSPHRASES: { root: string; targets: string; snapshot: string; delegation: string } = {
  root: 'root-pass-123',
  targets: 'targets-pass-123',
  snapshot: 'snapshot-pass-123',
  delegation: 'delegation-pass-123',
};

export interface NotaryCli {
  trustDir: string;
  run(
    args: string[],
    opts?: { env?: NodeJS.ProcessEnv; input?: string | Buffer },
  ): Promise<{ code: number | null; stdout: string; stderr: string }>;
}

/**
 * `notary -s <server> [--tlscacert <caFile>] -d <trustDir> <args…>`. Inherited NOTARY_* variables
 * are dropped so the host environment cannot change behaviour; `opts.env` is applied last.
 */
export function notaryCli(opts: {
  server: string;
  caFile?: string;
  trustDir: string;
  passphrases?: Partial<Record<'root' | 'targets' | 'snapshot' | 'delegation', string>>;
}): NotaryCli {
  mkdirSync(opts.trustDir, { recursive: true });
  const pw = { ...TEST_PASSPHRASES, ...opts.passphrases };
  const base = ['-s', opts.server, ...(opts.caFile ? ['--tlscacert', opts.caFile] : []), '-d', opts.trustDir];
  return {
    trustDir: opts.trustDir,
    async run(args, runOpts = {}) {
      await requireBinary(NOTARY_BIN, 'notary');
      const env = childEnv(
        {
          NOTARY_ROOT_PASSPHRASE: pw.root,
          NOTARY_TARGETS_PASSPHRASE: pw.targets,
          NOTARY_SNAPSHOT_PASSPHRASE: pw.snapshot,
          NOTARY_DELEGATION_PASSPHRASE: pw.delegation,
          ...runOpts.env,
        },
        (k) => k.startsWith('NOTARY_'),
      );
      return run(NOTARY_BIN, [...base, ...args], {
        env,
        timeoutMs: 60_000,
        ...(runOpts.input !== undefined ? { input: runOpts.input } : {}),
      });
    },
  };
}
