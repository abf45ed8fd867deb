import { z } from 'zod';
import { TotalsSchema } from '../../core/reconcile/report.ts';

/** Reconcile reads everything from the run's folder in the work bucket; the input is the run id. */
export const ReconcileInputSchema = z.looseObject({
  runId: z.string().min(1),
  /** The execution's options; Reconcile reads `tolerance` from them. */
  options: z
    .looseObject({
      /** Mismatched fields allowed before the run fails (`ferry run --tolerance`); default 0. */
      tolerance: z.number().int().nonnegative().default(0),
    })
    .default({ tolerance: 0 }),
});
export type ReconcileInput = z.input<typeof ReconcileInputSchema>;

/**
 * A tick that ran out of time before every loaded record was read back: the state machine waits
 * `waitSeconds` and calls Reconcile again, which continues from the saved read-back position.
 */
export const ReconcileContinuationSchema = z.object({
  runId: z.string(),
  done: z.literal(false),
  waitSeconds: z.number().int().nonnegative(),
});
export type ReconcileContinuation = z.infer<typeof ReconcileContinuationSchema>;

/** Counts and keys only (the execution's final output; the CLI prints the table from the file). */
export const ReconcileOutputSchema = z.object({
  runId: z.string(),
  done: z.literal(true),
  status: z.enum(['succeeded', 'failed']),
  balanced: z.boolean(),
  entities: z.number().int().nonnegative(),
  // The run's totals as reconciliation.json has them (without the warnings count).
  ...TotalsSchema.omit({ warnings: true }).shape,
  verified: z.number().int().nonnegative(),
  missing: z.number().int().nonnegative(),
  mismatches: z.number().int().nonnegative(),
  tolerance: z.number().int().nonnegative(),
  reconciliationKey: z.string(),
  rejectsKey: z.string(),
  workflowsKey: z.string().optional(),
  reportKey: z.string(),
});
export type ReconcileOutput = z.infer<typeof ReconcileOutputSchema>;
