import type { ObjectStore } from '../../ports/object-store.ts';
import type { Reconciliation } from '../reconcile/report.ts';
import { propagatedDeletesKey, readArtifactIfPresent } from '../run-layout.ts';
import type { DeltaOf } from './link.ts';
import { type PropagatedDeletes, PropagatedDeletesSchema } from './propagate-deletes.ts';

/** Reasons a delta counts as conflicts: the practice's own changes in Twenty, left alone. */
const CONFLICT_REASONS = ['CONFLICT_EDITED_IN_TWENTY', 'CONFLICT_DELETED_IN_TWENTY'] as const;

/** The delta's `deletes.json`, when PropagateDeletes wrote it. */
export async function readPropagatedDeletes(
  work: ObjectStore,
  runId: string,
): Promise<PropagatedDeletes | undefined> {
  return readArtifactIfPresent(work, propagatedDeletesKey(runId), PropagatedDeletesSchema);
}

/**
 * Records missing from the export, with the ones PropagateDeletes deleted added back: deleting them
 * removed their id-map rows, but they are still records this export no longer holds.
 */
export function withDeleted(
  missing: Reconciliation['missingFromExport'],
  deletes: PropagatedDeletes | undefined,
): Reconciliation['missingFromExport'] {
  const out: Reconciliation['missingFromExport'] = { ...missing };
  for (const [entity, d] of Object.entries(deletes?.entities ?? {})) {
    if (d.deleted === 0) continue;
    const was = out[entity] ?? { count: 0, sourceIds: [] };
    out[entity] = {
      count: was.count + d.deleted,
      sourceIds: [...was.sourceIds, ...d.deletedSourceIds].slice(0, 1000),
    };
  }
  return out;
}

/** The delta block of reconciliation.json, from the finished report and `deletes.json`. */
export function deltaCounts(
  link: DeltaOf,
  report: Reconciliation,
  deletes: PropagatedDeletes | undefined,
): NonNullable<Reconciliation['delta']> {
  const entities = Object.values(deletes?.entities ?? {});
  return {
    baseRunId: link.baseRunId,
    propagateDeletes: deletes?.propagateDeletes ?? false,
    new: report.totals.created,
    changed: report.totals.updated,
    unchanged: report.totals.unchanged,
    missing: Object.values(report.missingFromExport).reduce((n, m) => n + m.count, 0),
    conflicts: CONFLICT_REASONS.reduce((n, reason) => n + (report.rejects[reason] ?? 0), 0),
    deleted: entities.reduce((n, e) => n + e.deleted, 0),
    preexistingKept: entities.reduce((n, e) => n + e.preexisting, 0),
  };
}
