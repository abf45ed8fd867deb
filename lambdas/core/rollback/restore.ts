import { isDeepStrictEqual } from 'node:util';
import type { LedgerEntry } from '../ledger/entry.ts';

/**
 * Fields rollback never writes back, even when Ferry's mapped record carried them: Twenty owns them
 * (ids, audit stamps, ordering, actor, search index), and PATCHing them is refused or corrupts history.
 */
export const PROTECTED_FIELDS: ReadonlySet<string> = new Set([
  'id',
  'createdAt',
  'updatedAt',
  'deletedAt',
  'position',
  'createdBy',
  'updatedBy',
  'searchVector',
]);

/**
 * The PATCH that undoes Ferry's update of one record: for every field Ferry sent (the keys of the
 * mapped record), the before-image's value, or null when the record had no such field then (e.g. a
 * custom field this run created). Only those fields: whatever an operator or another integration
 * changed on other fields since is left alone.
 */
export function restorePatch(
  beforeImage: Readonly<Record<string, unknown>>,
  sentFields: readonly string[],
): Record<string, unknown> {
  const patch: Record<string, unknown> = {};
  for (const field of sentFields) {
    if (PROTECTED_FIELDS.has(field)) continue;
    patch[field] = Object.hasOwn(beforeImage, field) ? beforeImage[field] : null;
  }
  return patch;
}

/** The restored fields whose live value differs from the patch (names only, never values). */
export function fieldsNotRestored(
  live: Readonly<Record<string, unknown>>,
  patch: Readonly<Record<string, unknown>>,
): string[] {
  return Object.keys(patch).filter((field) => !isDeepStrictEqual(live[field] ?? null, patch[field] ?? null));
}

/** What rollback does with one ledger entry of the run. */
export type RollbackAction = 'destroy' | 'restore' | 'skip';

/**
 * Decides per record from all of the run's entries for one (phase, entity): a record already marked
 * `destroyed`/`restored` by an earlier rollback is skipped (so a resumed or repeated rollback never
 * touches a record a later run may have written again); `created` → destroy; `updated` → restore.
 * Schema entries are not records and are left to schema removal.
 */
export function planGroup(
  entries: readonly LedgerEntry[],
): Map<string, { action: RollbackAction; entry: LedgerEntry }> {
  const done = new Set<string>();
  for (const entry of entries) {
    if (entry.op === 'destroyed' || entry.op === 'restored') done.add(entry.sourceId);
  }
  const plan = new Map<string, { action: RollbackAction; entry: LedgerEntry }>();
  for (const entry of entries) {
    if (entry.op !== 'created' && entry.op !== 'updated') continue;
    const action: RollbackAction = done.has(entry.sourceId)
      ? 'skip'
      : entry.op === 'created'
        ? 'destroy'
        : 'restore';
    const seen = plan.get(entry.sourceId);
    // Both ops for one record in one run (never written by LoadChunk, but a hand-edited ledger may):
    // the record existed before the run only if it was updated, so restoring wins over destroying.
    if (seen === undefined || (seen.action === 'destroy' && action === 'restore')) {
      plan.set(entry.sourceId, { action, entry });
    }
  }
  return plan;
}
