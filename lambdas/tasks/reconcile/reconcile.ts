import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { PassThrough } from 'node:stream';
import { z } from 'zod';
import { ValidationError } from '../../core/errors.ts';
import { PlanSchema } from '../../core/inventory/plan.ts';
import { chunked } from '../../core/ledger/entry.ts';
import {
  type ChunkLoadStats,
  ChunkLoadStatsSchema,
  type MappedLine,
  MappedLineSchema,
  type PrepareStats,
  PrepareStatsSchema,
} from '../../core/load/format.ts';
import { isPopulated, mismatchedFields } from '../../core/reconcile/compare.ts';
import { renderReportHtml } from '../../core/reconcile/html.ts';
import { normalizeReject, rejectsCsvHeader, rejectsCsvRow } from '../../core/reconcile/rejects-csv.ts';
import {
  type Mismatch,
  type ReadBack,
  type Reconciliation,
  reconcileEntities,
  totalsOf,
} from '../../core/reconcile/report.ts';
import {
  isSampleChunkKey,
  loadRejectsKey,
  loadRejectsPrefix,
  loadStatsPrefix,
  planKeyFor,
  prepareRejectsKey,
  prepareStatsKey,
  readArtifact,
  readArtifactIfPresent,
  readBackProgressKey,
  reconciliationKey,
  rejectsCsvKey,
  reportHtmlKey,
  segmentRejectsKeyFor,
  workflowsKey,
} from '../../core/run-layout.ts';
import {
  buildWorkflowReference,
  MAX_AUTOMATION_JSON_BYTES,
  type WorkflowDefinition,
  type WorkflowReference,
  workflowRowsFromJson,
} from '../../core/sources/workflows.ts';
import type { Ledger } from '../../ports/ledger.ts';
import type { ObjectStore } from '../../ports/object-store.ts';
import type { TwentyApi } from '../../ports/twenty.ts';
import { requireDep, type TaskDeps } from '../deps.ts';
import { reportContext } from './report-context.ts';
import type { ReconcileContinuation, ReconcileInputSchema, ReconcileOutput } from './schema.ts';

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

/** Prepare's stats; a ValidationError when Prepare did not finish. */
/** Source ids listed per entity in `missingFromExport` (all are counted). */
const MISSING_LIST_CAP = 1000;

/**
 * Records of an earlier run of this source that the export no longer holds: the id map's rows of
 * each entity whose source id is neither in this run's mapped chunks nor among Prepare's rejects.
 * Ids only; a first run finds none (its id map holds only what it just wrote).
 */
async function missingFromExport(
  work: ObjectStore,
  ledger: Ledger,
  runId: string,
  sourceInstance: string,
  entities: readonly string[],
  chunks: readonly ChunkLoadStats[],
): Promise<Reconciliation['missingFromExport']> {
  const seen = new Map<string, Set<string>>(entities.map((e) => [e, new Set<string>()]));
  for (const chunk of chunks) {
    const ids = seen.get(chunk.entity);
    if (ids === undefined || !(await work.exists(chunk.key))) continue;
    for await (const raw of ndjson(work, chunk.key)) {
      const sourceId = (raw as { sourceId?: unknown }).sourceId;
      if (typeof sourceId === 'string') ids.add(sourceId);
    }
  }
  if (await work.exists(prepareRejectsKey(runId)))
    for await (const raw of ndjson(work, prepareRejectsKey(runId))) {
      const { entity, sourceId } = raw as { entity?: unknown; sourceId?: unknown };
      if (typeof entity === 'string' && typeof sourceId === 'string') seen.get(entity)?.add(sourceId);
    }
  const out: Reconciliation['missingFromExport'] = {};
  for (const [entity, ids] of seen) {
    let count = 0;
    const sourceIds: string[] = [];
    for await (const row of ledger.scanIdMap(sourceInstance, entity)) {
      if (ids.has(row.sourceId)) continue;
      count++;
      if (sourceIds.length < MISSING_LIST_CAP) sourceIds.push(row.sourceId);
    }
    if (count > 0) out[entity] = { count, sourceIds };
  }
  return out;
}

/**
 * Automation/workflow exports in JSON (a file no profile reads as rows) become the rebuild reference
 * `workflows.json` like a profile's workflow CSV: one entry per automation with its trigger,
 * conditions and actions. Written only when Prepare wrote none.
 */
