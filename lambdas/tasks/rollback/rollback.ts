import type { z } from 'zod';
import { NotFoundError, ValidationError } from '../../core/errors.ts';
import { chunked, type LedgerEntry } from '../../core/ledger/entry.ts';
import { parseNdjson } from '../../core/load/decide.ts';
import { MappedLineSchema, prepareStatsKey } from '../../core/load/format.ts';
import { fieldsNotRestored, planGroup, restorePatch } from '../../core/rollback/restore.ts';
import type { Ledger } from '../../ports/ledger.ts';
import type { ObjectStore } from '../../ports/object-store.ts';
import type { TwentyApi } from '../../ports/twenty.ts';
import { requireDep, type TaskDeps } from '../deps.ts';
import { RUN_LOCK_TTL_MS } from '../inventory/inventory.ts';
import {
  type RollbackInputSchema,
  type RollbackOutput,
  type RollbackProblem,
  type RollbackReport,
  rollbackReportKey,
} from './schema.ts';

type Input = z.infer<typeof RollbackInputSchema>;

/** Records undone per step: one ledger write and one id-map write per step, requests in parallel inside. */
const STEP = 60;
/** Requests in flight at once (each still takes a token from the shared gate). */
const CONCURRENCY = 4;
/** Ids per `id[in]` read-back (one Twenty page). */
const READ_PAGE = 60;

/** What rollback needs of one mapped record: where it lives and which fields Ferry sent. */
interface Sent {
  readonly object: string;
  readonly fields: readonly string[];
  readonly targets: readonly { object: string; id: string }[];
}

/** Runs `work` over `items` with at most `limit` pending. */
async function pool<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await work(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
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
    const prefix = `runs/${this.#runId}/load/${phase}/${entity}/`;
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
        const line = parsed.data;
        index.set(line.sourceId, {
          object: line.object,
          fields: Object.keys(line.data),
          targets: line.targets.map((t) => ({ object: t.object, id: t.data.id })),
        });
      }
    }
    this.#key = prefix;
    this.#index = index;
    return index;
  }
}

/** The id-map namespace the run wrote under (Prepare's stats file), if the run got that far. */
async function sourceInstanceOf(work: ObjectStore, runId: string): Promise<string | undefined> {
  const key = prepareStatsKey(runId);
  if (!(await work.exists(key))) return undefined;
  const stats = JSON.parse(await work.getText(key)) as { sourceInstance?: unknown };
  return typeof stats.sourceInstance === 'string' && stats.sourceInstance !== ''
    ? stats.sourceInstance
    : undefined;
}

/** Groups the run's entries (reverse key order) by (phase, entity), one group at a time. */
async function* groups(ledger: Ledger, runId: string): AsyncIterable<LedgerEntry[]> {
  let group: LedgerEntry[] = [];
  for await (const entry of ledger.entriesForRun(runId, { reverse: true })) {
    const first = group[0];
    if (first && (first.phase !== entry.phase || first.entity !== entry.entity)) {
      yield group;
      group = [];
    }
    group.push(entry);
  }
  if (group.length > 0) yield group;
}

interface Verify {
  readonly gone: Map<string, { entry: LedgerEntry; id: string }[]>;
  readonly restored: Map<string, { entry: LedgerEntry; patch: Record<string, unknown> }[]>;
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key) ?? [];
  list.push(value);
  map.set(key, list);
}

/**
 * Rollback: undoes one run from its ledger, newest phase first (children before parents). Records
 * the run created are hard-deleted (a soft-deleted row would keep its unique email/domain reserved)
 * together with their task/note targets; records it updated get back the before-image's values of
 * exactly the fields Ferry sent. Each step appends `destroyed`/`restored` entries under the same run
 * and fixes the id map (destroyed rows removed; restored rows marked changed so the next run reads a
 * fresh before-image), so a resumed or repeated rollback skips what is already undone. Then it reads
 * everything it touched back, writes `runs/<runId>/rollback.json` and closes the run.
 * Schema removal is not implemented: `removeSchema: true` is refused before anything changes.
 */
