import { z } from 'zod';

/** Rollback's input: the run to undo. Everything else comes from that run's ledger and work folder. */
export const RollbackInputSchema = z.looseObject({
  runId: z.string().min(1),
  /** Also remove the custom objects/fields the run created (not supported yet: refused up front). */
  removeSchema: z.boolean().optional(),
});
export type RollbackInput = z.input<typeof RollbackInputSchema>;

/** Why one record could not be rolled back or verified: ids and field names, never values. */
export const RollbackProblemSchema = z.object({
  phase: z.string(),
  entity: z.string(),
  sourceId: z.string(),
  twentyId: z.string(),
  code: z.enum([
    'NO_MAPPED_RECORD',
    'NO_BEFORE_IMAGE',
    'GONE_BEFORE_RESTORE',
    'STILL_PRESENT',
    'NOT_RESTORED',
  ]),
  fields: z.array(z.string()).optional(),
});
export type RollbackProblem = z.infer<typeof RollbackProblemSchema>;

/** `runs/<runId>/rollback.json`: what this rollback invocation did and what the read-back found. */
export const RollbackReportSchema = z.object({
  runId: z.string(),
  status: z.enum(['rolled-back', 'failed']),
  destroyed: z.number().int().nonnegative(),
  restored: z.number().int().nonnegative(),
  alreadyGone: z.number().int().nonnegative(),
  /** Records already undone by an earlier rollback of this run (left alone). */
  skipped: z.number().int().nonnegative(),
  verified: z.boolean(),
  /** Records read back (destroyed ids found gone + restored records equal to their before-image). */
  verifiedRecords: z.number().int().nonnegative(),
  problems: z.array(RollbackProblemSchema),
});
export type RollbackReport = z.infer<typeof RollbackReportSchema>;

/** Counts only (the execution's output). */
export const RollbackOutputSchema = z.object({
  runId: z.string(),
  status: z.enum(['rolled-back', 'failed']),
  destroyed: z.number().int().nonnegative(),
  restored: z.number().int().nonnegative(),
  alreadyGone: z.number().int().nonnegative(),
  skipped: z.number().int().nonnegative(),
  verified: z.boolean(),
  problems: z.number().int().nonnegative(),
  reportKey: z.string(),
});
export type RollbackOutput = z.infer<typeof RollbackOutputSchema>;

export function rollbackReportKey(runId: string): string {
  return `runs/${runId}/rollback.json`;
}
