import { z } from 'zod';
import { ValidationError } from '../../core/errors.ts';
import type { IdMapRow } from '../../core/ledger/entry.ts';
import { readBeforeImages } from '../../core/load/before-images.ts';
import { parseNdjson } from '../../core/load/decide.ts';
import {
  type ChunkLoadStats,
  ChunkLoadStatsSchema,
  type LoadPhase,
  type MappedLine,
  MappedLineSchema,
  type RejectLine,
} from '../../core/load/format.ts';
import { type IntentOps, readIntent, saveIntent } from '../../core/load/intent.ts';
import { recordWrites } from '../../core/load/ledger-rows.ts';
import { type Pending, planWrites, sliceExtent } from '../../core/load/plan-writes.ts';
import {
  addSlice,
  chunkStats,
  type Progress,
  readProgress,
  type SliceResult,
  tickCounters,
} from '../../core/load/progress.ts';
import { sliceRejects } from '../../core/load/rejects.ts';
import { uploadAttachments } from '../../core/load/upload-attachments.ts';
import { writeRecords } from '../../core/load/write-records.ts';
import { type DeferredTarget, deferTargets, flushTargets } from '../../core/load/write-targets.ts';
import {
  loadIntentKey,
  loadProgressKey,
  loadRejectsKey,
  loadStatsKey,
  readArtifactIfPresent,
} from '../../core/run-layout.ts';
import type { Ledger } from '../../ports/ledger.ts';
import type { ObjectStore } from '../../ports/object-store.ts';
import type { TwentyApi, TwentyClientStats } from '../../ports/twenty.ts';
import type { TaskDeps } from '../deps.ts';
import type { LoadChunkInputSchema, LoadChunkOutput } from './schema.ts';

type Input = z.infer<typeof LoadChunkInputSchema>;

/** Records per slice when the client does not say its cap: Twenty's QUERY_MAX_RECORDS. */
const DEFAULT_BATCH_CAP = 200;

/**
 * Reads and validates one mapped chunk. A line that breaks the format is a Prepare bug (or a chunk
 * tampered with), not bad source data: the chunk fails terminally naming the line, never its content.
 */
async function readChunk(work: ObjectStore, input: Input): Promise<MappedLine[]> {
  const text = await work.getText(input.key);
  const raw = parseNdjson(text, (position) => {
    throw new ValidationError(`load chunk ${input.key} line ${position}: not JSON`);
  });
  const lines = raw.map((value, index) => {
    const parsed = MappedLineSchema.safeParse(value);
    if (!parsed.success) {
      const fields = [...new Set(parsed.error.issues.map((i) => i.path.join('.') || '(line)'))].join(', ');
      throw new ValidationError(`load chunk ${input.key} record ${index + 1}: invalid ${fields}`);
    }
    return parsed.data;
  });
  if (lines.length !== input.records) {
    throw new ValidationError(
      `load chunk ${input.key} holds ${lines.length} records where the phase manifest says ${input.records}`,
    );
  }
  return lines;
}

function sumOf(counts: Readonly<Record<string, number>>): number {
  return Object.values(counts).reduce((sum, n) => sum + n, 0);
}

function outputOf(stats: ChunkLoadStats, done: boolean, waitSeconds: number): LoadChunkOutput {
  return {
    key: stats.key,
    done,
    cursor: stats.created + stats.updated + stats.unchanged + sumOf(stats.rejected),
    waitSeconds,
    created: stats.created,
    updated: stats.updated,
    unchanged: stats.unchanged,
    rejected: sumOf(stats.rejected),
  };
}

/**
 * Writes the records of one slice of a chunk (at most a batch of records to send) to Twenty. Per
 * record, the id map decides: same content hash → unchanged (nothing sent); other hash or a
 * pre-existing Twenty record matched by email/domain → its current state is read and kept in the
 * ledger as a before-image, then upserted; otherwise created. Upserts carry Ferry's deterministic
 * ids, so a retried slice rewrites the same rows. Steps: plan from the id map and the saved intent
 * ({@link planWrites}), before-images and the conflict check ({@link readBeforeImages}), the intent
 * saved before the first write if a retry could decide otherwise ({@link needsWriteAhead}),
 * attachments' files before their records ({@link uploadAttachments}), the records ({@link writeRecords}), the intent again with the records Twenty accepted (a retry
 * records those instead of sending them again), then the ledger and id map ({@link recordWrites}).
 * The task/note
 * targets of the parents that are written join those waiting from earlier slices
 * ({@link deferTargets}); {@link sendTargets} sends them once the slice's progress is saved. The
 * parents an interrupted attempt already wrote give their targets again: the waiting ones are only
 * saved with the progress, after the ledger rows.
 */
