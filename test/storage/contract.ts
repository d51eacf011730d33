// The MetaStore contract (src/storage/types.ts), run against every backend with the same cases.
import { describe } from 'vitest';
import { storeContext, type StoreFixture } from './contract-helpers.js';
import { deleteGunContract, metadataRowsContract } from './contract-meta.js';
import { withGunContract } from './contract-tx.js';
import { changefeedContract } from './contract-changefeed.js';
import { serverKeysContract } from './contract-keys.js';
import { modelContract } from './contract-model.js';
import { lifecycleContract } from './contract-lifecycle.js';

export type { StoreFixture } from './contract-helpers.js';

/** The whole MetaStore contract for one backend, its parts in contract-*.ts. */
export function storeContract(name: string, makeFixture: () => Promise<StoreFixture>): void {
  const c = storeContext(makeFixture);
  describe(`${name}: MetaStore contract`, () => {
    metadataRowsContract(c);
    withGunContract(c);
    deleteGunContract(c);
    changefeedContract(c);
    serverKeysContract(c);
    modelContract(c);
    lifecycleContract(c);
  });
}
