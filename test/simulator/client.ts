/** A Signet client (NotaryRemote + Updater on a temp trust dir) pointed at the simulator. */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { NotaryRemote } from '../../src/remote/index.js';
import { PinStore, Updater, type TrustedRepo, type UpdaterLimits } from '../../src/updater/index.js';

export interface SimClient {
  trustDir: string;
  pins: PinStore;
  warnings: string[];
  remote: NotaryRemote;
  updater(opts?: { tofu?: boolean; offline?: boolean; now?: Date; limits?: Partial<UpdaterLimits> }): Updater;
  refresh(opts?: { tofu?: boolean; offline?: boolean; now?: Date; forWrite?: boolean }): Promise<TrustedRepo>;
  close(): Promise<void>;
}

export async function simClient(serverUrl: string, gun: string): Promise<SimClient> {
  const trustDir = await mkdtemp(path.join(os.tmpdir(), 'signet-sim-client-'));
  const remote = new NotaryRemote({ serverUrl, retries: 0, timeoutMs: 5000, retryDelayMs: () => 0 });
  const pins = new PinStore(trustDir);
  const warnings: string[] = [];
  const updater: SimClient['updater'] = (opts = {}) =>
    new Updater({
      gun,
      remote,
      trustDir,
      pins,
      tofu: opts.tofu ?? true,
      offline: opts.offline ?? false,
      ...(opts.now !== undefined ? { now: () => opts.now as Date } : {}),
      ...(opts.limits !== undefined ? { limits: opts.limits } : {}),
      onWarning: (m) => warnings.push(m),
    });
  return {
    trustDir,
    pins,
    warnings,
    remote,
    updater,
    refresh: (opts = {}) => updater(opts).refresh({ forWrite: opts.forWrite ?? false }),
    close: async () => {
      await remote.close();
      await rm(trustDir, { recursive: true, force: true });
    },
  };
}