async function automationsFromJson(
  deps: TaskDeps,
  runId: string,
  attachments: readonly { key: string; name: string; bytes: number }[],
): Promise<void> {
  const workflows: WorkflowDefinition[] = [];
  for (const file of attachments) {
    if (!file.name.toLowerCase().endsWith('.json') || file.bytes > MAX_AUTOMATION_JSON_BYTES) continue;
    const found = workflowRowsFromJson(await deps.drop.getText(file.key));
    if (found !== null) workflows.push(...buildWorkflowReference(found.rows, found.header).workflows);
  }
  if (workflows.length === 0) return;
  const reference = buildWorkflowReference([], []);
  const body: WorkflowReference = {
    ...reference,
    count: workflows.length,
    active: workflows.filter((w) => w.status === 'active').length,
    workflows,
  };
  await deps.work.put(workflowsKey(runId), `${JSON.stringify(body, null, 2)}\n`, 'application/json');
}

async function readPrepare(work: ObjectStore, runId: string): Promise<PrepareStats> {
  return readArtifact(work, prepareStatsKey(runId), PrepareStatsSchema);
}

async function readLoadStats(work: ObjectStore, runId: string): Promise<ChunkLoadStats[]> {
  const stats: ChunkLoadStats[] = [];
  for await (const object of work.list(loadStatsPrefix(runId))) {
    if (!object.key.endsWith('.json')) continue;
    stats.push(await readArtifact(work, object.key, ChunkLoadStatsSchema));
  }
  return stats;
}

/** Read-back findings of one entity, before they join its balance. */
interface EntityCheck {
  verified: number;
  mismatched: number;
  missing: number;
  fields: Record<string, { records: number; populated: number; matched: number }>;
}

interface ReadBackResult {
  byObject: Record<string, ReadBack>;
  byEntity: Map<string, EntityCheck>;
  mismatchCount: number;
  mismatches: Mismatch[];
}

/**
 * The read-back's saved progress (`runs/<runId>/reconcile/read-back.json`): where the next tick
 * starts (chunk in key order, page within it) and the findings so far — counts and record ids only.
 */
interface ReadBackProgress {
  chunk: number;
  page: number;
  done: boolean;
  ticks: number;
  byObject: Record<string, ReadBack>;
  byEntity: Record<string, EntityCheck>;
  mismatchCount: number;
  mismatches: Mismatch[];
}

async function readBackProgress(work: ObjectStore, runId: string): Promise<ReadBackProgress> {
  const saved = await readArtifactIfPresent(work, readBackProgressKey(runId), z.unknown());
  if (saved !== undefined) return saved as ReadBackProgress;
  return {
    chunk: 0,
    page: 0,
    done: false,
    ticks: 0,
    byObject: {},
    byEntity: {},
    mismatchCount: 0,
    mismatches: [],
  };
}

/** Mismatches listed in reconciliation.json (all are counted). */
const MISMATCH_LIST_CAP = 1000;

/**
 * Source ids of a chunk's records Twenty refused (their load rejects; a refused activity target
 * does not make its parent unloaded).
 */
async function refusedSourceIds(
  work: ObjectStore,
  runId: string,
  chunk: ChunkLoadStats,
): Promise<Set<string>> {
  const ids = new Set<string>();
  const key = loadRejectsKey(runId, chunk.phase, chunk.entity, chunk.key);
  if (!(await work.exists(key))) return ids;
  for await (const raw of ndjson(work, key)) {
    const line = raw as { sourceId?: unknown; reason?: unknown };
    if (typeof line.sourceId === 'string' && line.reason !== 'TARGET_REJECTED') ids.add(line.sourceId);
  }
  return ids;
}

/**
 * Reads back every record each chunk loaded (written in this run or found unchanged) with `id[in]`
 * pages at depth 0, through the same rate-limited client as the loader, and compares every field
 * Prepare sent with what Twenty holds now. Findings are counts plus (entity, field, record id)
 * triples: never a value.
 */
