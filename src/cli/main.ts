#!/usr/bin/env node
import { Command } from 'commander';
import { registrars } from './commands/index.js';

const program = new Command('signet').description('Docker Content Trust server and client (Notary v1 compatible)');
for (const register of registrars) register(program);
await program.parseAsync(process.argv);