async function writeSlice(
  input: Input,
  slice: Slice,
  waiting: readonly DeferredTarget[],
  twenty: TwentyApi,
  ledger: Ledger,
  deps: TaskDeps,
): Promise<SliceResult> {
  const phase: LoadPhase = input.phase;
  const { idMap, earlier, intentKey } = slice;
  const rejects = sliceRejects(input.key, input.entity);
  const plan = planWrites(slice.lines, idMap, earlier, input.runId);
  const force = input.options?.force === true;
  const accepted = plan.pending.filter((item) => item.accepted);
  const toSend = plan.pending.filter((item) => !item.accepted);
  const pending = await readBeforeImages(twenty, toSend, idMap, force, rejects);
  const save = () => saveIntent(deps.work, intentKey, input.runId, [...accepted, ...pending]);
  if (pending.some(needsWriteAhead)) await save();
  const sendable = await uploadAttachments(pending, {
    twenty,
    drop: deps.drop,
    work: deps.work,
    maxFileBytes: input.maxFileBytes,
    saveIntent: save,
    rejects,
  });
  const sent = await writeRecords(twenty, sendable, input.batchMax, rejects);
  for (const item of sent) item.accepted = true;
  if (sent.length > 0) await save();
  const written = plan.pending.filter((item) => item.accepted);
  await recordWrites(ledger, written, {
    runId: input.runId,
    phase,
    sourceInstance: input.sourceInstance,
    entity: input.entity,
    at: new Date(deps.clock.now()).toISOString(),
  });
  const lineOf = new Map(slice.lines.map((line, i) => [line, slice.start + i]));
  return {
    written: [
      ...written.map((item) => ({ line: lineOf.get(item.line) as number, op: item.op })),
      ...plan.already.map((item) => ({ line: lineOf.get(item.line) as number, op: item.op })),
    ],
    unchanged: plan.unchanged,
    rejected: rejects.rejected,
    rejects: rejects.rejects,
    targetsWritten: 0,
    targetsRejected: 0,
    deferredTargets: deferTargets(waiting, [...written, ...plan.already]),
  };
}

/**
 * Whether a record's decision must be saved before it is sent: an update (its before-image, read
 * from Twenty now, would read back Ferry's own write on a retry), a record whose decision depended
 * on reading Twenty (a merge target found gone becomes `created`; a retry would find Ferry's record
 * there and call it an update), or an attachment's upload. A record decided `created` from the id map
 * alone is decided the same way again by a retry that finds no intent (no id map row is written
 * before the intent), and its upsert on the same id rewrites the same row; the intent saved after
 * Twenty's answer still marks it accepted before its ledger row.
 */
function needsWriteAhead(item: Pending): boolean {
  return item.op !== 'created' || item.needsImage === true || item.upload !== undefined;
}

/**
 * Sends the waiting targets that fill a batch of their object — all of them once the chunk's last
 * slice is written (`all`) — ({@link flushTargets}). It runs after the slice's progress is saved, so
 * a process killed while the targets wait for a token re-sends no records when it resumes; the
 * targets themselves are upserts on deterministic ids. `undefined` when nothing was due.
 */
async function sendTargets(
  input: Input,
  waiting: readonly DeferredTarget[],
  size: number,
  all: boolean,
  twenty: TwentyApi,
): Promise<SliceResult | undefined> {
  const rejects = sliceRejects(input.key, input.entity);
  const targets = await flushTargets(twenty, waiting, size, all, rejects);
  if (targets.waiting.length === waiting.length) return undefined;
  return {
    written: [],
    unchanged: 0,
    rejected: rejects.rejected,
    rejects: rejects.rejects,
    targetsWritten: targets.written,
    targetsRejected: targets.rejected,
    deferredTargets: targets.waiting,
  };
}

/** A slice's lines with what was read to cut it: their id map rows and the slice's intent. */
interface Slice {
  /** The first line's number in the chunk. */
  readonly start: number;
  readonly lines: readonly MappedLine[];
  readonly idMap: ReadonlyMap<string, IdMapRow>;
  readonly earlier: IntentOps;
  readonly intentKey: string;
}

/**
 * Lines one slice may span, in batches: a chunk of records mostly written already (a re-run, a
 * delta) still saves its progress every few thousand lines instead of scanning it all in one slice.
 */
const MAX_SLICE_BATCHES_OF_LINES = 10;

/**
 * The slice starting at `start`: lines up to the `size`-th record to send ({@link sliceExtent}), so
 * its batch is full even where records already written (the sample's) sit among them. The id map is
 * read a window of `size` lines at a time until the batch is filled, the chunk ends or the slice
 * spans {@link MAX_SLICE_BATCHES_OF_LINES} batches of lines; the cut depends only on `start`, the id
 * map and the slice's intent, so a retried slice is cut where its interrupted attempt was. The intent
 * is read only when `resumed` (the tick's first slice); any later slice of a tick has none.
 * `firstWindow`: the id map rows of the first window ({@link readWindow}), read ahead by the caller.
 */
