import type { ChunkLoadStats } from '../load/format.ts';
import type { ReadBackResult } from './read-back.ts';
import { type EntityReconciliation, type Reconciliation, totalsOf } from './report.ts';

function rate(part: number, whole: number): number {
  return whole === 0 ? 1 : Math.round((part / whole) * 10_000) / 10_000;
}

/**
 * Joins the read-back's findings to the entities' balances (in place) and sums them: records
 * verified and missing over all objects, and each entity's per-field population and match rates.
 */
function applyReadBack(
  entities: readonly EntityReconciliation[],
  checked: ReadBackResult,
): { verified: number; missing: number; fields: Reconciliation['fields'] } {
  const verified = Object.values(checked.byObject).reduce((n, r) => n + r.verified, 0);
  const missing = Object.values(checked.byObject).reduce((n, r) => n + r.missing, 0);
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
  return { verified, missing, fields };
}

/** Rejects and skips per reason, over all entities. */
function reasonTotals(entities: readonly EntityReconciliation[]): {
  rejects: Record<string, number>;
  skips: Record<string, number>;
} {
  const rejects: Record<string, number> = {};
  const skips: Record<string, number> = {};
  for (const e of entities) {
    for (const [reason, n] of Object.entries(e.rejected)) rejects[reason] = (rejects[reason] ?? 0) + n;
    for (const [reason, n] of Object.entries(e.skipped)) skips[reason] = (skips[reason] ?? 0) + n;
  }
  return { rejects, skips };
}

/** What the report is assembled from: the balances, the read-back, the written artefacts' keys. */
export interface ReportParts {
  runId: string;
  generatedAt: string;
  tolerance: number;
  /** The entities' balances, sample writes already added; the read-back's counts are joined in place. */
  entities: EntityReconciliation[];
  /** Every load chunk's stats, sample included (their requests and throttles are summed). */
  chunks: readonly ChunkLoadStats[];
  checked: ReadBackResult;
  missingFromExport: Reconciliation['missingFromExport'];
  rejectsKey: string;
  workflowsKey: string | undefined;
  reportKey: string;
}

/**
 * reconciliation.json's content. Succeeded only when every entity balances, no record is missing
 * from the read-back and the mismatches are within the tolerance; otherwise failed, `problem`
 * being the first of `problems`.
 */
export function reconciliationOf(parts: ReportParts): Reconciliation {
  const { entities, checked, tolerance, chunks } = parts;
  const totals = totalsOf(entities);
  const { verified, missing, fields } = applyReadBack(entities, checked);
  const { rejects, skips } = reasonTotals(entities);
  const balanced = entities.every((e) => e.balanced);
  const problems: Reconciliation['problems'] = [];
  if (!balanced) problems.push('UNBALANCED');
  if (missing > 0) problems.push('READBACK_MISSING');
  if (checked.mismatchCount > tolerance) problems.push('MISMATCHES_OVER_TOLERANCE');
  const problem = problems[0];
  const status = problem === undefined ? 'succeeded' : 'failed';
  return {
    runId: parts.runId,
    generatedAt: parts.generatedAt,
    tolerance,
    entities,
    totals,
    readBack: checked.byObject,
    verified,
    missing,
    requests: chunks.reduce((n, c) => n + c.requests, 0),
    throttled: chunks.reduce((n, c) => n + c.throttled, 0),
    balanced,
    status,
    ...(problem ? { problem } : {}),
    problems,
    rejects,
    skips,
    fields,
    mismatchCount: checked.mismatchCount,
    mismatches: checked.mismatches,
    missingFromExport: parts.missingFromExport,
    rejectsKey: parts.rejectsKey,
    ...(parts.workflowsKey ? { workflowsKey: parts.workflowsKey } : {}),
    reportKey: parts.reportKey,
  };
}
