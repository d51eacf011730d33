#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { EXIT } from './output.js';

/**
 * `signet server` pulls in @peculiar/x509, whose tsyringe dependency refuses to load without a global
 * Reflect-metadata API. The CLI is an entry point, so it may install the few functions tsyringe uses
 * (define/get metadata along the prototype chain) before the commands are imported.
 */
function installReflectMetadata(): void {
  type Key = unknown;
  const R = Reflect as unknown as Record<string, unknown>;
  if (typeof R.getMetadata === 'function') return;
  const store = new WeakMap<object, Map<PropertyKey | undefined, Map<Key, unknown>>>();
  const own = (target: object, prop: PropertyKey | undefined, create: boolean): Map<Key, unknown> | undefined => {
    let byProp = store.get(target);
    if (byProp === undefined) {
      if (!create) return undefined;
      byProp = new Map();
      store.set(target, byProp);
    }
    let m = byProp.get(prop);
    if (m === undefined && create) {
      m = new Map();
      byProp.set(prop, m);
    }
    return m;
  };
  const getOwn = (k: Key, target: object, prop?: PropertyKey): unknown => own(target, prop, false)?.get(k);
  const get = (k: Key, target: object, prop?: PropertyKey): unknown => {
    for (let t: object | null = target; t !== null; t = Object.getPrototypeOf(t) as object | null) {
      const m = own(t, prop, false);
      if (m?.has(k)) return m.get(k);
    }
    return undefined;
  };
  const define = (k: Key, v: unknown, target: object, prop?: PropertyKey): void =>
    void own(target, prop, true)?.set(k, v);
  Object.assign(R, {
    defineMetadata: define,
    getMetadata: get,
    getOwnMetadata: getOwn,
    hasMetadata: (k: Key, t: object, p?: PropertyKey) => get(k, t, p) !== undefined,
    hasOwnMetadata: (k: Key, t: object, p?: PropertyKey) => getOwn(k, t, p) !== undefined,
    metadata: (k: Key, v: unknown) => (target: object, prop?: PropertyKey) => define(k, v, target, prop),
  });
}

installReflectMetadata();
const { addGlobalOptions } = await import('./commands/common.js');
const { registrars } = await import('./commands/index.js');

const program = new Command('signet')
  .description('Docker Content Trust server and client (Notary v1 compatible)')
  .showHelpAfterError()
  .exitOverride();
addGlobalOptions(program);
for (const register of registrars) register(program);
try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    // help and version exit 0; every other command-line mistake is a usage error (exit 2)
    process.exitCode = e.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
  } else {
    process.stderr.write(`Error: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = EXIT.GENERAL;
  }
}
