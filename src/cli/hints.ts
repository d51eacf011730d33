/**
 * What the CLI adds to the commands it suggests and to its errors, from the command line the user
 * typed: the global flags that choose the trust dir and the trust server (so a pasted `signet pin …`
 * fix acts on the same trust dir), and which trust server was assumed, and why, when none was named.
 * Set once per process by main.ts and clientContext; unset (tests, library use) it adds nothing.
 */
import type { Command } from 'commander';
import type { ServerChoice } from './config.js';

/** The global flags repeated in suggested commands (not --tofu: a fix must never weaken trust). */
const REPEATED: ReadonlyArray<{ key: string; flag: string }> = [
  { key: 'trustDir', flag: '-d' },
  { key: 'server', flag: '--server' },
  { key: 'tlsCa', flag: '--tls-ca' },
  { key: 'insecureRegistry', flag: '--insecure-registry' },
];

let globals: string[] = [];
let assumed: ServerChoice | undefined;

/** A word as a POSIX shell reads it back unchanged. */
export function shellQuote(word: string): string {
  return /^[\w@%+=:,./~-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

/** Record the repeated global flags that were given on the command line (not from the environment). */
export function setGlobalsFrom(program: Command): void {
  const opts = program.opts<Record<string, unknown>>();
  const out: string[] = [];
  for (const { key, flag } of REPEATED) {
    if (program.getOptionValueSource(key) !== 'cli') continue;
    const v = opts[key];
    for (const value of Array.isArray(v) ? v : [v]) if (typeof value === 'string') out.push(flag, shellQuote(value));
  }
  globals = out;
}

/** For tests: set the repeated globals directly. */
export function setGlobals(args: string[]): void {
  globals = args.map(shellQuote);
}

/** `signet <the user's globals> <args>`: the one rendering of a command the CLI suggests. */
export function suggestCommand(...args: string[]): string {
  return ['signet', ...globals, ...args.map(shellQuote)].join(' ');
}

/** Every `signet <command>` in `text` (a fix or warning written by the library) with the user's globals. */
export function withGlobals(text: string): string {
  if (globals.length === 0) return text;
  return text.replace(/(?<![\w./~-])signet (?=[a-z-])/g, `signet ${globals.join(' ')} `);
}

/** The trust server a client command uses; noted when it was not named with --server. */
export function noteTrustServer(choice: ServerChoice): void {
  if (choice.source !== 'flag') assumed = choice;
}

/** The assumed trust server, for errors whose cause may be the wrong server. */
export function assumedTrustServer(): ServerChoice | undefined {
  return assumed;
}

/** For tests: forget the globals and the assumed server. */
export function resetHints(): void {
  globals = [];
  assumed = undefined;
}
