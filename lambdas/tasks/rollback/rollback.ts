import { z } from 'zod';
import { NotFoundError, ValidationError } from '../../core/errors.ts';
import { chunked, type LedgerEntry } from '../../core/ledger/entry.ts';
import { parseNdjson } from '../../core/load/decide.ts';
import { MappedLineSchema } from '../../core/load/format.ts';
import { fieldsNotRestored, planGroup, recreateRecord, restorePatch } from '../../core/rollback/restore.ts';
import {
  loadChunkPrefix,
  prepareStatsKey,
  readArtifactIfPresent,
  rollbackCursorKey,
  rollbackReportKey,
} from '../../core/run-layout.ts';
import type { Ledger } from '../../ports/ledger.ts';
import type { ObjectStore } from '../../ports/object-store.ts';
import type { TwentyApi, TwentyRecord } from '../../ports/twenty.ts';
import { requireDep, type TaskDeps } from '../deps.ts';
import { RUN_LOCK_TTL_MS } from '../inventory/inventory.ts';
import {
  ROLLBACK_DEADLINE_MARGIN_MS,
  ROLLBACK_TIMEOUT_SECONDS,
  type RollbackCursor,
  RollbackCursorSchema,
  type RollbackInputSchema,
  type RollbackOutput,
  type RollbackProblem,
  type RollbackReport,
} from './schema.ts';

type Input = z.infer<typeof RollbackInputSchema>;

/** Ids per delete-many request: Twenty's MUTATION_MAXIMUM_AFFECTED_RECORDS default. */
const DELETE_PAGE = 100;
/** Ids per `id[in]` read-back (one Twenty page, URL well under 16 KB). */
const READ_PAGE = 100;

/** When a tick must stop: Lambda's remaining time minus a margin, or locally the same budget. */
export interface RollbackTickOptions {
  /** Epoch ms after which no new Twenty request is started (the tick persists and returns). */
  readonly deadline?: number;
}

/** What rollback needs of one mapped record: where it lives and which fields Ferry sent. */
interface Sent {
  readonly object: string;
  readonly fields: readonly string[];
}

/**
 * The run's mapped records (`runs/<runId>/load/<phase>/<entity>/*.ndjson`, every wave) by source id,
 * read once per (phase, entity): the ledger keeps ids and before-images, the chunks keep the object
 * and the fields Ferry sent, which is exactly what a restore may write back.
 */
class SentIndex {
  readonly #work: ObjectStore;
  readonly #runId: string;
  #key = '';
  #index = new Map<string, Sent>();

  constructor(work: ObjectStore, runId: string) {
    this.#work = work;
    this.#runId = runId;
  }