async function nextSlice(
  input: Input,
  lines: readonly MappedLine[],
  start: number,
  size: number,
  ledger: Ledger,
  work: ObjectStore,
  resumed: boolean,
  firstWindow?: Promise<Map<string, IdMapRow>>,
): Promise<Slice> {
  const intentKey = loadIntentKey(input.runId, input.phase, input.entity, input.key, start);
  const earlier: IntentOps = resumed ? await readIntent(work, intentKey, input.runId) : new Map();
  const idMap = new Map<string, IdMapRow>();
  let end = start;
  let sent = 0;
  const stop = sliceStop(lines, start, size);
  while (end < stop && sent < size) {
    const window = lines.slice(end, Math.min(stop, end + size));
    const rows =
      end === start && firstWindow !== undefined
        ? await firstWindow
        : await readWindow(input, lines, end, stop, size, ledger);
    for (const [sourceId, row] of rows) idMap.set(sourceId, row);
    const cut = sliceExtent(window, idMap, earlier, input.runId, size - sent);
    end += cut.taken;
    sent += cut.sent;
  }
  return { start, lines: lines.slice(start, end), idMap, earlier, intentKey };
}

/** Where a slice starting at `start` ends at the latest. */
function sliceStop(lines: readonly MappedLine[], start: number, size: number): number {
  return Math.min(lines.length, start + size * MAX_SLICE_BATCHES_OF_LINES);
}

/** The id map rows of the window of `size` lines from `from` (not past `stop`). */
function readWindow(
  input: Input,
  lines: readonly MappedLine[],
  from: number,
  stop: number,
  size: number,
  ledger: Ledger,
): Promise<Map<string, IdMapRow>> {
  const window = lines.slice(from, Math.min(stop, from + size));
  return ledger.getIdMap(
    input.sourceInstance,
    input.entity,
    window.map((line) => line.sourceId),
  );
}

/** Records per slice: one batch at the workspace's cap, so a slice costs a few requests at most. */
function sliceSize(input: Input, twenty: TwentyApi): number {
  const bound = input.batchMax ?? input.options?.batchMax ?? Number.POSITIVE_INFINITY;
  return Math.max(1, Math.min(bound, twenty.batchMax ?? DEFAULT_BATCH_CAP));
}

/** The chunk's saved stats if this run finished it already (the "chunk done" marker). */
async function readDoneStats(
  work: ObjectStore,
  statsKey: string,
  runId: string,
): Promise<ChunkLoadStats | undefined> {
  const stored = await readArtifactIfPresent(work, statsKey, z.unknown());
  if (stored === undefined) return undefined;
  const done = ChunkLoadStatsSchema.safeParse(stored);
  return done.success && done.data.runId === runId ? done.data : undefined;
}

/**
 * Writes slice after slice ({@link writeSlice}, then {@link sendTargets}) from the progress's cursor
 * until the chunk is done or the deadline has passed, adding each step and the client's requests and
 * throttles since `start` to the progress and saving it after each step. Returns the client's stats
 * after the last, and how many times the progress was saved.
 */
async function writeSlices(
  input: Input,
  lines: readonly MappedLine[],
  progress: Progress,
  progressKey: string,
  start: TwentyClientStats,
  twenty: TwentyApi,
  ledger: Ledger,
  deps: TaskDeps,
): Promise<{ seen: TwentyClientStats; saves: number }> {
  const size = sliceSize(input, twenty);
  const deadline = deps.deadlineAt ?? Number.POSITIVE_INFINITY;
  let seen = start;
  let saves = 0;
  const save = async (result: SliceResult, records: number) => {
    saves++;
    addSlice(progress, result, records);
    const now = twenty.stats();
    progress.requests += Math.max(0, now.requests - seen.requests);
    progress.throttled += Math.max(0, now.throttled - seen.throttled);
    seen = now;
    await deps.work.put(progressKey, JSON.stringify(progress), 'application/json');
  };
  // Only the tick's first slice can have an earlier attempt's intent: the progress is saved after
  // every slice, so an attempt that died did so in the slice at the saved cursor, where the next
  // tick starts. The slices after it were never begun, and reading their intent is a wasted request.
  let resumed = true;
  let ahead: Promise<Map<string, IdMapRow>> | undefined;
  // At least one slice per tick, so every tick moves the cursor even when the deadline has passed.
  // A cursor already at the end (killed before the last targets went out) only sends those.
  do {
    if (progress.cursor < lines.length) {
      const slice = await nextSlice(input, lines, progress.cursor, size, ledger, deps.work, resumed, ahead);
      resumed = false;
      ahead = undefined;
      const result = await writeSlice(input, slice, progress.deferredTargets, twenty, ledger, deps);
      // The next slice's first id map window is read while this one's progress (and any targets due)
      // is saved: a read, after this slice's id map rows are written, so it sees what a read after
      // the save would. A tick that stops here (deadline) drops it.
      const next = progress.cursor + slice.lines.length;
      if (next < lines.length && deps.clock.now() < deadline) {
        ahead = readWindow(input, lines, next, sliceStop(lines, next, size), size, ledger);
        // Its failure surfaces where it is awaited (the next slice), never as an unhandled rejection.
        ahead.catch(() => undefined);
      }
      await save(result, slice.lines.length);
    }
    const all = progress.cursor >= lines.length;
    const targets = await sendTargets(input, progress.deferredTargets, size, all, twenty);
    if (targets !== undefined) await save(targets, 0);
  } while (progress.cursor < lines.length && deps.clock.now() < deadline);
  return { seen, saves };
}

