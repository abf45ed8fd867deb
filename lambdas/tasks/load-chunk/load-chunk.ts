import { z } from 'zod';
import { NotFoundError, ValidationError } from '../../core/errors.ts';
import { chunked, type IdMapRow, type LedgerEntry } from '../../core/ledger/entry.ts';
import { fileColumns, UploadedFileSchema } from '../../core/load/attachment.ts';
import { bump, decideLoad, parseNdjson, reasonField } from '../../core/load/decide.ts';
import {
  type ChunkLoadStats,
  ChunkLoadStatsSchema,
  type LoadPhase,
  type MappedLine,
  MappedLineSchema,
  type RejectLine,
} from '../../core/load/format.ts';
import {
  isSampleChunkKey,
  loadIntentKey,
  loadProgressKey,
  loadRejectsKey,
  loadStatsKey,
  readArtifactIfPresent,
} from '../../core/run-layout.ts';
import type { Ledger } from '../../ports/ledger.ts';
import type { ObjectStore } from '../../ports/object-store.ts';
import type { TwentyApi, TwentyRecord, UploadedFile } from '../../ports/twenty.ts';
import { TwentyRejectedError } from '../../twenty/transport.ts';
import { requireDep, type TaskDeps } from '../deps.ts';
import type { LoadChunkInputSchema, LoadChunkOutput } from './schema.ts';

type Input = z.infer<typeof LoadChunkInputSchema>;

/** Ids per `id[in]:[…]` read: one Twenty page, so one request per batch of records. */
const READ_PAGE = 60;

/** Records per slice when the client does not say its cap: Twenty's QUERY_MAX_RECORDS. */
const DEFAULT_BATCH_CAP = 200;

/** A record that is written in this invocation, with what the ledger needs about it. */
interface Pending {
  readonly line: MappedLine;
  op: 'created' | 'updated';
  beforeImage?: Record<string, unknown>;
  /** Decided `updated` now (not by an earlier attempt): its before-image is still to be read. */
  needsImage?: boolean;
  fileColumns?: Record<string, unknown>;
  /** The file this record's attachment points at, once uploaded (by this or an earlier attempt). */
  upload?: UploadedFile;
}

/** A record an earlier attempt of this very chunk already wrote (id map row of this run). */
interface AlreadyWritten {
  readonly line: MappedLine;
  readonly op: 'created' | 'updated';
}

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

/**
 * The Twenty records as they are now, for ids Ferry is about to overwrite: one `id[in]` read per
 * page of ids. Ids Twenty does not have are absent from the result.
 */
async function beforeImages(
  twenty: TwentyApi,
  object: string,
  ids: readonly string[],
): Promise<Map<string, Record<string, unknown>>> {
  const images = new Map<string, Record<string, unknown>>();
  for (const page of chunked(ids, READ_PAGE)) {
    for await (const record of twenty.findMany(object, {
      filter: { field: 'id', op: 'in', value: page },
      limit: READ_PAGE,
    })) {
      images.set(record.id, record);
    }
  }
  return images;
}

/**
 * How far Twenty's clock may run ahead of Ferry's before an `updatedAt` counts as a later edit
 * (Ferry records `writtenAt` after Twenty answered, so with synced clocks `updatedAt` is earlier).
 */
const CLOCK_SKEW_MS = 5_000;

/**
 * Whether overwriting a record Ferry wrote before would undo the practice's own work in Twenty: it
 * was edited there after Ferry's last write (`updatedAt` later than the id map's `writtenAt`), or
 * deleted there (a soft-deleted row is not returned; an upsert would revive it). Rows without
 * `writtenAt` (written before Ferry recorded it) and pre-existing records Ferry never wrote are not
 * conflicts. `--force` overwrites anyway.
 */
