import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { PassThrough } from 'node:stream';
import type { z } from 'zod';
import { ValidationError } from '../../core/errors.ts';
import { segmentRejectsKeyFor } from '../../core/inventory/manifest.ts';
import { chunked } from '../../core/ledger/entry.ts';
import {
  type ChunkLoadStats,
  ChunkLoadStatsSchema,
  loadStatsPrefix,
  type PrepareStats,
  PrepareStatsSchema,
  prepareRejectsKey,
  prepareStatsKey,
  reconciliationKey,
  rejectsCsvKey,
  workflowsKey,
} from '../../core/load/format.ts';
import { normalizeReject, rejectsCsvHeader, rejectsCsvRow } from '../../core/reconcile/rejects-csv.ts';
import {
  type ReadBack,
  type Reconciliation,
  reconcileEntities,
  totalsOf,
} from '../../core/reconcile/report.ts';
import type { ObjectStore } from '../../ports/object-store.ts';
import type { TwentyApi } from '../../ports/twenty.ts';
import { requireDep, type TaskDeps } from '../deps.ts';
import type { ReconcileInputSchema, ReconcileOutput } from './schema.ts';

/** Ids per read-back request: one Twenty page. */
const READ_BACK_PAGE = 60;

/** Each NDJSON line of an object, parsed, streamed (reject files can be as large as the export). */
async function* ndjson(store: ObjectStore, key: string): AsyncIterable<unknown> {
  const lines = createInterface({ input: await store.getStream(key), crlfDelay: Number.POSITIVE_INFINITY });
  for await (const line of lines) {
    if (line.trim() === '') continue;
    try {
      yield JSON.parse(line);
    } catch {
      throw new ValidationError(`${key}: a line is not JSON`);
    }
  }
}

async function readPrepare(work: ObjectStore, runId: string): Promise<PrepareStats> {
  const key = prepareStatsKey(runId);
  if (!(await work.exists(key))) throw new ValidationError(`${key} is missing: Prepare did not finish`);
  const parsed = PrepareStatsSchema.safeParse(JSON.parse(await work.getText(key)));
  if (!parsed.success) {
    const fields = [...new Set(parsed.error.issues.map((i) => i.path.join('.') || '(root)'))].join(', ');
    throw new ValidationError(`${key}: invalid ${fields}`);
  }
  return parsed.data;
}

async function readLoadStats(work: ObjectStore, runId: string): Promise<ChunkLoadStats[]> {
  const stats: ChunkLoadStats[] = [];
  for await (const object of work.list(loadStatsPrefix(runId))) {
    if (!object.key.endsWith('.json')) continue;
    const parsed = ChunkLoadStatsSchema.safeParse(JSON.parse(await work.getText(object.key)));
    if (!parsed.success) throw new ValidationError(`${object.key}: not a LoadChunk stats file`);
    stats.push(parsed.data);
  }
  return stats;
}

/**
 * Checks that every id Ferry wrote in this run is in Twenty now: `id[in]` reads of one page of ids
 * each, projected to `id`. Counts only; which ids are missing is not a question for a log.
 */
async function readBack(
  twenty: TwentyApi,
  chunks: readonly ChunkLoadStats[],
): Promise<Record<string, ReadBack>> {
  const result: Record<string, ReadBack> = {};
  for (const chunk of chunks) {
    if (chunk.writtenIds.length === 0) continue;
    const counts = result[chunk.object] ?? { verified: 0, missing: 0 };
    for (const page of chunked(chunk.writtenIds, READ_BACK_PAGE)) {
      const wanted = new Set(page);
      let found = 0;
      for await (const record of twenty.findMany(chunk.object, {
        filter: { field: 'id', op: 'in', value: page },
        limit: READ_BACK_PAGE,
        fields: ['id'],
        depth: 0,
      })) {
        if (wanted.delete(record.id)) found++;
      }
      counts.verified += found;
      counts.missing += page.length - found;
    }
    result[chunk.object] = counts;
  }
  return result;
}

