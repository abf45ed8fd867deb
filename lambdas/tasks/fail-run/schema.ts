import { z } from 'zod';

/**
 * What an ASL Catch hands over: the state's input with the caught error at `error`
 * (`{Error, Cause}`). `Cause` may hold a message with values, so FailRun never reads it.
 */
export const FailRunInputSchema = z.looseObject({
  runId: z.string().min(1),
  /** The drop folder, when the failure came before the run record existed (lock still held). */
  folder: z.string().min(1).optional(),
  error: z.looseObject({ Error: z.string().optional(), Cause: z.unknown().optional() }).optional(),
});
export type FailRunInput = z.input<typeof FailRunInputSchema>;

export const FailRunOutputSchema = z.object({
  runId: z.string(),
  status: z.literal('failed'),
  error: z.string(),
});
export type FailRunOutput = z.infer<typeof FailRunOutputSchema>;
