import type { z } from 'zod';
import { NotFoundError, ValidationError } from '../../core/errors.ts';
import type { UndoContext } from '../../core/rollback/progress.ts';
import { tally } from '../../core/rollback/tally.ts';
import { undo } from '../../core/rollback/undo.ts';
import { verifyRestores } from '../../core/rollback/verify.ts';
import { readArtifactIfPresent, rollbackCursorKey, rollbackReportKey } from '../../core/run-layout.ts';
import type { ObjectStore } from '../../ports/object-store.ts';
import { requireDep, type TaskDeps } from '../deps.ts';
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

/** When a tick must stop: Lambda's remaining time minus a margin, or locally the same budget. */
export interface RollbackTickOptions {
  /** Epoch ms after which no new Twenty request is started (the tick persists and returns). */
  readonly deadline?: number;
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
    const ctx: UndoContext = {
      runId: input.runId,
      work,
      ledger,
      twenty,
      at: () => new Date(clock.now()).toISOString(),
      beforeRequest,
      onProgress: () => {
        progressed = true;
      },
    };
    if (cursor.stage === 'undo') {
      await undo(ctx, cursor);
      cursor.stage = 'verify';
      await saveCursor();
    }
    if (cursor.stage === 'verify') await verifyRestores(ctx, cursor);
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
