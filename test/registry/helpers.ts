/** Shared bits of the registry client tests. */
import { RegistryClient } from '../../src/registry/index.js';

/** Runs `fn` with a RegistryClient made with `opts`, and closes the client afterwards. */
export async function withClient<T>(
  opts: ConstructorParameters<typeof RegistryClient>[0],
  fn: (c: RegistryClient) => Promise<T>,
): Promise<T> {
  const c = new RegistryClient(opts);
  try {
    return await fn(c);
  } finally {
    await c.close();
  }
}
