import { z } from 'zod';

/**
 * `runs/<runId>/chunks/manifest.json`: every chunk Segment wrote, per source file. Loaders fan out
 * over it, and Reconcile checks `rows + rejected` per file against the plan's `rows`.
 */
export const ChunkRefSchema = z.object({
  key: z.string().min(1),
  rows: z.number().int().positive(),
  /** Source line numbers of the first and last row in the chunk (for operators tracing a reject). */
  firstLine: z.number().int().positive(),
  lastLine: z.number().int().positive(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});
export type ChunkRef = z.infer<typeof ChunkRefSchema>;

export const ChunkManifestFileSchema = z.object({
  stem: z.string().min(1),
  /** Source key in the drop bucket. */
  key: z.string().min(1),
  rows: z.number().int().nonnegative(),
  rejected: z.number().int().nonnegative(),
  chunks: z.array(ChunkRefSchema),
});
export type ChunkManifestFile = z.infer<typeof ChunkManifestFileSchema>;

export const ChunkManifestSchema = z.object({
  runId: z.string().min(1),
  chunkSize: z.number().int().min(1).max(20_000),
  files: z.array(ChunkManifestFileSchema),
  totals: z.object({
    rows: z.number().int().nonnegative(),
    rejected: z.number().int().nonnegative(),
    chunks: z.number().int().nonnegative(),
  }),
});
export type ChunkManifest = z.infer<typeof ChunkManifestSchema>;

/** Segment's manifest of a run: every file's chunks, and the totals Prepare and the reconciliation check. */
export function chunkManifestOf(
  runId: string,
  chunkSize: number,
  files: readonly ChunkManifestFile[],
): ChunkManifest {
  return ChunkManifestSchema.parse({
    runId,
    chunkSize,
    files,
    totals: {
      rows: files.reduce((sum, f) => sum + f.rows, 0),
      rejected: files.reduce((sum, f) => sum + f.rejected, 0),
      chunks: files.reduce((sum, f) => sum + f.chunks.length, 0),
    },
  });
}

/**
 * One line of a chunk: the source line number and the raw cells keyed by (normalized) header name.
 * No mapping has happened yet; values are exactly what the export held.
 */
export const ChunkRowSchema = z.object({
  line: z.number().int().positive(),
  cells: z.record(z.string(), z.string()),
});
export type ChunkRow = z.infer<typeof ChunkRowSchema>;

// Segment's keys live in run-layout.ts; this name stays here for the tests.
export { segmentRejectsKeyFor } from '../run-layout.ts';
