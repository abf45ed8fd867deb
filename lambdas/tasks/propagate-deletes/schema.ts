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

/**
 * One tick's output — the continuation contract of the delta machine's loop (PropagateDeletes →
 * PropagateDeletesDone → PropagateDeletesWait → PropagateDeletes): `done:false` asks for another tick
 * after `waitSeconds`. Counts so far and the key of `deletes.json` (written by the last tick; ids stay
 * in the work bucket, never in the state).
 */
export const PropagateDeletesOutputSchema = z.object({
  runId: z.string(),
  baseRunId: z.string(),
  propagateDeletes: z.boolean(),
  missing: z.number().int().nonnegative(),
  deleted: z.number().int().nonnegative(),
  preexisting: z.number().int().nonnegative(),
  conflicts: z.number().int().nonnegative(),
  deletesKey: z.string(),
  done: z.boolean(),
  /** Seconds the machine waits before the next tick (0: the token bucket paces the requests). */
  waitSeconds: z.number().int().nonnegative(),
  /** PropagateDeletes invocations so far (all ticks). */
  ticks: z.number().int().positive(),
});
export type PropagateDeletesOutput = z.infer<typeof PropagateDeletesOutputSchema>;
