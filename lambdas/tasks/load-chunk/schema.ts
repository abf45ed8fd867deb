import { z } from 'zod';
import { DEFAULT_MAX_FILE_BYTES } from '../../core/load/attachment.ts';
import { LoadManifestItemSchema } from '../../core/load/format.ts';

/**
 * One Distributed Map item (`{runId, phase, entity, key, records}` from the phase manifest) plus
 * what the ASL ItemSelector adds from the execution input: the id-map namespace (`sourceInstance`)
 * and the run's options (the operator's batch bound).
 */
export const LoadChunkInputSchema = LoadManifestItemSchema.extend({
  sourceInstance: z.string().min(1),
  /** Records per Twenty batch request; the client's own cap (60 by default) applies when absent. */
  batchMax: z.number().int().min(1).max(1000).optional(),
  maxFileBytes: z.number().int().positive().default(DEFAULT_MAX_FILE_BYTES),
  /** The run's options as the ASL passes them (`$.options`): `batchMax` bounds the batch when the item sets none. */
  options: z
    .object({
      batchMax: z.number().int().min(1).max(1000).optional(),
      /** Overwrite records edited or deleted in Twenty since Ferry's last write (`ferry run --force`). */
      force: z.boolean().optional(),
    })
    .optional(),
});
export type LoadChunkInput = z.input<typeof LoadChunkInputSchema>;

/** Counts only (the chunk's so far): the ASL loop reads `done` and `waitSeconds`. */
export const LoadChunkOutputSchema = z.object({
  key: z.string(),
  /** False: the tick's deadline came first; the ASL waits `waitSeconds` and calls LoadChunk again. */
  done: z.boolean(),
  /** Records of the chunk finished so far (the saved progress is the truth; this is for the state). */
  cursor: z.number().int().nonnegative(),
  waitSeconds: z.number().int().nonnegative(),
  created: z.number().int().nonnegative(),
  updated: z.number().int().nonnegative(),
  unchanged: z.number().int().nonnegative(),
  rejected: z.number().int().nonnegative(),
});
export type LoadChunkOutput = z.infer<typeof LoadChunkOutputSchema>;
