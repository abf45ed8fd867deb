import type { z } from 'zod';
import { deletePagesUntil, startDeleteTick } from '../../core/delta/delete-ticks.ts';
import { deltaOf, rollbackFamily } from '../../core/delta/link.ts';
import {
  type EntityDeletes,
  missingRows,
  type PropagateContext,
  type PropagatedDeletes,
  planDeletes,
} from '../../core/delta/propagate-deletes.ts';
import { ValidationError } from '../../core/errors.ts';
import { PlanSchema } from '../../core/inventory/plan.ts';
import { readLoadStats, readPrepare } from '../../core/reconcile/inputs.ts';
import { planKeyFor, propagatedDeletesKey, readArtifactIfPresent } from '../../core/run-layout.ts';
import { missingScope } from '../../core/sources/fhir/incremental.ts';
import type { TaskDeps } from '../deps.ts';
import type { PropagateDeletesInputSchema, PropagateDeletesOutput } from './schema.ts';

/**
 * PropagateDeletes: after a delta's load, the records of the base run and its earlier deltas that
 * the newer export no longer holds — reported always, hard-deleted with `--propagate-deletes` when
 * Ferry created them (see {@link planDeletes}). Time-boxed: the first tick fixes the plan (pages of
 * ≤ 100 ids) in the work bucket; each tick deletes pages until `deps.deadlineAt`, then returns
 * `done:false`, and the machine calls it again. The last tick writes `deletes.json`, which Reconcile
 * folds into `missingFromExport` and the delta's counts.
 */
export async function propagateDeletesStage(
  input: z.infer<typeof PropagateDeletesInputSchema>,
  deps: TaskDeps,
): Promise<PropagateDeletesOutput> {
  const { runId, options } = input;
  const link = await deltaOf(deps.work, runId);
  if (link === undefined)
    throw new ValidationError(`PropagateDeletes: run ${runId} is not a delta (no delta.json)`, {
      code: 'DELTA_NOT_LINKED',
    });
  const wanted = options.propagateDeletes === true;
  const ctx: PropagateContext = {
    runId,
    baseRunId: link.baseRunId,
    earlierRuns: (await rollbackFamily(deps.work, link.baseRunId)).filter((r) => r !== runId),
    sourceInstance: link.sourceInstance,
    work: deps.work,
    ledger: deps.ledger,
    force: options.force === true,
    at: () => new Date(deps.clock.now()).toISOString(),
  };
  const progress = await startDeleteTick(deps.work, runId, async () => {
    const prepare = await readPrepare(deps.work, runId);
    const chunks = await readLoadStats(deps.work, runId);
    const entities = Object.keys(prepare.entities);
    // A FHIR `_since` export holds only what changed: only its `deleted[]` entries are missing.
    const runPlan = await readArtifactIfPresent(deps.work, planKeyFor(runId), PlanSchema);
    const missing = await missingRows(
      deps.work,
      ctx.ledger,
      runId,
      ctx.sourceInstance,
      entities,
      chunks.full,
      await missingScope(deps.drop, runPlan),
    );
    return planDeletes(ctx, missing, wanted);
  });
  const { cursor, plan } = progress;
  const done =
    cursor.next >= plan.pages.length ||
    (await deletePagesUntil(ctx, await deps.twenty(), progress, () => deps.clock.now(), deps.deadlineAt));
  const output = outputOf(runId, link.baseRunId, plan.propagateDeletes, cursor.entities);
  const tick = { ...output, done, waitSeconds: 0, ticks: cursor.ticks };
  if (!done) {
    deps.log.info('delta deletes tick ended at its deadline', {
      runId,
      tick: cursor.ticks,
      page: cursor.next,
    });
    return tick;
  }
  const report: PropagatedDeletes = {
    runId,
    baseRunId: link.baseRunId,
    propagateDeletes: plan.propagateDeletes,
    entities: cursor.entities,
  };
  await deps.work.put(output.deletesKey, `${JSON.stringify(report, null, 2)}\n`, 'application/json');
  deps.log.info('delta deletes', { ...output, deletesKey: undefined, ticks: cursor.ticks });
  return tick;
}

/** The totals over the entities (ids stay in the work bucket). */
function outputOf(
  runId: string,
  baseRunId: string,
  propagateDeletes: boolean,
  entities: Record<string, EntityDeletes>,
): Omit<PropagateDeletesOutput, 'done' | 'waitSeconds' | 'ticks'> {
  const total = (key: 'missing' | 'deleted' | 'preexisting' | 'conflicts') =>
    Object.values(entities).reduce((n, e) => n + e[key], 0);
  return {
    runId,
    baseRunId,
    propagateDeletes,
    missing: total('missing'),
    deleted: total('deleted'),
    preexisting: total('preexisting'),
    conflicts: total('conflicts'),
    deletesKey: propagatedDeletesKey(runId),
  };
}
