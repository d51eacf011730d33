/** A simulated repository, published and served, and a Signet client on it: one test's world. */
import { afterEach } from 'vitest';
import { simClient, type SimClient } from './client.js';
import { SimRepo } from './repo.js';
import { startSimServer, type SimServer } from './server.js';

export interface World {
  repo: SimRepo;
  server: SimServer;
  client: SimClient;
}

export type WorldOptions = Parameters<typeof SimRepo.create>[1] & { gun?: string; setup?: (r: SimRepo) => void };

export interface Worlds {
  /** closers, run last first after each test of the calling file (worlds add theirs) */
  cleanup: Array<() => Promise<void>>;
  /** a repository of `gun` (default: the file's) with `latest` → the file's digest and what `setup` adds */
  world(opts?: WorldOptions): Promise<World>;
}

export function simWorlds(defaults: { gun: string; digest: string }): Worlds {
  const cleanup: Array<() => Promise<void>> = [];
  afterEach(async () => {
    while (cleanup.length > 0) await cleanup.pop()?.();
  });
  async function world(opts: WorldOptions = {}): Promise<World> {
    const gun = opts.gun ?? defaults.gun;
    const repo = await SimRepo.create(gun, opts);
    repo.setTarget('latest', defaults.digest, 528);
    opts.setup?.(repo);
    await repo.publish();
    const server = await startSimServer(repo);
    const client = await simClient(server.url, gun);
    cleanup.push(
      () => server.close(),
      () => client.close(),
    );
    return { repo, server, client };
  }
  return { cleanup, world };
}
