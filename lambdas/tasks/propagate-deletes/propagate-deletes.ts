import type { z } from 'zod';
import { deltaOf, rollbackFamily } from '../../core/delta/link.ts';
import {
  missingRows,
  type PropagatedDeletes,
  propagateDeletes as propagate,
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
 * Ferry created them (see {@link propagate}). Writes `deletes.json`, which Reconcile folds into
 * `missingFromExport` and the delta's counts.
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
  const ledger = deps.ledger;
  const prepare = await readPrepare(deps.work, runId);
  const chunks = await readLoadStats(deps.work, runId);
  const plan = await readArtifactIfPresent(deps.work, planKeyFor(runId), PlanSchema);
  const missing = await missingRows(
    deps.work,
    ledger,
    runId,
    link.sourceInstance,
    Object.keys(prepare.entities),
    chunks.full,
    await missingScope(deps.drop, plan),
  );
  const earlierRuns = (await rollbackFamily(deps.work, link.baseRunId)).filter((r) => r !== runId);
  const wanted = options.propagateDeletes === true;
  const entities = await propagate(
    {
      runId,
      baseRunId: link.baseRunId,
      earlierRuns,
      sourceInstance: link.sourceInstance,
      work: deps.work,
      ledger,
      ...(wanted ? { twenty: await deps.twenty() } : {}),
      force: options.force === true,
      at: () => new Date(deps.clock.now()).toISOString(),
    },
    missing,
    wanted,
  );
  const report: PropagatedDeletes = { runId, baseRunId: link.baseRunId, propagateDeletes: wanted, entities };
  const deletesKey = propagatedDeletesKey(runId);
  await deps.work.put(deletesKey, `${JSON.stringify(report, null, 2)}\n`, 'application/json');
  const total = (key: 'missing' | 'deleted' | 'preexisting' | 'conflicts') =>
    Object.values(entities).reduce((n, e) => n + e[key], 0);
  const output: PropagateDeletesOutput = {
    runId,
    baseRunId: link.baseRunId,
    propagateDeletes: wanted,
    missing: total('missing'),
    deleted: total('deleted'),
    preexisting: total('preexisting'),
    conflicts: total('conflicts'),
    deletesKey,
  };
  deps.log.info('delta deletes', { ...output, deletesKey: undefined });
  return output;
}
