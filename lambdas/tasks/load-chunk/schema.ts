import { z } from 'zod';
import { DEFAULT_MAX_FILE_BYTES } from '../../core/load/attachment.ts';
import { LoadManifestItemSchema } from '../../core/load/format.ts';

/**
 * One Distributed Map item (`{runId, phase, entity, key, records}` from the phase manifest) plus
 * what the ASL ItemSelector adds from the execution input: the id-map namespace (`sourceInstance`)
 * and the operator's limits.
 */
export const LoadChunkInputSchema = LoadManifestItemSchema.extend({
  sourceInstance: z.string().min(1),
  /** Records per Twenty batch request; the client's own cap (60 by default) applies when absent. */
  batchMax: z.number().int().min(1).max(1000).optional(),
  maxFileBytes: z.number().int().positive().default(DEFAULT_MAX_FILE_BYTES),
});
export type LoadChunkInput = z.input<typeof LoadChunkInputSchema>;

/** Counts only: the Distributed Map collects one of these per chunk. */
export const LoadChunkOutputSchema = z.object({
  key: z.string(),
  created: z.number().int().nonnegative(),
  updated: z.number().int().nonnegative(),
  unchanged: z.number().int().nonnegative(),
  rejected: z.number().int().nonnegative(),
});
export type LoadChunkOutput = z.infer<typeof LoadChunkOutputSchema>;
