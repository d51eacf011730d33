/** How a zod failure reads in Signet's errors: zod's report on one line; anything else as it was thrown. */
import { z } from 'zod';

export function schemaError(e: unknown): unknown {
  return e instanceof z.ZodError ? new Error(z.prettifyError(e).replace(/\n/g, '; '), { cause: e }) : e;
}
