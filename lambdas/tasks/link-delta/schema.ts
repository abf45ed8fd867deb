import { z } from 'zod';

/**
 * LinkDelta's input: the delta execution's run id, its drop folder and its options. The base run is
 * `options.baseRunId` (`ferry delta --run`); a scheduled delta names none and follows the newest run
 * of the folder above its own (`drop/<folder>/delta-<n>/` → `drop/<folder>/`).
 */
export const LinkDeltaInputSchema = z.object({
  runId: z.string().min(1),
  folder: z.string().regex(/^drop\/[^/]/, 'folder must start with drop/'),
  options: z
    .looseObject({
      baseRunId: z.string().min(1).optional(),
      instance: z.string().min(1).optional(),
      propagateDeletes: z.boolean().optional(),
    })
    .default({}),
});
export type LinkDeltaInput = z.input<typeof LinkDeltaInputSchema>;

/**
 * The execution's options again, with the base run and its source instance set: the state's
 * ResultPath is `$.options`, so Inventory, LoadChunk and PropagateDeletes read them from there.
 */
export const LinkDeltaOutputSchema = z.looseObject({
  baseRunId: z.string(),
  instance: z.string(),
  propagateDeletes: z.boolean(),
});
export type LinkDeltaOutput = z.infer<typeof LinkDeltaOutputSchema>;
