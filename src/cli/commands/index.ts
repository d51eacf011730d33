/**
 * The registrar list: one entry per command file, in the order `signet --help` lists them.
 * A new command is a new file here plus one import and one list entry.
 */
import type { Command } from 'commander';
import { registerAdmissionCommand } from './admission.js';
import { registerAudit } from './audit.js';
import { registerBridge } from './bridge.js';
import { registerCompletion } from './completion.js';
import { registerDelete } from './delete.js';
import { registerInit } from './init.js';
import { registerInspect } from './inspect.js';
import { registerKey } from './key.js';
import { registerMigrate } from './migrate.js';
import { registerPin } from './pin.js';
import { registerProxyCommand } from './proxy.js';
import { registerProposal } from './proposal.js';
import { registerPublish } from './publish.js';
import { registerRepositoryKey } from './repository-key.js';
import { registerRevoke } from './revoke.js';
import { registerServerCommand } from './server.js';
import { registerSign } from './sign.js';
import { registerSigner } from './signer.js';
import { registerStatus } from './status.js';
import { registerTarget } from './target.js';
import { registerVerify } from './verify.js';

/** Each command module exports a function that adds its one command (or command group) to the program. */
export type CommandRegistrar = (program: Command) => void;

/**
 * Each entry: the top-level command a registrar adds, and the registrar. The name lets main.ts
 * register only the command being run (program.ts); test/cli/reference.test.ts checks it is the
 * name the registrar really gives.
 */
export const registrars: readonly (readonly [name: string, register: CommandRegistrar])[] = [
  ['key', registerKey],
  ['init', registerInit],
  ['sign', registerSign],
  ['inspect', registerInspect],
  ['revoke', registerRevoke],
  ['signer', registerSigner],
  ['repository-key', registerRepositoryKey],
  ['proposal', registerProposal],
  ['delete', registerDelete],
  ['target', registerTarget],
  ['status', registerStatus],
  ['publish', registerPublish],
  ['server', registerServerCommand],
  ['verify', registerVerify],
  ['pin', registerPin],
  ['bridge', registerBridge],
  ['migrate', registerMigrate],
  ['proxy', registerProxyCommand],
  ['admission', registerAdmissionCommand],
  ['audit', registerAudit],
  ['completion', registerCompletion],
];
