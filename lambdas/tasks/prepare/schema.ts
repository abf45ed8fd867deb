import { z } from 'zod';
import { LoadPhaseSchema } from '../../core/load/format.ts';

/** Mapped records per load chunk: small enough for one LoadChunk Lambda under a tight rate limit. */
export const DEFAULT_LOAD_CHUNK_SIZE = 1_000;
export const MAX_LOAD_CHUNK_SIZE = 20_000;

export const PrepareInputSchema = z.object({
  runId: z.string().min(1),
  planKey: z.string().min(1),
  chunkSize: z.number().int().min(1).max(MAX_LOAD_CHUNK_SIZE).default(DEFAULT_LOAD_CHUNK_SIZE),
  /**
   * Seeds every deterministic id. Default: the plan's `sourceInstance` (ferry.json `instance`), else
   * the drop folder name. LoadChunk must use the same value for the id map.
   */
  sourceInstance: z.string().min(1).optional(),
  /** Attachments larger than this are rejected FILE_TOO_LARGE here (LoadChunk re-checks the real size). */
  maxFileBytes: z.number().int().positive().optional(),
});
export type PrepareInput = z.input<typeof PrepareInputSchema>;

export const PreparedPhaseSchema = z.object({
  phase: LoadPhaseSchema,
  /** The Distributed Map's ItemReader input: a JSON array of load-manifest items. */
  manifestKey: z.string(),
  chunks: z.number().int().nonnegative(),
  records: z.number().int().nonnegative(),
});
export type PreparedPhase = z.infer<typeof PreparedPhaseSchema>;

/** Ids, keys and counts only (a Step Functions payload). */
export const PrepareOutputSchema = z.object({
  runId: z.string(),
  sourceInstance: z.string(),
  /**
   * In load order. A phase whose entities reference each other (or themselves) is split into
   * several consecutive entries ("waves"): every record's foreign keys point at rows of earlier
   * entries, so chunks of one entry may load concurrently.
   */
  phases: z.array(PreparedPhaseSchema),
  mapped: z.number().int().nonnegative(),
  rejected: z.number().int().nonnegative(),
  skipped: z.number().int().nonnegative(),
  statsKey: z.string(),
  rejectsKey: z.string(),
});
export type PrepareOutput = z.infer<typeof PrepareOutputSchema>;