function conflictOf(
  row: IdMapRow | undefined,
  image: Record<string, unknown> | undefined,
): { reason: string; rule: string } | undefined {
  if (row?.writtenAt === undefined) return undefined;
  if (image === undefined)
    return {
      reason: 'CONFLICT_DELETED_IN_TWENTY',
      rule: 'deleted in Twenty after Ferry wrote it; not revived (--force writes it again)',
    };
  const updatedAt = typeof image.updatedAt === 'string' ? Date.parse(image.updatedAt) : Number.NaN;
  const writtenAt = Date.parse(row.writtenAt);
  if (Number.isFinite(updatedAt) && Number.isFinite(writtenAt) && updatedAt > writtenAt + CLOCK_SKEW_MS)
    return {
      reason: 'CONFLICT_EDITED_IN_TWENTY',
      rule: 'edited in Twenty after Ferry last wrote it; left as it is (--force overwrites)',
    };
  return undefined;
}

/**
 * Write-ahead of one chunk's decisions: the op of every record about to be written and the
 * before-image of those being overwritten, saved before the first write to Twenty. A retried
 * attempt re-uses them: re-reading after its own earlier write would store Ferry's data as the
 * "before" image, and a record whose id map the earlier attempt already wrote would count as unchanged.
 * It also records each attachment's upload as soon as Twenty returns it, before the attachment
 * record is created: a retried attempt links the file already uploaded instead of uploading it
 * again, which would leave the first upload as an orphan file in the workspace.
 * It holds before-images (PHI), so it lives in the work bucket like the chunk itself.
 */
const IntentSchema = z.object({
  runId: z.string(),
  ops: z.record(
    z.string(),
    z.object({
      op: z.enum(['created', 'updated']),
      beforeImage: z.record(z.string(), z.unknown()).optional(),
      upload: UploadedFileSchema.optional(),
    }),
  ),
});
type Intent = z.infer<typeof IntentSchema>;

