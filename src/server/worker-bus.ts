/**
 * A worker's side of `signet server --workers N` (see workers.ts for the primary): every commit
 * that changes a GUN's current metadata (a stored timestamp, a deletion) is announced to the other
 * workers through the primary, and the write's caller waits until every other live worker has
 * dropped its cached view (or `ACK_TIMEOUT_MS` passed). So once a publish is acknowledged to its
 * client, a GET through any worker reads it: no stale reads across workers.
 */
import { SignetError } from '../errors.js';
import type { MetaStore, MetaTx, StoreChange } from '../storage/index.js';

/** Messages between the primary and the workers (process.send, JSON over the IPC channel). */
export type BusMessage =
  | { signet: 'change'; id: string; change: StoreChange }
  | { signet: 'ack'; id: string }
  | { signet: 'done'; id: string }
  | { signet: 'ready'; url: string; caFile: string | undefined }
  | { signet: 'stop' };

export function isBusMessage(m: unknown): m is BusMessage {
  return typeof m === 'object' && m !== null && typeof (m as { signet?: unknown }).signet === 'string';
}

/** A worker that does not acknowledge within this time is not waited for (it is stuck or dying). */
export const ACK_TIMEOUT_MS = 2000;

type Send = (m: BusMessage) => void;

export class WorkerBus {
  readonly #send: Send;
  readonly #listeners = new Set<(c: StoreChange) => void>();
  readonly #waiting = new Map<string, () => void>();
  #seq = 0;

  /** `send` and `receive` are process.send / process.on('message') in a cluster worker. */
  constructor(send: Send, receive: (handler: (m: unknown) => void) => void) {
    this.#send = send;
    receive((m) => {
      if (!isBusMessage(m)) return;
      if (m.signet === 'change') {
        for (const l of this.#listeners) {
          try {
            l(m.change);
          } catch {
            // a listener's failure is its own; the primary still hears that this worker is done
          }
        }
        this.#send({ signet: 'ack', id: m.id });
      } else if (m.signet === 'done') {
        this.#waiting.get(m.id)?.();
      }
    });
  }

  subscribe(l: (c: StoreChange) => void): () => void {
    this.#listeners.add(l);
    return () => this.#listeners.delete(l);
  }

  /** Announces a committed change; resolves when every other worker has applied it. */
  announce(change: StoreChange): Promise<void> {
    const id = String(++this.#seq);
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ACK_TIMEOUT_MS);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.#waiting.set(id, () => {
        this.#waiting.delete(id);
        done();
      });
      try {
        this.#send({ signet: 'change', id, change });
      } catch {
        this.#waiting.delete(id);
        done();
      }
    });
  }
}

/**
 * The store as a worker uses it: writes announce their change on the bus once committed, and
 * `onChange` hears the other workers' announcements (and, on PostgreSQL, other servers' notices).
 */
export function sharedStore(store: MetaStore, bus: WorkerBus): MetaStore {
  const withGun = async <T>(gun: string, fn: (tx: MetaTx) => Promise<T>): Promise<T> => {
    let version: number | undefined;
    const result = await store.withGun(gun, (tx) => {
      const updateMany: MetaTx['updateMany'] = async (g, updates) => {
        await tx.updateMany(g, updates);
        for (const u of updates) if (u.role === 'timestamp') version = Math.max(version ?? 0, u.version);
      };
      return fn(bound(tx, { updateMany }));
    });
    if (version !== undefined) await bus.announce({ kind: 'gun', gun, version, deleted: false });
    return result;
  };
  const overrides: Partial<MetaStore> = {
    withGun,
    updateMany: (gun, updates) => withGun(gun, (tx) => tx.updateMany(gun, updates)),
    deleteGun: async (gun, audit) => {
      const deleted = await store.deleteGun(gun, audit);
      if (deleted) await bus.announce({ kind: 'gun', gun, version: 0, deleted: true });
      return deleted;
    },
    onChange: (listener) => {
      const a = bus.subscribe(listener);
      const b = store.onChange(listener);
      return () => {
        a();
        b();
      };
    },
  };
  return bound(store, overrides);
}

/** `target` with some members replaced; its own methods keep `target` as `this` (private fields). */
function bound<T extends object>(target: T, overrides: Partial<T>): T {
  return new Proxy(target, {
    get(t, prop) {
      if (Object.prototype.hasOwnProperty.call(overrides, prop)) return overrides[prop as keyof T];
      const v: unknown = Reflect.get(t, prop, t);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
    },
  });
}

/** The bus of this cluster worker (process.send must exist: the process was forked with IPC). */
export function workerBus(): WorkerBus {
  const send = process.send?.bind(process);
  if (send === undefined) throw new SignetError('INTERNAL', 'a server worker needs the IPC channel of its primary');
  return new WorkerBus(
    (m) => void send(m),
    (h) => process.on('message', h),
  );
}
