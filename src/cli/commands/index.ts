import type { Command } from 'commander';
import { registerDelete } from './delete.js';
import { registerInit } from './init.js';
import { registerInspect } from './inspect.js';
import { registerKey } from './key.js';
import { registerRevoke } from './revoke.js';
import { registerSign } from './sign.js';
import { registerSigner } from './signer.js';
import { registerTarget } from './target.js';

/** Each command module exports a function that adds its command(s) to the program. */
export type CommandRegistrar = (program: Command) => void;

export const registrars: CommandRegistrar[] = [
  registerKey,
  registerInit,
  registerSign,
  registerInspect,
  registerRevoke,
  registerSigner,
  registerDelete,
  registerTarget,
];

import { registerServerCommand } from './server.js';
registrars.push(registerServerCommand);

import { registerVerify } from './verify.js';
import { registerPin } from './pin.js';
registrars.push(registerVerify, registerPin);

import { registerBridge } from './bridge.js';
registrars.push(registerBridge);
import { registerMigrate } from './migrate.js';
registrars.push(registerMigrate);
import { registerProxyCommand } from './proxy.js';
registrars.push(registerProxyCommand);
import { registerAdmissionCommand } from './admission.js';
registrars.push(registerAdmissionCommand);
import { registerAudit } from './audit.js';
registrars.push(registerAudit);