/** Source file ↔ entity, from Prepare's numbers (segment rejects know only the file). */
interface SourceNames {
  entityOfFile(file: string): string;
  fileOfEntity(entity: string): string | undefined;
  /** Whether a pivot file's rows are merged into this entity's records. */
  hasMerged(entity: string): boolean;
}

/** Records Twenty refused, per load chunk key: source ids whose merged pivot rows did not load. */
type RefusedRecords = Map<string, { entity: string; sourceIds: Set<string> }>;

/**
 * Pivot rows merged into records Twenty refused, per entity: the refused records' `merged` counts,
 * read from their load chunks (only chunks that had such a refusal are read).
 */
async function mergedRefusals(work: ObjectStore, refused: RefusedRecords): Promise<Map<string, number>> {
  const result = new Map<string, number>();
  for (const [chunkKey, { entity, sourceIds }] of refused) {
    if (!(await work.exists(chunkKey))) continue;
    for await (const raw of ndjson(work, chunkKey)) {
      const line = raw as { sourceId?: unknown; merged?: unknown };
      if (typeof line.sourceId !== 'string' || !sourceIds.has(line.sourceId)) continue;
      if (typeof line.merged === 'number' && line.merged > 0)
        result.set(entity, (result.get(entity) ?? 0) + line.merged);
    }
  }
  return result;
}

/** Streams rejects.csv from the three stages' reject files, in stage order. */
async function writeRejectsCsv(
  work: ObjectStore,
  runId: string,
  names: SourceNames,
): Promise<{
  key: string;
  rows: number;
  segment: Map<string, Record<string, number>>;
  refused: RefusedRecords;
}> {
  const key = rejectsCsvKey(runId);
  const body = new PassThrough();
  const upload = work.putStream(key, body, 'text/csv');
  const segment = new Map<string, Record<string, number>>();
  const refused: RefusedRecords = new Map();
  let rows = 0;
  const write = async (text: string) => {
    if (!body.write(text)) await Promise.race([once(body, 'drain'), upload]);
  };
  try {
    await write(rejectsCsvHeader());
    const sources: string[] = [];
    for (const fixed of [segmentRejectsKeyFor(runId), prepareRejectsKey(runId)]) {
      if (await work.exists(fixed)) sources.push(fixed);
    }
    for await (const object of work.list(`runs/${runId}/rejects/load/`)) sources.push(object.key);
    for (const source of sources) {
      const fromSegment = source === segmentRejectsKeyFor(runId);
      for await (const raw of ndjson(work, source)) {
        const reject = normalizeReject(raw, names.entityOfFile);
        if (fromSegment) {
          const counts = segment.get(reject.file) ?? {};
          counts[reject.reason] = (counts[reject.reason] ?? 0) + 1;
          segment.set(reject.file, counts);
        }
        // Load rejects name the chunk; the operator needs the source file the line number refers to.
        if (source.includes('/rejects/load/')) {
          // A refused record (not one of its activity targets) takes its merged pivot rows with it.
          if (reject.reason !== 'TARGET_REJECTED' && names.hasMerged(reject.entity)) {
            const chunk = refused.get(reject.file) ?? { entity: reject.entity, sourceIds: new Set() };
            chunk.sourceIds.add(reject.sourceId);
            refused.set(reject.file, chunk);
          }
          const file = names.fileOfEntity(reject.entity);
          if (file !== undefined) reject.file = file;
        }
        await write(rejectsCsvRow(reject));
        rows++;
      }
    }
    body.end();
    await upload;
  } catch (error) {
    body.destroy();
    await upload.catch(() => undefined);
    throw error;
  }
  return { key, rows, segment, refused };
}

