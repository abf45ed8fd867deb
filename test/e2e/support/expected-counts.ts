import { expect } from 'vitest';
import type { Reconciliation } from '../../../lambdas/core/reconcile/report.ts';
import type { ExpectedExport } from '../../../lib/generate/index.ts';

/**
 * The reconciliation's per-entity counts equal what the generator says a correct migration
 * reports: source rows, loaded, rejects and skips by reason, balanced. Returns each entity's row
 * of the reconciliation for further checks.
 */
export function expectCountsAsPredicted(
  reconciliation: Reconciliation,
  expected: ExpectedExport,
): Map<string, Reconciliation['entities'][number]> {
  const rows = new Map<string, Reconciliation['entities'][number]>();
  for (const [entity, want] of Object.entries(expected.entities)) {
    const got = reconciliation.entities.find((e) => e.entity === entity);
    expect(got, entity).toBeDefined();
    if (!got) continue;
    rows.set(entity, got);
    expect(got.sourceRows, `${entity} rows`).toBe(want.rows);
    expect(got.loaded.created + got.loaded.updated + got.loaded.unchanged, `${entity} loaded`).toBe(
      want.loaded,
    );
    expect(got.rejected, `${entity} rejected`).toEqual(want.rejects);
    expect(got.skipped, `${entity} skipped`).toEqual(want.skips);
    expect(got.balanced, `${entity} balanced`).toBe(true);
  }
  return rows;
}
