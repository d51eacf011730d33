// Shared by the MetaStore contract modules (contract-*.ts): the backend fixture, small builders, a fresh-store runner.
import { createHash, randomBytes } from 'node:crypto';
import type { MetaStore, ServerKeyRow } from '../../src/storage/index.js';

/** One empty database per test; `open()` may be called several times (reopen, second server). */
export interface StoreFixture {
  open(): Promise<MetaStore>;
  dispose(): Promise<void>;
}

export const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
export const buf = (s: string): Buffer => Buffer.from(s, 'utf8');
/** One update: `role` at `version` with the UTF-8 bytes of `text`. */
export const rec = (role: string, version: number, text: string) => ({ role, version, data: buf(text) });
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function keyRow(over: Partial<ServerKeyRow> & { id: string }): ServerKeyRow {
  return {
    gun: 'docker.io/library/alpine',
    role: 'timestamp',
    algorithm: 'ecdsa',
    publicKey: `{"keytype":"ecdsa","keyval":{"private":null,"public":"${over.id}"}}`,
    privateKey: randomBytes(48),
    createdAt: new Date(1_700_000_000_123),
    lastUsed: null,
    ...over,
  };
}

/** What each part of the contract gets: the backend's fixture maker and a fresh-store runner. */
export interface StoreContext {
  makeFixture: () => Promise<StoreFixture>;
  /** Runs `body` with a fresh database and one open store; closes and disposes afterwards. */
  withStore(body: (s: MetaStore, fx: StoreFixture) => Promise<void>): Promise<void>;
}

export function storeContext(makeFixture: () => Promise<StoreFixture>): StoreContext {
  async function withStore(body: (s: MetaStore, fx: StoreFixture) => Promise<void>): Promise<void> {
    const fx = await makeFixture();
    const s = await fx.open();
    try {
      await body(s, fx);
    } finally {
      await s.close();
      await fx.dispose();
    }
  }
  return { makeFixture, withStore };
}
