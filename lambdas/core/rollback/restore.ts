import { isDeepStrictEqual } from 'node:util';
import type { TwentyModel } from '../../ports/twenty-model.ts';
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

/** Null, '', [] or a composite whose every part is empty: the ways Twenty stores "no value". */
function isEmptyValue(value: unknown): boolean {
  if (value === null || value === undefined || value === '') return true;
  if (Array.isArray(value)) return value.length === 0;
  if (typeof value === 'object') return Object.values(value).every(isEmptyValue);
  return false;
}

/**
 * The restored fields whose live value differs from the patch (names only, never values). "No value"
 * equals "no value" whatever its shape: a before-image read after the run created a custom field holds
 * its empty default, and once `--schema` removed the field the record has no such key at all.
 */
export function fieldsNotRestored(
  live: Readonly<Record<string, unknown>>,
  patch: Readonly<Record<string, unknown>>,
): string[] {
  return Object.keys(patch).filter(
    (field) =>
      !isDeepStrictEqual(live[field] ?? null, patch[field] ?? null) &&
      !(isEmptyValue(live[field]) && isEmptyValue(patch[field])),
  );
}

/** What rollback does with one ledger entry of the run. */
export type RollbackAction = 'destroy' | 'restore' | 'skip' | 'done';

/**
 * Decides per record from all of the run's entries for one (phase, entity): `created` → destroy,
 * `updated` → restore, unless a `destroyed`/`restored` entry says it is undone already — by this
 * rollback's earlier tick (`done`: its `at` is not before `startedAt`) or by an earlier rollback
 * (`skip`), so a resumed or repeated rollback never touches a record twice, nor one a later run may
 * have written again. Schema entries are not records and are left out.
 */
export function planGroup(
  entries: readonly LedgerEntry[],
  startedAt?: string,
): Map<string, { action: RollbackAction; entry: LedgerEntry }> {
  const undoneAt = new Map<string, string>();
  for (const entry of entries) {
    if (entry.op !== 'destroyed' && entry.op !== 'restored') continue;
    const seen = undoneAt.get(entry.sourceId);
    if (seen === undefined || entry.at > seen) undoneAt.set(entry.sourceId, entry.at);
  }
  const plan = new Map<string, { action: RollbackAction; entry: LedgerEntry }>();
  for (const entry of entries) {
    if (entry.op !== 'created' && entry.op !== 'updated') continue;
    const undone = undoneAt.get(entry.sourceId);
    const action: RollbackAction =
      undone !== undefined
        ? startedAt !== undefined && undone >= startedAt
          ? 'done'
          : 'skip'
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

/**
 * The body that recreates a record hard-deleted in Twenty since the run, from its before-image:
 * its id and every scalar/composite field and join column the object has now, without system
 * fields and embedded related records (the before-image was read with depth 1).
 */
export function recreateRecord(
  model: TwentyModel,
  object: string,
  id: string,
  beforeImage: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  const meta = model.object(object);
  const writable = new Set<string>();
  for (const field of meta.fields) {
    if (field.joinColumnName) writable.add(field.joinColumnName);
    if (field.type === 'RELATION' || field.type === 'MORPH_RELATION') continue;
    writable.add(field.name);
  }
  const body: Record<string, unknown> = { id };
  for (const [field, value] of Object.entries(beforeImage)) {
    if (PROTECTED_FIELDS.has(field) || !writable.has(field)) continue;
    body[field] = value;
  }
  return body;
}
