import type { z } from 'zod';
import { rollbackFamily } from '../../core/delta/link.ts';
import { NotFoundError } from '../../core/errors.ts';
import { sourceInstanceOf } from '../../core/rollback/entries.ts';
import type { UndoContext } from '../../core/rollback/progress.ts';
import { recreateDeleted } from '../../core/rollback/recreate-deleted.ts';
import { removeSchema } from '../../core/rollback/remove-schema.ts';
import { tally } from '../../core/rollback/tally.ts';
import { CursorSaver, DeadlineReached, StepJournal, TickBudget } from '../../core/rollback/tick.ts';
import { undo } from '../../core/rollback/undo.ts';
import { verifyRestores } from '../../core/rollback/verify.ts';
import { readArtifactIfPresent, rollbackCursorKey, rollbackReportKey } from '../../core/run-layout.ts';
import type { Ledger } from '../../ports/ledger.ts';
import type { ObjectStore } from '../../ports/object-store.ts';
import type { RunRecord, RunStore } from '../../ports/run-store.ts';
import type { TaskDeps } from '../deps.ts';
import { RUN_LOCK_TTL_MS } from '../inventory/inventory.ts';
import {
  ROLLBACK_DEADLINE_MARGIN_MS,
  ROLLBACK_TIMEOUT_SECONDS,
  type RollbackCursor,
  RollbackCursorSchema,
  type RollbackInputSchema,
  type RollbackOutput,
  type RollbackReport,
} from './schema.ts';

type Input = z.infer<typeof RollbackInputSchema>;

/** Rollback's own bound on a tick, beside the invocation's `deps.deadlineAt`. */
export interface RollbackTickOptions {
  /**
   * Epoch ms after which no new Twenty request is started (the tick persists and returns): the Lambda
   * handler's remaining time minus {@link ROLLBACK_DEADLINE_MARGIN_MS}. Absent = the function's timeout
   * minus that margin from now.
   */
  readonly deadline?: number;
}

/**
 * When this tick stops sending. Every time-boxed task ends its tick at `deps.deadlineAt` (Lambda: its
 * remaining time minus a margin; locally the runner's tick budget, `--tick-seconds`), and so does
 * Rollback; its own bound (`options.deadline`, else the function's timeout minus Rollback's wider
 * margin) still applies when it comes first, or alone when the invocation has no time box.
 */
export function tickDeadline(now: number, deadlineAt: number | undefined, own: number | undefined): number {
  const bound = own ?? now + ROLLBACK_TIMEOUT_SECONDS * 1000 - ROLLBACK_DEADLINE_MARGIN_MS;
  return deadlineAt === undefined ? bound : Math.min(deadlineAt, bound);
}

