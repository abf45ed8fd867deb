import { z } from 'zod';

/** ResolveOwners' payload: the run, its plan key and the operator's fallback owner (a member's email). */
export const ResolveOwnersInputSchema = z.object({
  runId: z.string().min(1),
  planKey: z.string().min(1),
  fallbackOwnerEmail: z.string().min(1).optional(),
});
export type ResolveOwnersInput = z.infer<typeof ResolveOwnersInputSchema>;

/** Keys and counts only: staff emails stay in owners.json and owners-report.md. */
export const ResolveOwnersOutputSchema = z.object({
  runId: z.string(),
  ownersKey: z.string(),
  reportKey: z.string(),
  entities: z.number().int().nonnegative(),
  distinctEmails: z.number().int().nonnegative(),
  matched: z.number().int().nonnegative(),
  unmatched: z.number().int().nonnegative(),
  fallbackUsed: z.number().int().nonnegative(),
  fallbackOwnerFound: z.boolean(),
});
export type ResolveOwnersOutput = z.infer<typeof ResolveOwnersOutputSchema>;