/** A finished chunk: its rejects (if any), then its stats file, the "chunk done" marker. */
async function saveChunkDone(
  work: ObjectStore,
  input: Input,
  rejects: readonly RejectLine[],
  statsKey: string,
  stats: ChunkLoadStats,
): Promise<void> {
  if (rejects.length > 0) {
    const body = `${rejects.map((line) => JSON.stringify(line)).join('\n')}\n`;
    await work.put(
      loadRejectsKey(input.runId, input.phase, input.entity, input.key),
      body,
      'application/x-ndjson',
    );
  }
  await work.put(statsKey, JSON.stringify(stats), 'application/json');
}

/**
 * LoadChunk: one time-boxed tick over one mapped chunk. It writes slice after slice (see
 * {@link writeSlice}) until the chunk is done or the invocation's deadline (`deps.deadlineAt`:
 * Lambda's remaining time minus a margin, locally the runner's tick budget) has passed, saving the
 * chunk's progress after each slice. Not done → `{done:false, cursor}` and the ASL waits and calls
 * it again; a tick of a chunk whose progress is saved continues from there, whatever its input says,
 * so an interrupted run resumes without writing anything twice. Done → the rejects, the stats file
 * (also the "chunk done" marker) and `{done:true}` with the chunk's counts. Every tick adds
 * `phase_<phase>_{records,requests,throttled,ticks}` and the outcome counters of the records it
 * finished to the run record (live progress).
 */
export async function loadChunk(input: Input, deps: TaskDeps): Promise<LoadChunkOutput> {
  const ledger = deps.ledger;
  const phase: LoadPhase = input.phase;
  const statsKey = loadStatsKey(input.runId, phase, input.entity, input.key);
  const finished = await readDoneStats(deps.work, statsKey, input.runId);
  if (finished !== undefined) return outputOf(finished, true, 0);
  const twenty = await deps.twenty();
  const lines = await readChunk(deps.work, input);
  const progressKey = loadProgressKey(input.runId, phase, input.entity, input.key);
  const progress = await readProgress(deps.work, progressKey, input.runId);
  const before = { ...progress, rejected: sumOf(progress.rejected) };
  const tickStats = twenty.stats();
  await twenty.settleBatchCap?.();
  // Counted as begun, so the slices' saves carry it; a tick that saved nothing saves it alone.
  progress.ticks++;
  const { seen, saves } = await writeSlices(
    input,
    lines,
    progress,
    progressKey,
    tickStats,
    twenty,
    ledger,
    deps,
  );
  if (saves === 0) await deps.work.put(progressKey, JSON.stringify(progress), 'application/json');
  const done = progress.cursor >= lines.length;
  const stats = chunkStats(input, lines, progress);
  if (done) await saveChunkDone(deps.work, input, progress.rejects, statsKey, stats);
  await deps.runStore.addCounters(
    input.runId,
    tickCounters(input, progress, before, {
      requests: Math.max(0, seen.requests - tickStats.requests),
      throttled: Math.max(0, seen.throttled - tickStats.throttled),
    }),
  );
  deps.log.info(done ? 'chunk loaded' : 'chunk tick', {
    runId: input.runId,
    phase,
    entity: input.entity,
    records: lines.length,
    cursor: progress.cursor,
    ticks: progress.ticks,
    created: stats.created,
    updated: stats.updated,
    unchanged: stats.unchanged,
    requests: stats.requests,
  });
  // The Wait before the next tick: none while tokens flow; a tick that wrote nothing (the bucket
  // empty for its whole budget) backs off a second instead of spinning.
  const wrote = progress.cursor > before.cursor;
  return outputOf(stats, done, done || wrote ? 0 : 1);
}