async function readBack(
  work: ObjectStore,
  twenty: TwentyApi,
  runId: string,
  chunks: readonly ChunkLoadStats[],
  deadlineAt: number | undefined,
  now: () => number,
): Promise<ReadBackResult | undefined> {
  // Time-boxed like LoadChunk: page after page until the invocation's deadline (at least one page a
  // tick), the position and findings saved after each page; undefined = not done, call again.
  const progress = await readBackProgress(work, runId);
  const byObject = progress.byObject;
  const byEntity = new Map(Object.entries(progress.byEntity));
  const mismatches = progress.mismatches;
  let mismatchCount = progress.mismatchCount;
  const save = async (chunk: number, page: number, done: boolean) => {
    Object.assign(progress, {
      chunk,
      page,
      done,
      byObject,
      byEntity: Object.fromEntries(byEntity),
      mismatchCount,
      mismatches,
    });
    await work.put(readBackProgressKey(runId), JSON.stringify(progress), 'application/json');
  };
  progress.ticks++;
  let pagesThisTick = 0;
  for (const [c, chunk] of chunks.entries()) {
    if (progress.done) break;
    if (c < progress.chunk) continue;
    if (!(await work.exists(chunk.key))) continue;
    const written = new Set(chunk.writtenIds);
    const refused = await refusedSourceIds(work, runId, chunk);
    const loaded: MappedLine[] = [];
    for await (const raw of ndjson(work, chunk.key)) {
      const parsed = MappedLineSchema.safeParse(raw);
      if (!parsed.success) throw new ValidationError(`${chunk.key}: a line is not a mapped record`);
      if (written.has(parsed.data.id) || !refused.has(parsed.data.sourceId)) loaded.push(parsed.data);
    }
    if (loaded.length === 0) continue;
    const counts = byObject[chunk.object] ?? { verified: 0, missing: 0 };
    const check = byEntity.get(chunk.entity) ?? { verified: 0, mismatched: 0, missing: 0, fields: {} };
    const pages = chunked(loaded, READ_BACK_PAGE);
    for (const [p, page] of pages.entries()) {
      if (c === progress.chunk && p < progress.page) continue;
      if (pagesThisTick > 0 && deadlineAt !== undefined && now() >= deadlineAt) {
        byObject[chunk.object] = counts;
        byEntity.set(chunk.entity, check);
        await save(c, p, false);
        return undefined;
      }
      pagesThisTick++;
      const found = new Map<string, Record<string, unknown>>();
      for await (const record of twenty.findMany(chunk.object, {
        filter: { field: 'id', op: 'in', value: page.map((line) => line.id) },
        limit: READ_BACK_PAGE,
        depth: 0,
      })) {
        found.set(record.id, record);
      }
      for (const line of page) {
        const actual = found.get(line.id);
        if (actual === undefined) {
          counts.missing++;
          check.missing++;
          continue;
        }
        counts.verified++;
        const differing = new Set(mismatchedFields(line.data, actual));
        for (const [field, value] of Object.entries(line.data)) {
          if (field === 'id') continue;
          const tally = check.fields[field] ?? { records: 0, populated: 0, matched: 0 };
          tally.records++;
          if (isPopulated(value)) tally.populated++;
          if (!differing.has(field)) tally.matched++;
          check.fields[field] = tally;
        }
        if (differing.size === 0) check.verified++;
        else {
          check.mismatched++;
          for (const field of differing) {
            mismatchCount++;
            if (mismatches.length < MISMATCH_LIST_CAP)
              mismatches.push({ entity: chunk.entity, object: chunk.object, field, recordId: line.id });
          }
        }
      }
      byObject[chunk.object] = counts;
      byEntity.set(chunk.entity, check);
      if (deadlineAt !== undefined) await save(c, p + 1, false);
    }
    byObject[chunk.object] = counts;
    byEntity.set(chunk.entity, check);
  }
  if (!progress.done) await save(chunks.length, 0, true);
  return { byObject, byEntity, mismatchCount, mismatches };
}