export async function rollback(input: Input, deps: TaskDeps): Promise<RollbackOutput> {
  if (input.removeSchema === true) {
    throw new ValidationError(
      'Rollback input removeSchema: removing the custom objects/fields a run created is not supported yet',
    );
  }
  const runs = requireDep(deps, 'runStore');
  const ledger = requireDep(deps, 'ledger');
  const run = await runs.getRun(input.runId);
  if (!run) throw new NotFoundError(`Rollback: run ${input.runId} has no run record`);
  await runs.acquireLock(run.folder, input.runId, RUN_LOCK_TTL_MS);
  await runs.updateRun(input.runId, { status: 'rolling-back', stage: 'Rollback' });
  const twenty = await requireDep(deps, 'twenty')();
  const sourceInstance = await sourceInstanceOf(deps.work, input.runId);
  const sentIndex = new SentIndex(deps.work, input.runId);

  const problems: RollbackProblem[] = [];
  const problem = (entry: LedgerEntry, code: RollbackProblem['code'], fields?: string[]) =>
    problems.push({
      phase: entry.phase,
      entity: entry.entity,
      sourceId: entry.sourceId,
      twentyId: entry.twentyId,
      code,
      ...(fields ? { fields } : {}),
    });
  let destroyed = 0;
  let restored = 0;
  let alreadyGone = 0;
  let skipped = 0;
  const verify: Verify = { gone: new Map(), restored: new Map() };

  for await (const group of groups(ledger, input.runId)) {
    const first = group[0] as LedgerEntry;
    const plan = [...planGroup(group).values()];
    if (plan.length === 0) continue;
    const sent = await sentIndex.entity(first.phase, first.entity);
    for (const step of chunked(plan, STEP)) {
      const done: LedgerEntry[] = [];
      const destroyedIds: string[] = [];
      const restoredIds: string[] = [];
      await pool(step, CONCURRENCY, async ({ action, entry }) => {
        if (action === 'skip') {
          skipped++;
          return;
        }
        const record = sent.get(entry.sourceId);
        if (!record) {
          problem(entry, 'NO_MAPPED_RECORD');
          return;
        }
        const at = new Date(deps.clock.now()).toISOString();
        if (action === 'destroy') {
          // Targets first (Twenty cascades them too; deleting them by id keeps this true everywhere).
          for (const target of record.targets) {
            await twenty.destroy(target.object, target.id);
            push(verify.gone, target.object, { entry, id: target.id });
          }
          if (await twenty.destroy(record.object, entry.twentyId)) destroyed++;
          else alreadyGone++;
          push(verify.gone, record.object, { entry, id: entry.twentyId });
          destroyedIds.push(entry.sourceId);
          done.push({ ...withoutImage(entry), op: 'destroyed', at });
          return;
        }
        if (entry.beforeImage === undefined) {
          problem(entry, 'NO_BEFORE_IMAGE');
          return;
        }
        const patch = restorePatch(entry.beforeImage, record.fields);
        try {
          await twenty.update(record.object, entry.twentyId, patch);
        } catch (error) {
          if (!(error instanceof NotFoundError)) throw error;
          problem(entry, 'GONE_BEFORE_RESTORE');
          return;
        }
        restored++;
        push(verify.restored, record.object, { entry, patch });
        restoredIds.push(entry.sourceId);
        done.push({ ...withoutImage(entry), op: 'restored', at });
      });
      if (done.length > 0) await ledger.appendMany(done);
      if (sourceInstance !== undefined) {
        if (destroyedIds.length > 0) await ledger.deleteIdMap(sourceInstance, first.entity, destroyedIds);
        if (restoredIds.length > 0) {
          await markRestored(ledger, sourceInstance, first.entity, input.runId, restoredIds);
        }
      }
    }
  }

  const verifiedRecords = await readBack(twenty, verify, problem);
  const status = problems.length === 0 ? 'rolled-back' : 'failed';
  const report: RollbackReport = {
    runId: input.runId,
    status,
    destroyed,
    restored,
    alreadyGone,
    skipped,
    verified: problems.length === 0,
    verifiedRecords,
    problems,
  };
  const reportKey = rollbackReportKey(input.runId);
  await deps.work.put(reportKey, `${JSON.stringify(report, null, 2)}\n`, 'application/json');
  await runs.updateRun(input.runId, {
    status,
    stage: 'Rollback',
    finishedAt: new Date(deps.clock.now()).toISOString(),
    ...(status === 'failed' ? { error: 'RollbackIncomplete' } : {}),
  });
  await runs.releaseLock(run.folder, input.runId);
  deps.log.info('rollback finished', {
    runId: input.runId,
    status,
    destroyed,
    restored,
    alreadyGone,
    skipped,
  });
  return {
    runId: input.runId,
    status,
    destroyed,
    restored,
    alreadyGone,
    skipped,
    verified: report.verified,
    problems: problems.length,
    reportKey,
  };
}

function withoutImage(entry: LedgerEntry): LedgerEntry {
  const { beforeImage: _image, ...rest } = entry;
  return rest;
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

/** Reads back every id this invocation touched; returns how many passed, reporting the others. */
async function readBack(
  twenty: TwentyApi,
  verify: Verify,
  problem: (entry: LedgerEntry, code: RollbackProblem['code'], fields?: string[]) => void,
): Promise<number> {
  let ok = 0;
  for (const [object, items] of verify.gone) {
    for (const page of chunked(items, READ_PAGE)) {
      const present = new Set<string>();
      for await (const record of twenty.findMany(object, {
        filter: { field: 'id', op: 'in', value: page.map((item) => item.id) },
        limit: READ_PAGE,
        fields: [],
        depth: 0,
      })) {
        present.add(record.id);
      }
      for (const item of page) {
        if (present.has(item.id)) problem(item.entry, 'STILL_PRESENT');
        else ok++;
      }
    }
  }
  for (const [object, items] of verify.restored) {
    for (const page of chunked(items, READ_PAGE)) {
      const live = new Map<string, Record<string, unknown>>();
      for await (const record of twenty.findMany(object, {
        filter: { field: 'id', op: 'in', value: page.map((item) => item.entry.twentyId) },
        limit: READ_PAGE,
        depth: 0,
      })) {
        live.set(record.id, record);
      }
      for (const item of page) {
        const record = live.get(item.entry.twentyId);
        const off = record === undefined ? ['id'] : fieldsNotRestored(record, item.patch);
        if (off.length > 0) problem(item.entry, 'NOT_RESTORED', off);
        else ok++;
      }
    }
  }
  return ok;
}