async function readIntent(work: ObjectStore, key: string, runId: string): Promise<Intent['ops']> {
  const stored = await readArtifactIfPresent(work, key, z.unknown());
  if (stored === undefined) return {};
  const parsed = IntentSchema.safeParse(stored);
  return parsed.success && parsed.data.runId === runId ? parsed.data.ops : {};
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

/** What one slice of a chunk did: the parts of {@link ChunkLoadStats} that add up across slices. */
interface SliceResult {
  readonly written: readonly { readonly id: string; readonly op: 'created' | 'updated' }[];
  readonly unchanged: number;
  readonly rejected: Record<string, number>;
  readonly rejects: RejectLine[];
  readonly targetsWritten: number;
  readonly targetsRejected: number;
}

/**
 * Writes one slice of a chunk (at most a batch of records) to Twenty. Per record, the id map
 * decides: same content hash → unchanged (nothing sent); other hash or a pre-existing Twenty record
 * matched by email/domain → its current state is read and kept in the ledger as a before-image,
 * then upserted; otherwise created. Upserts carry Ferry's deterministic ids, so a retried slice
 * rewrites the same rows. Then the task/note targets of the parents that were written,
 * attachments' files before their records, and the ledger and id map.
 */
async function writeSlice(
  input: Input,
  lines: readonly MappedLine[],
  sliceStart: number,
  twenty: TwentyApi,
  ledger: Ledger,
  deps: TaskDeps,
): Promise<SliceResult> {
  const phase: LoadPhase = input.phase;
  const idMap = await ledger.getIdMap(
    input.sourceInstance,
    input.entity,
    lines.map((line) => line.sourceId),
  );

  const rejected: Record<string, number> = {};
  const rejects: RejectLine[] = [];
  const reject = (line: MappedLine, field: string, reason: string, rule: string) => {
    bump(rejected, reason);
    rejects.push({
      file: input.key,
      line: line.line,
      entity: input.entity,
      sourceId: line.sourceId,
      field,
      reason,
      rule,
    });
  };

  const intentKey = loadIntentKey(input.runId, phase, input.entity, input.key, sliceStart);
  const earlier = await readIntent(deps.work, intentKey, input.runId);
  let unchanged = 0;
  const pending: Pending[] = [];
  const already: AlreadyWritten[] = [];
  for (const line of lines) {
    const row = idMap.get(line.sourceId);
    const decision = decideLoad(line, row);
    const before = earlier[line.sourceId];
    if (decision === 'unchanged') {
      // Written by an interrupted attempt of this chunk: report what that attempt did.
      if (row?.runId === input.runId && before !== undefined) already.push({ line, op: before.op });
      else unchanged++;
    } else if (before !== undefined) {
      pending.push({
        line,
        op: before.op,
        ...(before.beforeImage ? { beforeImage: before.beforeImage } : {}),
        ...(before.upload ? { upload: before.upload } : {}),
      });
    } else {
      pending.push({ line, op: decision, needsImage: decision === 'updated' });
    }
  }

  // Before-images: every record about to be overwritten, read once per page of ids.
  const toRead = new Map<string, string[]>();
  for (const item of pending) {
    if (!item.needsImage) continue;
    const ids = toRead.get(item.line.object) ?? [];
    ids.push(item.line.id);
    toRead.set(item.line.object, ids);
  }
  const images = new Map<string, Record<string, unknown>>();
  for (const [object, ids] of toRead) {
    for (const [id, image] of await beforeImages(twenty, object, ids)) images.set(id, image);
  }
  const conflicted = new Set<Pending>();
  for (const item of pending) {
    if (!item.needsImage) continue;
    const image = images.get(item.line.id);
    const row = idMap.get(item.line.sourceId);
    // A record Ferry wrote and the practice changed in Twenty since: never overwritten blindly.
    const conflict = input.options?.force === true ? undefined : conflictOf(row, image);
    if (conflict !== undefined) {
      reject(item.line, '', conflict.reason, conflict.rule);
      conflicted.add(item);
      continue;
    }
    // Gone from Twenty since the operator last saw it (never written by Ferry): writing it creates it.
    if (image === undefined) item.op = 'created';
    else item.beforeImage = image;
  }
  if (conflicted.size > 0)
    pending.splice(0, pending.length, ...pending.filter((item) => !conflicted.has(item)));
  const saveIntent = async (): Promise<void> => {
    const ops: Intent['ops'] = {};
    for (const item of pending) {
      ops[item.line.sourceId] = {
        op: item.op,
        ...(item.beforeImage ? { beforeImage: item.beforeImage } : {}),
        ...(item.upload ? { upload: item.upload } : {}),
      };
    }
    await deps.work.put(intentKey, JSON.stringify({ runId: input.runId, ops }), 'application/json');
  };
  if (pending.length > 0) await saveIntent();

  // Attachments: the file goes up first (once: a retry re-uses the upload the intent recorded);
  // its record then points at the upload.
  const sendable: Pending[] = [];
  for (const item of pending) {
    const file = item.line.file;
    if (file === undefined) {
      sendable.push(item);
      continue;
    }
    if (item.upload !== undefined) {
      item.fileColumns = fileColumns(await twenty.metadata(), item.upload, file.name);
      sendable.push(item);
      continue;
    }
    let bytes: Uint8Array;
    try {
      bytes = await deps.drop.get(file.key);
    } catch (error) {
      if (error instanceof NotFoundError) {
        reject(item.line, 'file', 'MISSING_FILE', 'the referenced file is not in the drop folder');
        continue;
      }
      throw error;
    }
    if (bytes.byteLength > input.maxFileBytes) {
      reject(item.line, 'file', 'FILE_TOO_LARGE', `files over ${input.maxFileBytes} bytes are not uploaded`);
      continue;
    }
    try {
      const uploaded = await twenty.uploadFile(bytes, file.name, file.mime);
      item.upload = uploaded;
      // Recorded before the attachment record exists, so a retry after any later failure finds it.
      await saveIntent();
      item.fileColumns = fileColumns(await twenty.metadata(), uploaded, file.name);
      sendable.push(item);
    } catch (error) {
      if (!(error instanceof TwentyRejectedError)) throw error;
      if (error.status === 413) {
        reject(item.line, 'file', 'FILE_TOO_LARGE', 'over the workspace upload limit');
      } else {
        reject(item.line, 'file', 'TWENTY_REJECTED', error.reasons.join('; ') || 'upload refused');
      }
    }
  }

  // Records, per Twenty object, in batches the client splits to the workspace's cap.
  const written: Pending[] = [];
  const byObject = new Map<string, Pending[]>();
  for (const item of sendable) {
    const group = byObject.get(item.line.object) ?? [];
    group.push(item);
    byObject.set(item.line.object, group);
  }
  for (const [object, group] of byObject) {
    for (const slice of chunked(group, input.batchMax ?? group.length)) {
      const records: TwentyRecord[] = slice.map((item) => ({
        ...item.line.data,
        ...item.fileColumns,
        id: item.line.id,
      }));
      const result = await twenty.createMany(object, records, { upsert: true });
      for (const ok of result.written) {
        const item = slice[ok.index];
        if (item) written.push(item);
      }
      for (const failed of result.failed) {
        const item = slice[failed.index];
        if (item) reject(item.line, reasonField(failed.reason), 'TWENTY_REJECTED', failed.reason);
      }
    }
  }

  // Targets of the tasks/notes that are now in Twenty (a target of a refused parent is not sent).
  const targetsByObject = new Map<string, { record: TwentyRecord; line: MappedLine }[]>();
  for (const item of written) {
    for (const target of item.line.targets) {
      const group = targetsByObject.get(target.object) ?? [];
      group.push({ record: target.data as TwentyRecord, line: item.line });
      targetsByObject.set(target.object, group);
    }
  }
  let targetsWritten = 0;
  let targetsRejected = 0;
  for (const [object, group] of targetsByObject) {
    for (const slice of chunked(group, input.batchMax ?? group.length)) {
      const result = await twenty.createMany(
        object,
        slice.map((target) => target.record),
        { upsert: true },
      );
      targetsWritten += result.written.length;
      for (const failed of result.failed) {
        const target = slice[failed.index];
        if (!target) continue;
        targetsRejected++;
        rejects.push({
          file: input.key,
          line: target.line.line,
          entity: input.entity,
          sourceId: target.line.sourceId,
          field: object,
          reason: 'TARGET_REJECTED',
          rule: failed.reason,
        });
      }
    }
  }

  // Audit trail, then the id map: a retry that finds the id map written knows the ledger is too.
  const at = new Date(deps.clock.now()).toISOString();
  const entries: LedgerEntry[] = written.map((item) => ({
    runId: input.runId,
    phase,
    entity: input.entity,
    sourceId: item.line.sourceId,
    twentyId: item.line.id,
    op: item.op,
    contentHash: item.line.contentHash,
    ...(item.beforeImage ? { beforeImage: item.beforeImage } : {}),
    at,
  }));
  if (entries.length > 0) await ledger.appendMany(entries);
  const rows: IdMapRow[] = written.map((item) => ({
    sourceId: item.line.sourceId,
    twentyId: item.line.id,
    contentHash: item.line.contentHash,
    runId: input.runId,
    writtenAt: at,
  }));
  if (rows.length > 0) await ledger.putIdMap(input.sourceInstance, input.entity, rows);

  return {
    written: [
      ...written.map((item) => ({ id: item.line.id, op: item.op })),
      ...already.map((item) => ({ id: item.line.id, op: item.op })),
    ],
    unchanged,
    rejected,
    rejects,
    targetsWritten,
    targetsRejected,
  };
}

/**
 * A chunk's progress between ticks, saved after every slice: where the next tick starts and what
 * the finished slices did. Lives in the work bucket (it names source ids and rejects, no values),
 * so any process — a later Lambda invocation, a resumed local run — continues where the last stopped.
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
  writtenIds: z.array(z.string()),
});
type Progress = z.infer<typeof ProgressSchema>;

async function readProgress(work: ObjectStore, key: string, runId: string): Promise<Progress> {
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
  };
}

/** Records per slice: one batch at the workspace's cap, so a slice costs a few requests at most. */
function sliceSize(input: Input, twenty: TwentyApi): number {
  const bound = input.batchMax ?? input.options?.batchMax ?? Number.POSITIVE_INFINITY;
  return Math.max(1, Math.min(bound, twenty.batchMax ?? DEFAULT_BATCH_CAP));
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
  const ledger = requireDep(deps, 'ledger');
  const phase: LoadPhase = input.phase;
  const statsKey = loadStatsKey(input.runId, phase, input.entity, input.key);
  const stored = await readArtifactIfPresent(deps.work, statsKey, z.unknown());
  if (stored !== undefined) {
    const done = ChunkLoadStatsSchema.safeParse(stored);
    if (done.success && done.data.runId === input.runId) return outputOf(done.data, true, 0);
  }
  const twenty = await requireDep(deps, 'twenty')();
  const lines = await readChunk(deps.work, input);
  const progressKey = loadProgressKey(input.runId, phase, input.entity, input.key);
  const progress = await readProgress(deps.work, progressKey, input.runId);
  const before = { ...progress, rejected: sumOf(progress.rejected) };
  const tickStats = twenty.stats();
  let seen = tickStats;
  await twenty.settleBatchCap?.();
  const size = sliceSize(input, twenty);
  const deadline = deps.deadlineAt ?? Number.POSITIVE_INFINITY;
  // At least one slice per tick, so every tick moves the cursor even when the deadline has passed.
  do {
    const slice = lines.slice(progress.cursor, progress.cursor + size);
    const result = await writeSlice(input, slice, progress.cursor, twenty, ledger, deps);
    for (const item of result.written) {
      if (item.op === 'created') progress.created++;
      else progress.updated++;
      progress.writtenIds.push(item.id);
    }
    progress.unchanged += result.unchanged;
    for (const [reason, n] of Object.entries(result.rejected))
      progress.rejected[reason] = (progress.rejected[reason] ?? 0) + n;
    progress.rejects.push(...result.rejects);
    progress.targets.written += result.targetsWritten;
    progress.targets.rejected += result.targetsRejected;
    progress.cursor += slice.length;
    const now = twenty.stats();
    progress.requests += Math.max(0, now.requests - seen.requests);
    progress.throttled += Math.max(0, now.throttled - seen.throttled);
    seen = now;
    await deps.work.put(progressKey, JSON.stringify(progress), 'application/json');
  } while (progress.cursor < lines.length && deps.clock.now() < deadline);
  progress.ticks++;
  await deps.work.put(progressKey, JSON.stringify(progress), 'application/json');
  const done = progress.cursor >= lines.length;

  const stats: ChunkLoadStats = {
    runId: input.runId,
    phase,
    entity: input.entity,
    object: lines[0]?.object ?? '',
    key: input.key,
    records: lines.length,
    created: progress.created,
    updated: progress.updated,
    unchanged: progress.unchanged,
    rejected: progress.rejected,
    targets: progress.targets,
    requests: progress.requests,
    throttled: progress.throttled,
    writtenIds: progress.writtenIds,
  };
  if (done) {
    if (progress.rejects.length > 0) {
      const body = `${progress.rejects.map((line) => JSON.stringify(line)).join('\n')}\n`;
      await deps.work.put(
        loadRejectsKey(input.runId, phase, input.entity, input.key),
        body,
        'application/x-ndjson',
      );
    }
    await deps.work.put(statsKey, JSON.stringify(stats), 'application/json');
  }
  const rejectedNow = sumOf(progress.rejected);
  // Writes count as writes; the sample load's progress and rejects are its own (`sample_…`): the full
  // load's phase progress counts the full load, and meets the sample's refused records again.
  const prefix = isSampleChunkKey(input.key) ? 'sample_' : '';
  await requireDep(deps, 'runStore').addCounters(input.runId, {
    created: progress.created - before.created,
    updated: progress.updated - before.updated,
    [`${prefix}unchanged`]: progress.unchanged - before.unchanged,
    [`${prefix}loadRejected`]: rejectedNow - before.rejected,
    [`${prefix}phase_${phase}_records`]: progress.cursor - before.cursor,
    [`${prefix}phase_${phase}_requests`]: Math.max(0, seen.requests - tickStats.requests),
    [`${prefix}phase_${phase}_throttled`]: Math.max(0, seen.throttled - tickStats.throttled),
    [`${prefix}phase_${phase}_ticks`]: 1,
  });
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
