/** The shape of a proposal file (proposal.ts), checked with zod; kept apart so that zod loads only when one is read. */
import { z } from 'zod';
import { PROPOSAL_FORMAT, type Proposal } from './proposal.js';
import { schemaError } from './schema-error.js';

const proposalSchema = z.object({
  format: z.literal(PROPOSAL_FORMAT),
  gun: z.string().min(1),
  created: z.string(),
  base: z.record(z.string(), z.object({ version: z.number().int(), sha256: z.string() }).nullable()),
  roles: z.array(z.object({ role: z.string(), file: z.string() })).min(1),
  deleted: z.array(z.string()).optional(),
});

/** The parsed JSON as a proposal; throws an Error whose message says what does not fit. */
export function proposalShape(json: unknown): Proposal {
  try {
    return proposalSchema.parse(json) as Proposal;
  } catch (e) {
    throw schemaError(e);
  }
}
