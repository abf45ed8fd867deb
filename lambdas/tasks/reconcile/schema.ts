import { z } from 'zod';

/** Reconcile reads everything from the run's folder in the work bucket; the input is the run id. */
export const ReconcileInputSchema = z.looseObject({
  runId: z.string().min(1),
});
export type ReconcileInput = z.input<typeof ReconcileInputSchema>;

/** Counts and keys only (the execution's final output; the CLI prints the table from the file). */
export const ReconcileOutputSchema = z.object({
  runId: z.string(),
  status: z.enum(['succeeded', 'failed']),
  balanced: z.boolean(),
  entities: z.number().int().nonnegative(),
  sourceRows: z.number().int().nonnegative(),
  loaded: z.number().int().nonnegative(),
  created: z.number().int().nonnegative(),
  updated: z.number().int().nonnegative(),
  unchanged: z.number().int().nonnegative(),
  rejected: z.number().int().nonnegative(),
  skipped: z.number().int().nonnegative(),
  verified: z.number().int().nonnegative(),
  missing: z.number().int().nonnegative(),
  reconciliationKey: z.string(),
  rejectsKey: z.string(),
  workflowsKey: z.string().optional(),
});
export type ReconcileOutput = z.infer<typeof ReconcileOutputSchema>;