  /** Entries arrive grouped by (phase, entity), so one group's index is kept at a time. */
  async entity(phase: string, entity: string): Promise<Map<string, Sent>> {
    const prefix = loadChunkPrefix(this.#runId, phase, entity);
    if (prefix === this.#key) return this.#index;
    const index = new Map<string, Sent>();
    for await (const object of this.#work.list(prefix)) {
      if (!object.key.endsWith('.ndjson')) continue;
      const text = await this.#work.getText(object.key);
      const lines = parseNdjson(text, (position) => {
        throw new ValidationError(`rollback: load chunk ${object.key} line ${position} is not JSON`);
      });
      for (const raw of lines) {
        const parsed = MappedLineSchema.safeParse(raw);
        if (!parsed.success) {
          throw new ValidationError(`rollback: load chunk ${object.key} has an invalid record`);
        }
        index.set(parsed.data.sourceId, {
          object: parsed.data.object,
          fields: Object.keys(parsed.data.data),
        });
      }
    }
    this.#key = prefix;
    this.#index = index;
    return index;
  }
}

/** The one field of Prepare's stats file Rollback reads; the rest of the file is not checked here. */
const SourceInstanceSchema = z.looseObject({ sourceInstance: z.unknown().optional() });

/** The id-map namespace the run wrote under (Prepare's stats file), if the run got that far. */
async function sourceInstanceOf(work: ObjectStore, runId: string): Promise<string | undefined> {
  const stats = await readArtifactIfPresent(work, prepareStatsKey(runId), SourceInstanceSchema);
  return typeof stats?.sourceInstance === 'string' && stats.sourceInstance !== ''
    ? stats.sourceInstance
    : undefined;
}

/**
 * Groups the run's entries (reverse key order: newest phase first, children before parents) by
 * (phase, entity). Generic over whatever entries the run family wrote; schema entries are not records.
 */
async function* groups(ledger: Ledger, runId: string): AsyncIterable<LedgerEntry[]> {
  let group: LedgerEntry[] = [];
  for await (const entry of ledger.entriesForRun(runId, { reverse: true })) {
    if (entry.op === 'schema-created') continue;
    const first = group[0];
    if (first && (first.phase !== entry.phase || first.entity !== entry.entity)) {
      yield group;
      group = [];
    }
    group.push(entry);
  }
  if (group.length > 0) yield group;
}

/** Thrown inside a tick when its deadline has passed; caught by the tick, never leaves it. */
class DeadlineReached extends Error {}

async function readCursor(work: ObjectStore, runId: string): Promise<RollbackCursor | undefined> {
  return readArtifactIfPresent(work, rollbackCursorKey(runId), RollbackCursorSchema);
}

function freshCursor(runId: string, now: number): RollbackCursor {
  return {
    runId,
    startedAt: new Date(now).toISOString(),
    stage: 'undo',
    ticks: 0,
    requests: 0,
    counts: { destroyed: 0, restored: 0, undeleted: 0, recreated: 0, alreadyGone: 0, skipped: 0 },
    verifiedRecords: 0,
    filesLeftBehind: 0,
    problems: [],
  };
}

/**
 * One tick of Rollback: undoes one run from its ledger, newest phase first, until the deadline.
 * Records the run created are hard-deleted by id, up to 100 per request (Twenty's
 * MUTATION_MAXIMUM_AFFECTED_RECORDS; a soft-deleted row would keep its unique email/domain
 * reserved) — their task/note targets go with them by Twenty's ON DELETE CASCADE. Records it updated
 * get back the before-image's values of exactly the fields Ferry sent, one PATCH each; one that was
 * soft-deleted in Twenty since is restored first, one hard-deleted since is recreated with its id.
 * Each step appends `destroyed`/`restored` entries and fixes the id map, so the next tick (or a new
 * process after a kill) skips what is done and nothing is sent twice. Then it reads the restored
 * records back, writes `runs/<runId>/rollback.json` and closes the run.
 *
 * Continuation: a tick that reaches its deadline persists the cursor and returns `done:false` with
 * `waitSeconds`; the state machine calls it again with the same input.
 */
export async function rollback(
  input: Input,
  deps: TaskDeps,
  options: RollbackTickOptions = {},
): Promise<RollbackOutput> {
  if (input.removeSchema === true) {
    throw new ValidationError(
      'Rollback input removeSchema: removing the custom objects/fields a run created is not supported yet',
    );
  }
  const { clock, work } = deps;
  const deadline =
    options.deadline ?? clock.now() + ROLLBACK_TIMEOUT_SECONDS * 1000 - ROLLBACK_DEADLINE_MARGIN_MS;
  const runs = requireDep(deps, 'runStore');
  const ledger = requireDep(deps, 'ledger');
  const run = await runs.getRun(input.runId);
  if (!run) throw new NotFoundError(`Rollback: run ${input.runId} has no run record`);
  await runs.acquireLock(run.folder, input.runId, RUN_LOCK_TTL_MS);

  const previous = await readCursor(work, input.runId);
  // A finished cursor belongs to an earlier rollback: this is a new one (it will find everything undone).
  const cursor: RollbackCursor =
    previous && previous.stage !== 'done' ? previous : freshCursor(input.runId, clock.now());
  cursor.ticks++;
  await runs.updateRun(input.runId, { status: 'rolling-back', stage: 'Rollback' });
  const twenty = await requireDep(deps, 'twenty')();
  let counted = twenty.stats().requests;
  const saveCursor = async () => {
    const requests = twenty.stats().requests;
    cursor.requests += requests - counted;
    counted = requests;
    await work.put(
      rollbackCursorKey(input.runId),
      `${JSON.stringify(cursor, null, 2)}\n`,
      'application/json',
    );
  };
  let progressed = false;
  // Every tick sends at least one request (so the loop always advances); after that none starts past the deadline.
  const beforeRequest = () => {
    if (progressed && clock.now() >= deadline) throw new DeadlineReached();
  };

  try {
    if (cursor.stage === 'undo') {
      await undo(input.runId, deps, ledger, twenty, cursor, beforeRequest, () => {
        progressed = true;
      });
      cursor.stage = 'verify';
      await saveCursor();
    }
    if (cursor.stage === 'verify') {
      await verifyRestores(input.runId, deps, ledger, twenty, cursor, () => {
        beforeRequest();
        progressed = true;
      });
    }
  } catch (error) {
    if (!(error instanceof DeadlineReached)) {
      await saveCursor();
      throw error;
    }
    await saveCursor();
    deps.log.info('rollback tick ended at its deadline', {
      runId: input.runId,
      stage: cursor.stage,
      tick: cursor.ticks,
    });
    return output(input.runId, cursor, {
      done: false,
      // The tick stopped at its deadline with work left: the next one may start at once.
      waitSeconds: 0,
      status: 'rolling-back',
    });
  }

  const { skipped, schemaItems } = await tally(input.runId, ledger, cursor.startedAt);
  cursor.counts.skipped = skipped;
  const status = cursor.problems.length === 0 ? 'rolled-back' : 'failed';
  cursor.stage = 'done';
  await saveCursor();
  const report: RollbackReport = {
    runId: input.runId,
    status,
    ...cursor.counts,
    verified: cursor.problems.length === 0,
    verifiedRecords: cursor.verifiedRecords,
    ticks: cursor.ticks,
    requests: cursor.requests,
    problems: cursor.problems,
    leftBehind: { uploadedFiles: cursor.filesLeftBehind, schemaItems },
  };
  const reportKey = rollbackReportKey(input.runId);
  await work.put(reportKey, `${JSON.stringify(report, null, 2)}\n`, 'application/json');
  await runs.updateRun(input.runId, {
    status,
    stage: 'Rollback',
    finishedAt: new Date(clock.now()).toISOString(),
    ...(status === 'failed' ? { error: 'RollbackIncomplete' } : {}),
  });
  await runs.releaseLock(run.folder, input.runId);
  deps.log.info('rollback finished', {
    runId: input.runId,
    status,
    ticks: cursor.ticks,
    requests: cursor.requests,
    ...cursor.counts,
  });
  return { ...output(input.runId, cursor, { done: true, waitSeconds: 0, status }), reportKey };
}

function output(
  runId: string,
  cursor: RollbackCursor,
  tick: { done: boolean; waitSeconds: number; status: RollbackOutput['status'] },
): RollbackOutput {
  return {
    runId,
    cursor: cursor.stage,
    ...tick,
    ...cursor.counts,
    ticks: cursor.ticks,
    requests: cursor.requests,
    verified: tick.done && cursor.problems.length === 0,
    problems: cursor.problems.length,
  };
}

function problemOf(entry: LedgerEntry, code: RollbackProblem['code'], fields?: string[]): RollbackProblem {
  return {
    phase: entry.phase,
    entity: entry.entity,
    sourceId: entry.sourceId,
    twentyId: entry.twentyId,
    code,
    ...(fields ? { fields } : {}),
  };
}

function withoutImage(entry: LedgerEntry): LedgerEntry {
  const { beforeImage: _image, ...rest } = entry;
  return rest;
}

/** The undo walk: every (phase, entity) group newest first, deletes in pages, restores one by one. */
async function undo(
  runId: string,
  deps: TaskDeps,
  ledger: Ledger,
  twenty: TwentyApi,
  cursor: RollbackCursor,
  beforeRequest: () => void,
  onProgress: () => void,
): Promise<void> {
  const sourceInstance = await sourceInstanceOf(deps.work, runId);
  const sentIndex = new SentIndex(deps.work, runId);
  const startedAt = cursor.startedAt;
  const at = () => new Date(deps.clock.now()).toISOString();

  for await (const group of groups(ledger, runId)) {
    const first = group[0] as LedgerEntry;
    const plan = [...planGroup(group, startedAt).values()];
    if (!plan.some((step) => step.action === 'destroy' || step.action === 'restore')) continue;
    const sent = await sentIndex.entity(first.phase, first.entity);
    const destroy: LedgerEntry[] = [];
    const restore: LedgerEntry[] = [];
    for (const { action, entry } of plan) {
      if (action === 'destroy') destroy.push(entry);
      else if (action === 'restore') restore.push(entry);
    }

    // Created records: hard-delete by id, up to 100 per request, grouped by Twenty object.
    const byObject = new Map<string, LedgerEntry[]>();
    for (const entry of destroy) {
      const record = sent.get(entry.sourceId);
      if (!record) {
        cursor.problems.push(problemOf(entry, 'NO_MAPPED_RECORD'));
        await ledger.appendMany([{ ...withoutImage(entry), op: 'destroyed', at: at() }]);
        continue;
      }
      const list = byObject.get(record.object) ?? [];
      list.push(entry);
      byObject.set(record.object, list);
    }
    for (const [object, entries] of byObject) {
      for (const page of chunked(entries, DELETE_PAGE)) {
        beforeRequest();
        const ids = page.map((entry) => entry.twentyId.toLowerCase());
        const deleted = new Set(await twenty.destroyByIds(object, ids));
        onProgress();
        // Ids Twenty did not report deleted were gone already (deleted in Twenty since the load, or
        // by an interrupted tick of this rollback): read back to be sure none is still there.
        const missing = page.filter((entry) => !deleted.has(entry.twentyId.toLowerCase()));
        const present = missing.length === 0 ? new Set<string>() : await presentIds(twenty, object, missing);
        const done: LedgerEntry[] = [];
        for (const entry of page) {
          const id = entry.twentyId.toLowerCase();
          if (present.has(id)) {
            cursor.problems.push(problemOf(entry, 'STILL_PRESENT'));
            continue;
          }
          if (deleted.has(id)) {
            cursor.counts.destroyed++;
            if (object === 'attachments') cursor.filesLeftBehind++;
          } else cursor.counts.alreadyGone++;
          cursor.verifiedRecords++;
          done.push({ ...withoutImage(entry), op: 'destroyed', at: at() });
        }
        if (done.length > 0) await ledger.appendMany(done);
        if (sourceInstance !== undefined && done.length > 0) {
          await ledger.deleteIdMap(
            sourceInstance,
            first.entity,
            done.map((entry) => entry.sourceId),
          );
        }
      }
    }

    // Updated records (pre-existing ones matched by email/domain, or a later run's updates): one PATCH each.
    for (const entry of restore) {
      const record = sent.get(entry.sourceId);
      if (!record) {
        cursor.problems.push(problemOf(entry, 'NO_MAPPED_RECORD'));
        await ledger.appendMany([{ ...withoutImage(entry), op: 'restored', at: at() }]);
        continue;
      }
      if (entry.beforeImage === undefined) {
        cursor.problems.push(problemOf(entry, 'NO_BEFORE_IMAGE'));
        await ledger.appendMany([{ ...withoutImage(entry), op: 'restored', at: at() }]);
        continue;
      }
      beforeRequest();
      const outcome = await restoreOne(
        twenty,
        record.object,
        entry,
        restorePatch(entry.beforeImage, record.fields),
      );
      onProgress();
      if (outcome === 'gone') cursor.problems.push(problemOf(entry, 'GONE_BEFORE_RESTORE'));
      else {
        cursor.counts.restored++;
        if (outcome === 'undeleted') cursor.counts.undeleted++;
        if (outcome === 'recreated') cursor.counts.recreated++;
      }
      await ledger.appendMany([{ ...withoutImage(entry), op: 'restored', at: at() }]);
      if (sourceInstance !== undefined && outcome !== 'gone') {
        await markRestored(ledger, sourceInstance, first.entity, runId, [entry.sourceId]);
      }
    }
  }
}

/**
 * Writes a before-image's values back. A record deleted in Twenty since the run: soft-deleted → the
 * restore route brings it back first; hard-deleted → recreated with the same id (Twenty accepts
 * client ids) from the before-image's writable fields. Returns how it went.
 */
async function restoreOne(
  twenty: TwentyApi,
  object: string,
  entry: LedgerEntry,
  patch: Record<string, unknown>,
): Promise<'patched' | 'undeleted' | 'recreated' | 'gone'> {
  try {
    await twenty.update(object, entry.twentyId, patch);
    return 'patched';
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error;
  }
  try {
    await twenty.restore(object, entry.twentyId);
    await twenty.update(object, entry.twentyId, patch);
    return 'undeleted';
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error;
  }
  const model = await twenty.metadata();
  const record = recreateRecord(model, object, entry.twentyId, entry.beforeImage ?? {});
  const result = await twenty.createMany(object, [record as TwentyRecord], {
    upsert: false,
    checkCollisions: false,
  });
  return result.written.length === 1 ? 'recreated' : 'gone';
}

/** Which of these entries' records Twenty still has (one `id[in]` read per page). */
async function presentIds(
  twenty: TwentyApi,
  object: string,
  entries: readonly LedgerEntry[],
): Promise<Set<string>> {
  const present = new Set<string>();
  for (const page of chunked(entries, READ_PAGE)) {
    for await (const record of twenty.findMany(object, {
      filter: { field: 'id', op: 'in', value: page.map((entry) => entry.twentyId) },
      limit: READ_PAGE,
      fields: [],
      depth: 0,
    })) {
      present.add(record.id.toLowerCase());
    }
  }
  return present;
}

/**
 * Reads back every record this rollback restored (entries `restored` since it started) and compares
 * the fields it wrote with the before-image, one `id[in]` read per page. Restores are few (records
 * that existed before the run), so this stage is cheap.
 */
async function verifyRestores(
  runId: string,
  deps: TaskDeps,
  ledger: Ledger,
  twenty: TwentyApi,
  cursor: RollbackCursor,
  beforeRequest: () => void,
): Promise<void> {
  const sentIndex = new SentIndex(deps.work, runId);
  for await (const group of groups(ledger, runId)) {
    const restoredNow = new Set(
      group
        .filter((entry) => entry.op === 'restored' && entry.at >= cursor.startedAt)
        .map((entry) => entry.sourceId),
    );
    const updated = group.filter(
      (entry) => entry.op === 'updated' && restoredNow.has(entry.sourceId) && entry.beforeImage,
    );
    if (updated.length === 0) continue;
    const first = group[0] as LedgerEntry;
    const sent = await sentIndex.entity(first.phase, first.entity);
    const byObject = new Map<string, { entry: LedgerEntry; patch: Record<string, unknown> }[]>();
    for (const entry of updated) {
      if (cursor.problems.some((p) => p.sourceId === entry.sourceId && p.entity === entry.entity)) continue;
      const record = sent.get(entry.sourceId);
      if (!record) continue;
      const list = byObject.get(record.object) ?? [];
      list.push({ entry, patch: restorePatch(entry.beforeImage ?? {}, record.fields) });
      byObject.set(record.object, list);
    }
    for (const [object, items] of byObject) {
      for (const page of chunked(items, READ_PAGE)) {
        beforeRequest();
        const live = new Map<string, Record<string, unknown>>();
        for await (const record of twenty.findMany(object, {
          filter: { field: 'id', op: 'in', value: page.map((item) => item.entry.twentyId) },
          limit: READ_PAGE,
          depth: 0,
        })) {
          live.set(record.id.toLowerCase(), record);
        }
        for (const item of page) {
          const record = live.get(item.entry.twentyId.toLowerCase());
          const off = record === undefined ? ['id'] : fieldsNotRestored(record, item.patch);
          if (off.length > 0) cursor.problems.push(problemOf(item.entry, 'NOT_RESTORED', off));
          else cursor.verifiedRecords++;
        }
      }
    }
  }
}

/**
 * From the ledger, at the end: records an earlier, finished rollback had already undone (their
 * `destroyed`/`restored` entry predates this rollback), and the schema items the run created.
 */
async function tally(
  runId: string,
  ledger: Ledger,
  startedAt: string,
): Promise<{ skipped: number; schemaItems: number }> {
  let skipped = 0;
  let schemaItems = 0;
  for await (const entry of ledger.entriesForRun(runId)) {
    if (entry.op === 'schema-created') schemaItems++;
    else if ((entry.op === 'destroyed' || entry.op === 'restored') && entry.at < startedAt) skipped++;
  }
  return { skipped, schemaItems };
}

/**
 * A restored record no longer holds what this run wrote: its id-map row keeps the id but loses the
 * content hash, so the next run treats it as changed (reads a fresh before-image, op `updated`)
 * instead of `unchanged`. Rows a later run wrote are left to that run.
 */
async function markRestored(
  ledger: Ledger,
  sourceInstance: string,
  entity: string,
  runId: string,
  sourceIds: readonly string[],
): Promise<void> {
  const rows = await ledger.getIdMap(sourceInstance, entity, sourceIds);
  const mine = [...rows.values()]
    .filter((row) => row.runId === runId)
    .map((row) => ({ ...row, contentHash: '' }));
  if (mine.length > 0) await ledger.putIdMap(sourceInstance, entity, mine);
}
