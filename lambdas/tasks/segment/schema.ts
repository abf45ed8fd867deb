import { z } from 'zod';

/** Rows per chunk: default 5,000; never above 20,000 so one chunk stays a small, quick Lambda unit. */
export const DEFAULT_CHUNK_SIZE = 5_000;
export const MAX_CHUNK_SIZE = 20_000;

export const SegmentInputSchema = z.object({
  runId: z.string().min(1),
  planKey: z.string().min(1),
  chunkSize: z.number().int().min(1).max(MAX_CHUNK_SIZE).default(DEFAULT_CHUNK_SIZE),
});
export type SegmentInput = z.input<typeof SegmentInputSchema>;

/** Ids, keys and counts only (a Step Functions payload). */
export const SegmentOutputSchema = z.object({
  runId: z.string(),
  manifestKey: z.string(),
  chunks: z.number().int().nonnegative(),
  rows: z.number().int().nonnegative(),
  rejects: z.number().int().nonnegative(),
});
export type SegmentOutput = z.infer<typeof SegmentOutputSchema>;