/**
 * Reconcile: the run's closing balance. Per entity, source rows must equal loaded + rejected +
 * skipped (Prepare's numbers, segment rejects of the entity's file, every chunk's load stats);
 * every id written in this run is read back from Twenty; rejects of all stages go to one redacted
 * rejects.csv. The run is marked succeeded only when everything balances and nothing is missing,
 * failed otherwise; either way the drop folder's lock is released.
 */
export async function reconcile(
  input: z.infer<typeof ReconcileInputSchema>,
  deps: TaskDeps,
): Promise<ReconcileOutput> {
  const runs = requireDep(deps, 'runStore');
  const { runId } = input;
  const prepare = await readPrepare(deps.work, runId);
  const chunks = await readLoadStats(deps.work, runId);

  const fileToEntity = new Map<string, string>();
  const entityToFile = new Map<string, string>();
  const mergeTargets = new Set<string>();
  for (const [entity, stats] of Object.entries(prepare.entities)) {
    if (stats.mergedInto !== undefined) mergeTargets.add(stats.mergedInto);
    if (stats.file === undefined) continue;
    if (!fileToEntity.has(stats.file)) fileToEntity.set(stats.file, entity);
    entityToFile.set(entity, stats.file);
  }
  const csv = await writeRejectsCsv(deps.work, runId, {
    entityOfFile: (file) => fileToEntity.get(file) ?? '',
    fileOfEntity: (entity) => entityToFile.get(entity),
    hasMerged: (entity) => mergeTargets.has(entity),
  });

  const refusals = await mergedRefusals(deps.work, csv.refused);
  const entities = reconcileEntities(prepare, csv.segment, chunks, refusals);
  const totals = totalsOf(entities);
  const twenty = await requireDep(deps, 'twenty')();
  const readBackCounts = await readBack(twenty, chunks);
  const verified = Object.values(readBackCounts).reduce((n, r) => n + r.verified, 0);
  const missing = Object.values(readBackCounts).reduce((n, r) => n + r.missing, 0);
  const balanced = entities.every((e) => e.balanced);
  const problem = !balanced ? 'UNBALANCED' : missing > 0 ? 'READBACK_MISSING' : undefined;
  const status = problem === undefined ? 'succeeded' : 'failed';
  const workflows = (await deps.work.exists(workflowsKey(runId))) ? workflowsKey(runId) : undefined;
  const now = new Date(deps.clock.now()).toISOString();

  const report: Reconciliation = {
    runId,
    generatedAt: now,
    entities,
    totals,
    readBack: readBackCounts,
    verified,
    missing,
    requests: chunks.reduce((n, c) => n + c.requests, 0),
    throttled: chunks.reduce((n, c) => n + c.throttled, 0),
    balanced,
    status,
    ...(problem ? { problem } : {}),
    rejectsKey: csv.key,
    ...(workflows ? { workflowsKey: workflows } : {}),
  };
  const key = reconciliationKey(runId);
  await deps.work.put(key, JSON.stringify(report, null, 2), 'application/json');

  const run = await runs.getRun(runId);
  if (run) {
    await runs.updateRun(runId, {
      status,
      stage: 'Reconcile',
      finishedAt: now,
      ...(problem ? { error: problem } : {}),
    });
    await runs.releaseLock(run.folder, runId);
  }
  deps.log.info('run reconciled', {
    runId,
    status,
    entities: entities.length,
    sourceRows: totals.sourceRows,
    loaded: totals.loaded,
    rejected: totals.rejected,
    skipped: totals.skipped,
    missing,
  });
  return {
    runId,
    status,
    balanced,
    entities: entities.length,
    sourceRows: totals.sourceRows,
    loaded: totals.loaded,
    created: totals.created,
    updated: totals.updated,
    unchanged: totals.unchanged,
    rejected: totals.rejected,
    skipped: totals.skipped,
    verified,
    missing,
    reconciliationKey: key,
    rejectsKey: csv.key,
    ...(workflows ? { workflowsKey: workflows } : {}),
  };
}
