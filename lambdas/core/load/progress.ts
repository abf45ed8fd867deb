import { z } from 'zod';
import type { ObjectStore } from '../../ports/object-store.ts';
import { isSampleChunkKey, readArtifactIfPresent } from '../run-layout.ts';
import type { ChunkLoadStats, LoadPhase, MappedLine, RejectLine } from './format.ts';
import { type DeferredTarget, DeferredTargetSchema } from './write-targets.ts';

/**
 * A chunk's progress between ticks, saved after every slice: where the next tick starts and what
 * the finished slices did. Lives in the work bucket (it names source ids and rejects, no values),
 * so any process — a later Lambda invocation, a resumed local run — continues where the last stopped.
 * The records written are kept as ranges of the chunk's line numbers (`writtenLines`), not their
 * ids: the file is rewritten after every slice, and a list of ids made it grow with the chunk, so
 * a chunk's puts grew with the square of its length. `writtenIds` is what a progress saved by an
 * earlier version holds (read, never added to).
 */
const ProgressSchema = z.object({
  runId: z.string(),
  cursor: z.number().int().nonnegative(),
  ticks: z.number().int().nonnegative(),
  created: z.number().int().nonnegative(),
  updated: z.number().int().nonnegative(),
  unchanged: z.number().int().nonnegative(),
  rejected: z.record(z.string(), z.number().int().nonnegative()),
  rejects: z.array(z.custom<RejectLine>((value) => typeof value === 'object' && value !== null)),
  targets: z.object({ written: z.number().int().nonnegative(), rejected: z.number().int().nonnegative() }),
  requests: z.number().int().nonnegative(),
  throttled: z.number().int().nonnegative(),
  writtenIds: z.array(z.string()).default([]),
  /** The written records' line numbers (0-based) in the chunk: `[from, to)` ranges, in slice order. */
  writtenLines: z.array(z.tuple([z.number().int().nonnegative(), z.number().int().positive()])).default([]),
  /** Targets of written parents still to be sent ({@link DeferredTarget}). */
  deferredTargets: z.array(DeferredTargetSchema).default([]),
});
export type Progress = z.infer<typeof ProgressSchema>;

/** The progress this run saved under `key`; a fresh one (cursor 0) if absent or another run's. */
export async function readProgress(work: ObjectStore, key: string, runId: string): Promise<Progress> {
  const stored = await readArtifactIfPresent(work, key, z.unknown());
  if (stored !== undefined) {
    const parsed = ProgressSchema.safeParse(stored);
    if (parsed.success && parsed.data.runId === runId) return parsed.data;
  }
  return {
    runId,
    cursor: 0,
    ticks: 0,
    created: 0,
    updated: 0,
    unchanged: 0,
    rejected: {},
    rejects: [],
    targets: { written: 0, rejected: 0 },
    requests: 0,
    throttled: 0,
    writtenIds: [],
    writtenLines: [],
    deferredTargets: [],
  };
}

/** What one slice of a chunk did: the parts of `ChunkLoadStats` that add up across slices. */
export interface SliceResult {
  /** The records written, by their line number (0-based) in the chunk. */
  readonly written: readonly { readonly line: number; readonly op: 'created' | 'updated' }[];
  readonly unchanged: number;
  readonly rejected: Record<string, number>;
  readonly rejects: RejectLine[];
  readonly targetsWritten: number;
  readonly targetsRejected: number;
  /** The targets still waiting after this slice (they replace the progress's). */
  readonly deferredTargets: readonly DeferredTarget[];
}

/** Adds a finished slice of `records` records to the progress and moves its cursor past them. */
export function addSlice(progress: Progress, result: SliceResult, records: number): void {
  for (const item of result.written) {
    if (item.op === 'created') progress.created++;
    else progress.updated++;
  }
  for (const line of result.written.map((item) => item.line).sort((a, b) => a - b)) {
    const last = progress.writtenLines.at(-1);
    if (last !== undefined && last[1] === line) last[1] = line + 1;
    else progress.writtenLines.push([line, line + 1]);
  }
  progress.unchanged += result.unchanged;
  for (const [reason, n] of Object.entries(result.rejected))
    progress.rejected[reason] = (progress.rejected[reason] ?? 0) + n;
  progress.rejects.push(...result.rejects);
  progress.targets.written += result.targetsWritten;
  progress.targets.rejected += result.targetsRejected;
  progress.deferredTargets = [...result.deferredTargets];
  progress.cursor += records;
}

/** Which chunk a progress belongs to: the run, phase, entity and the chunk's key. */
export interface ChunkRef {
  readonly runId: string;
  readonly phase: LoadPhase;
  readonly entity: string;
  readonly key: string;
}

/** The chunk's stats (also its "chunk done" marker once saved) from its progress so far. */
export function chunkStats(
  chunk: ChunkRef,
  lines: readonly MappedLine[],
  progress: Progress,
): ChunkLoadStats {
  return {
    runId: chunk.runId,
    phase: chunk.phase,
    entity: chunk.entity,
    object: lines[0]?.object ?? '',
    key: chunk.key,
    records: lines.length,
    created: progress.created,
    updated: progress.updated,
    unchanged: progress.unchanged,
    rejected: progress.rejected,
    targets: progress.targets,
    requests: progress.requests,
    throttled: progress.throttled,
    writtenIds: [
      ...progress.writtenIds,
      ...progress.writtenLines.flatMap(([from, to]) => lines.slice(from, to).map((line) => line.id)),
    ],
  };
}

/** The progress counts at the start of a tick, rejects summed. */
export interface ProgressMark {
  readonly cursor: number;
  readonly created: number;
  readonly updated: number;
  readonly unchanged: number;
  readonly rejected: number;
}

/**
 * The run record counters one tick adds: the outcomes of the records it finished and
 * `phase_<phase>_{records,requests,throttled,ticks}`; `requests` and `throttled` are the tick's own.
 * Writes count as writes; the sample load's progress and rejects are its own (`sample_…`): the full
 * load's phase progress counts the full load, and meets the sample's refused records again.
 */
export function tickCounters(
  chunk: ChunkRef,
  progress: Progress,
  before: ProgressMark,
  tick: { readonly requests: number; readonly throttled: number },
): Record<string, number> {
  const { phase } = chunk;
  const rejectedNow = Object.values(progress.rejected).reduce((sum, n) => sum + n, 0);
  const prefix = isSampleChunkKey(chunk.key) ? 'sample_' : '';
  return {
    created: progress.created - before.created,
    updated: progress.updated - before.updated,
    [`${prefix}unchanged`]: progress.unchanged - before.unchanged,
    [`${prefix}loadRejected`]: rejectedNow - before.rejected,
    [`${prefix}phase_${phase}_records`]: progress.cursor - before.cursor,
    [`${prefix}phase_${phase}_requests`]: tick.requests,
    [`${prefix}phase_${phase}_throttled`]: tick.throttled,
    [`${prefix}phase_${phase}_ticks`]: 1,
  };
}
