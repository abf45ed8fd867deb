import type { z } from 'zod';
import { deltaCounts, readPropagatedDeletes, withDeleted } from '../../core/delta/counts.ts';
import { deltaOf } from '../../core/delta/link.ts';
import type { Plan } from '../../core/inventory/plan.ts';
import { PlanSchema } from '../../core/inventory/plan.ts';
import type { ChunkLoadStats } from '../../core/load/format.ts';
import { reconciliationOf } from '../../core/reconcile/assemble.ts';
import { workflowsReference } from '../../core/reconcile/automations.ts';
import { renderReportHtml } from '../../core/reconcile/html.ts';
import { readLoadStats, readPrepare } from '../../core/reconcile/inputs.ts';
import { missingFromExport } from '../../core/reconcile/missing-from-export.ts';
import { type ParsedChunkIds, readBack } from '../../core/reconcile/read-back.ts';
import { mergedRefusals, sourceNamesOf, writeRejectsCsv } from '../../core/reconcile/rejects-file.ts';
import { type Reconciliation, reconcileEntities } from '../../core/reconcile/report.ts';
import { addSampleWrites } from '../../core/reconcile/sample-adjust.ts';
import {
  planKeyFor,
  readArtifactIfPresent,
  reconciliationKey,
  reportHtmlKey,
} from '../../core/run-layout.ts';
import { missingScope } from '../../core/sources/fhir/incremental.ts';
import type { RunStore } from '../../ports/run-store.ts';
import type { TaskDeps } from '../deps.ts';
import { reportContext } from './report-context.ts';
import type { ReconcileContinuation, ReconcileInputSchema, ReconcileOutput } from './schema.ts';

/** Records of earlier runs the export no longer holds; none without a ledger or a source instance. */
async function notInExport(
  deps: TaskDeps,
  runId: string,
  plan: Plan | undefined,
  entities: readonly string[],
  chunks: readonly ChunkLoadStats[],
  parsed: ParsedChunkIds,
): Promise<Reconciliation['missingFromExport']> {
  const sourceInstance = typeof plan?.sourceInstance === 'string' ? plan.sourceInstance : '';
  if (sourceInstance === '') return {};
  const scope = await missingScope(deps.drop, plan);
  return missingFromExport(deps.work, deps.ledger, runId, sourceInstance, entities, chunks, scope, parsed);
}

/** Writes reconciliation.json, then report.html from it; returns reconciliation.json's key. */
async function saveReport(deps: TaskDeps, report: Reconciliation, reportKey: string): Promise<string> {
  const key = reconciliationKey(report.runId);
  await deps.work.put(key, JSON.stringify(report, null, 2), 'application/json');
  const context = await reportContext(deps.work, report.runId, report.workflowsKey);
  await deps.work.put(reportKey, renderReportHtml(report, context), 'text/html; charset=utf-8');
  return key;
}

/** Marks the run succeeded or failed at the Reconcile stage and releases its drop folder's lock. */
async function closeRun(runs: RunStore, report: Reconciliation): Promise<void> {
  const run = await runs.getRun(report.runId);
  if (!run) return;
  await runs.updateRun(report.runId, {
    status: report.status,
    stage: 'Reconcile',
    finishedAt: report.generatedAt,
    ...(report.problem ? { error: report.problem } : {}),
  });
  await runs.releaseLock(run.folder, report.runId);
}

function outputOf(
  report: Reconciliation,
  keys: { reconciliationKey: string; reportKey: string },
): ReconcileOutput {
  const totals = report.totals;
  return {
    runId: report.runId,
    done: true,
    status: report.status,
    balanced: report.balanced,
    entities: report.entities.length,
    sourceRows: totals.sourceRows,
    loaded: totals.loaded,
    created: totals.created,
    updated: totals.updated,
    unchanged: totals.unchanged,
    rejected: totals.rejected,
    skipped: totals.skipped,
    verified: report.verified,
    missing: report.missing,
    mismatches: report.mismatchCount,
    tolerance: report.tolerance,
    reconciliationKey: keys.reconciliationKey,
    reportKey: keys.reportKey,
    rejectsKey: report.rejectsKey,
    ...(report.workflowsKey ? { workflowsKey: report.workflowsKey } : {}),
  };
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
  const runs = deps.runStore;
  const { runId } = input;
  const prepare = await readPrepare(deps.work, runId);
  const chunks = await readLoadStats(deps.work, runId);

  // The read-back first: it is the long part (every loaded record, at the rate limit's pace).
  const twenty = await deps.twenty();
  const parsed: ParsedChunkIds = new Map();
  const checked = await readBack(
    deps.work,
    twenty,
    runId,
    chunks.full,
    deps.deadlineAt,
    () => deps.clock.now(),
    parsed,
  );
  if (checked === undefined) return { runId, done: false, waitSeconds: 0 };

  const csv = await writeRejectsCsv(deps.work, runId, sourceNamesOf(prepare));
  const refusals = await mergedRefusals(deps.work, csv.refused);
  const entities = reconcileEntities(prepare, csv.segment, chunks.full, refusals);
  addSampleWrites(entities, chunks.sample);
  const plan = await readArtifactIfPresent(deps.work, planKeyFor(runId), PlanSchema);
  const workflowsKey = await workflowsReference(deps.drop, deps.work, runId, plan);
  const generatedAt = new Date(deps.clock.now()).toISOString();
  const link = await deltaOf(deps.work, runId);
  const deletes = link === undefined ? undefined : await readPropagatedDeletes(deps.work, runId);
  const missing = withDeleted(
    await notInExport(deps, runId, plan, Object.keys(prepare.entities), chunks.full, parsed),
    deletes,
  );
  const reportKey = reportHtmlKey(runId);
  const assembled = reconciliationOf({
    runId,
    generatedAt,
    tolerance: input.options?.tolerance ?? 0,
    entities,
    chunks: chunks.all,
    checked,
    missingFromExport: missing,
    rejectsKey: csv.key,
    workflowsKey,
    reportKey,
  });
  const report =
    link === undefined ? assembled : { ...assembled, delta: deltaCounts(link, assembled, deletes) };
  const key = await saveReport(deps, report, reportKey);
  await closeRun(runs, report);
  deps.log.info('run reconciled', {
    runId,
    status: report.status,
    entities: entities.length,
    sourceRows: report.totals.sourceRows,
    loaded: report.totals.loaded,
    rejected: report.totals.rejected,
    skipped: report.totals.skipped,
    missing: report.missing,
    mismatches: report.mismatchCount,
  });
  return outputOf(report, { reconciliationKey: key, reportKey });
}