/** The run being rolled back, locked for this tick, and the stores the tick writes to. */
interface LockedRun {
  readonly runs: RunStore;
  readonly ledger: Ledger;
  readonly run: RunRecord;
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
 * Continuation: a tick that reaches its deadline ({@link tickDeadline}: `deps.deadlineAt`, bounded by
 * Rollback's own) persists the cursor and returns `done:false` with `waitSeconds`; the state machine
 * calls it again with the same input.
 */
export async function rollback(
  input: Input,
  deps: TaskDeps,
  options: RollbackTickOptions = {},
): Promise<RollbackOutput> {
  const { clock, work } = deps;
  const deadline = tickDeadline(clock.now(), deps.deadlineAt, options.deadline);
  const locked = await lockRun(input.runId, deps);
  const cursor = await startTick(input.runId, deps, locked.runs);
  const twenty = await deps.twenty();
  const saver = new CursorSaver(work, input.runId, cursor, () => twenty.stats().requests);
  // Saved before any request: a tick killed before its first step still leaves this rollback's
  // `startedAt`, so a new process does not take its work for an earlier rollback's.
  await saver.save();
  const budget = new TickBudget(() => clock.now(), deadline);
  const ctx: UndoContext = {
    runId: input.runId,
    work,
    ledger: locked.ledger,
    twenty,
    at: () => new Date(clock.now()).toISOString(),
    beforeRequest: budget.beforeRequest,
    onProgress: budget.onProgress,
    journal: new StepJournal(cursor, () => saver.save()),
  };
  if (!(await runStages(ctx, cursor, saver, input.removeSchema === true))) {
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
  return finish(input.runId, deps, locked, cursor, saver);
}

/** The run's record, with its folder's lock taken (or renewed) for this tick. */
async function lockRun(runId: string, deps: TaskDeps): Promise<LockedRun> {
  const runs = deps.runStore;
  const ledger = deps.ledger;
  const run = await runs.getRun(runId);
  if (!run) throw new NotFoundError(`Rollback: run ${runId} has no run record`);
  await runs.acquireLock(run.folder, runId, RUN_LOCK_TTL_MS);
  return { runs, ledger, run };
}

/** This tick's cursor (the saved one, or a new rollback's), counted as a tick; the run is marked rolling back. */
async function startTick(runId: string, deps: TaskDeps, runs: RunStore): Promise<RollbackCursor> {
  const previous = await readCursor(deps.work, runId);
  // A finished cursor belongs to an earlier rollback: this is a new one (it will find everything undone).
  const cursor: RollbackCursor =
    previous && previous.stage !== 'done' ? previous : freshCursor(runId, deps.clock.now());
  // The runs it undoes are fixed when it starts: a delta linked meanwhile waits for the next rollback.
  cursor.family ??= await rollbackFamily(deps.work, runId);
  cursor.ticks++;
  await runs.updateRun(runId, { status: 'rolling-back', stage: 'Rollback' });
  return cursor;
}

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
    verifiedPages: 0,
    filesDeleted: 0,
    schemaRemoved: 0,
    problems: [],
  };
}

/** Ids this rollback hard-deleted (its `destroyed` entries over the family), lower-case. */
async function destroyedSince(
  ctx: UndoContext,
  family: readonly string[],
  startedAt: string,
): Promise<Set<string>> {
  const ids = new Set<string>();
  for (const runId of family)
    for await (const entry of ctx.ledger.entriesForRun(runId))
      if (entry.op === 'destroyed' && entry.at >= startedAt) ids.add(entry.twentyId.toLowerCase());
  return ids;
}

/** The runs this rollback undoes, in order (the run's deltas newest first, then the run). */
function familyOf(cursor: RollbackCursor): readonly string[] {
  return cursor.family ?? [cursor.runId];
}

/**
 * The undo stage (for each run of the family: its reverse walk, then the records its
 * `--propagate-deletes` deleted, recreated), the schema stage (`removeSchema` only), then the verify
 * stage, from wherever the cursor stands. Returns false when the tick reached its deadline (the cursor
 * is saved); any other error is thrown after saving it.
 */
async function runStages(
  ctx: UndoContext,
  cursor: RollbackCursor,
  saver: CursorSaver,
  withSchema: boolean,
): Promise<boolean> {
  const family = familyOf(cursor);
  try {
    if (cursor.stage === 'undo') {
      for (const runId of family) {
        const runCtx = { ...ctx, runId };
        await undo(runCtx, cursor);
        await recreateDeleted(runCtx, cursor, await sourceInstanceOf(ctx.work, runId));
      }
      cursor.stage = 'schema';
      await saver.save();
    }
    if (cursor.stage === 'schema') {
      if (withSchema) await removeSchema(ctx, family, cursor);
      cursor.stage = 'verify';
      await saver.save();
    }
    if (cursor.stage === 'verify') {
      // Pages an earlier tick read back (and counted) are passed over: the walk is the same each tick.
      const pages = { seen: 0, done: cursor };
      // Oldest run first: a record several runs updated must hold the oldest before-image.
      const skip = await destroyedSince(ctx, family, cursor.startedAt);
      for (const runId of [...family].reverse()) await verifyRestores({ ...ctx, runId }, cursor, skip, pages);
    }
    return true;
  } catch (error) {
    await saver.save();
    if (error instanceof DeadlineReached) return false;
    throw error;
  }
}

/** The last tick: tallies the ledger, writes the report, closes the run and releases its lock. */
async function finish(
  runId: string,
  deps: TaskDeps,
  { runs, ledger, run }: LockedRun,
  cursor: RollbackCursor,
  saver: CursorSaver,
): Promise<RollbackOutput> {
  const { skipped, schemaItems } = await tally(familyOf(cursor), ledger, cursor.startedAt);
  cursor.counts.skipped = skipped;
  const status = cursor.problems.length === 0 ? 'rolled-back' : 'failed';
  cursor.stage = 'done';
  await saver.save();
  const reportKey = rollbackReportKey(runId);
  const report = reportOf(runId, status, cursor, schemaItems);
  await deps.work.put(reportKey, `${JSON.stringify(report, null, 2)}\n`, 'application/json');
  for (const undone of familyOf(cursor)) {
    if (undone !== runId && (await runs.getRun(undone)) === undefined) continue;
    await runs.updateRun(undone, {
      status,
      stage: 'Rollback',
      finishedAt: new Date(deps.clock.now()).toISOString(),
      ...(status === 'failed' ? { error: 'RollbackIncomplete' } : {}),
    });
  }
  await runs.releaseLock(run.folder, runId);
  deps.log.info('rollback finished', {
    runId,
    status,
    ticks: cursor.ticks,
    requests: cursor.requests,
    ...cursor.counts,
  });
  return { ...output(runId, cursor, { done: true, waitSeconds: 0, status }), reportKey };
}

function reportOf(
  runId: string,
  status: RollbackReport['status'],
  cursor: RollbackCursor,
  schemaItems: number,
): RollbackReport {
  return {
    runId,
    status,
    ...cursor.counts,
    verified: cursor.problems.length === 0,
    verifiedRecords: cursor.verifiedRecords,
    ticks: cursor.ticks,
    requests: cursor.requests,
    problems: cursor.problems,
    runs: [...familyOf(cursor)],
    filesDeleted: cursor.filesDeleted,
    schemaRemoved: cursor.schemaRemoved,
    leftBehind: { schemaItems },
  };
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
    runs: familyOf(cursor).length,
    schemaRemoved: cursor.schemaRemoved,
  };
}
