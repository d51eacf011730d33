import type { Command } from 'commander';

/** Each command module exports a function that adds its command(s) to the program. */
export type CommandRegistrar = (program: Command) => void;

export const registrars: CommandRegistrar[] = [];
