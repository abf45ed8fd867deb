import { z } from 'zod';

/** PropagateDeletes reads the delta's link, chunks and id map; the input is the run and its options. */
export const PropagateDeletesInputSchema = z.object({
  runId: z.string().min(1),
  options: z
    .looseObject({
      /** `ferry delta --propagate-deletes`: hard-delete missing records Ferry created (default: report). */
      propagateDeletes: z.boolean().optional(),
      /** `--force`: delete even records edited or soft-deleted in Twenty since Ferry's last write. */
      force: z.boolean().optional(),
    })
    .default({}),
});
export type PropagateDeletesInput = z.input<typeof PropagateDeletesInputSchema>;

/** Counts and the key of `deletes.json` (ids stay in the work bucket, never in the state). */
export const PropagateDeletesOutputSchema = z.object({
  runId: z.string(),
  baseRunId: z.string(),
  propagateDeletes: z.boolean(),
  missing: z.number().int().nonnegative(),
  deleted: z.number().int().nonnegative(),
  preexisting: z.number().int().nonnegative(),
  conflicts: z.number().int().nonnegative(),
  deletesKey: z.string(),
});
export type PropagateDeletesOutput = z.infer<typeof PropagateDeletesOutputSchema>;