function rate(part: number, whole: number): number {
  return whole === 0 ? 1 : Math.round((part / whole) * 10_000) / 10_000;
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
    // The sample load's rejects are in sample-diff.json: the full load meets those records again.
    for await (const object of work.list(loadRejectsPrefix(runId)))
      if (!isSampleChunkKey(object.key)) sources.push(object.key);
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
        if (source.startsWith(loadRejectsPrefix(runId))) {
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
  input: z.input<typeof ReconcileInputSchema>,
  deps: TaskDeps,
): Promise<ReconcileOutput | ReconcileContinuation> {
  const runs = requireDep(deps, 'runStore');
  const { runId } = input;
  const prepare = await readPrepare(deps.work, runId);
  const allChunks = (await readLoadStats(deps.work, runId)).sort((a, b) => a.key.localeCompare(b.key));
  const chunks = allChunks.filter((c) => !isSampleChunkKey(c.key));
  const sampleChunks = allChunks.filter((c) => isSampleChunkKey(c.key));

  // The read-back first: it is the long part (every loaded record, at the rate limit's pace).
  const twenty = await requireDep(deps, 'twenty')();
  const checked = await readBack(deps.work, twenty, runId, chunks, deps.deadlineAt, () => deps.clock.now());
  if (checked === undefined) return { runId, done: false, waitSeconds: 0 };

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
  // Records the sample load wrote were met again by the full load as unchanged (same id, same content):
  // they count as what the sample did to them.
  for (const sampled of sampleChunks) {
    const e = entities.find((x) => x.entity === sampled.entity);
    if (e === undefined) continue;
    const written = sampled.created + sampled.updated;
    e.loaded.created += sampled.created;
    e.loaded.updated += sampled.updated;
    e.loaded.unchanged = Math.max(0, e.loaded.unchanged - written);
  }
  const totals = totalsOf(entities);
  const readBackCounts = checked.byObject;
  const verified = Object.values(readBackCounts).reduce((n, r) => n + r.verified, 0);
  const missing = Object.values(readBackCounts).reduce((n, r) => n + r.missing, 0);
  const fields: Reconciliation['fields'] = {};
  for (const e of entities) {
    const check = checked.byEntity.get(e.entity);
    if (check === undefined) continue;
    e.verified = check.verified;
    e.mismatched = check.mismatched;
    e.missing = check.missing;
    fields[e.entity] = Object.fromEntries(
      Object.entries(check.fields).map(([field, t]) => [
        field,
        { ...t, populationRate: rate(t.populated, t.records), matchRate: rate(t.matched, t.records) },
      ]),
    );
  }
  const rejects: Record<string, number> = {};
  const skips: Record<string, number> = {};
  for (const e of entities) {
    for (const [reason, n] of Object.entries(e.rejected)) rejects[reason] = (rejects[reason] ?? 0) + n;
    for (const [reason, n] of Object.entries(e.skipped)) skips[reason] = (skips[reason] ?? 0) + n;
  }
  const tolerance = input.options?.tolerance ?? 0;
  const balanced = entities.every((e) => e.balanced);
  const problems: Reconciliation['problems'] = [];
  if (!balanced) problems.push('UNBALANCED');
  if (missing > 0) problems.push('READBACK_MISSING');
  if (checked.mismatchCount > tolerance) problems.push('MISMATCHES_OVER_TOLERANCE');
  const problem = problems[0];
  const status = problem === undefined ? 'succeeded' : 'failed';
  const plan = await readArtifactIfPresent(deps.work, planKeyFor(runId), PlanSchema);
  if (!(await deps.work.exists(workflowsKey(runId))) && plan !== undefined)
    await automationsFromJson(deps, runId, plan.attachments);
  const workflows = (await deps.work.exists(workflowsKey(runId))) ? workflowsKey(runId) : undefined;
  const now = new Date(deps.clock.now()).toISOString();

  const sourceInstance = typeof plan?.sourceInstance === 'string' ? plan.sourceInstance : '';
  const notInExport =
    deps.ledger === undefined || sourceInstance === ''
      ? {}
      : await missingFromExport(
          deps.work,
          deps.ledger,
          runId,
          sourceInstance,
          Object.keys(prepare.entities),
          chunks,
        );
  const reportKey = reportHtmlKey(runId);
  const report: Reconciliation = {
    runId,
    generatedAt: now,
    tolerance,
    entities,
    totals,
    readBack: readBackCounts,
    verified,
    missing,
    requests: allChunks.reduce((n, c) => n + c.requests, 0),
    throttled: allChunks.reduce((n, c) => n + c.throttled, 0),
    balanced,
    status,
    ...(problem ? { problem } : {}),
    problems,
    rejects,
    skips,
    fields,
    mismatchCount: checked.mismatchCount,
    mismatches: checked.mismatches,
    missingFromExport: notInExport,
    rejectsKey: csv.key,
    ...(workflows ? { workflowsKey: workflows } : {}),
    reportKey,
  };
  const key = reconciliationKey(runId);
  await deps.work.put(key, JSON.stringify(report, null, 2), 'application/json');
  const context = await reportContext(deps.work, runId, workflows);
  await deps.work.put(reportKey, renderReportHtml(report, context), 'text/html; charset=utf-8');

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
    mismatches: checked.mismatchCount,
  });
  return {
    runId,
    done: true,
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
    mismatches: checked.mismatchCount,
    tolerance,
    reconciliationKey: key,
    reportKey,
    rejectsKey: csv.key,
    ...(workflows ? { workflowsKey: workflows } : {}),
  };
}
