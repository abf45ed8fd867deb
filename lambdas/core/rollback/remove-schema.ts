import type { FieldMeta, ObjectMeta, SelectOption, TwentyApi } from '../../ports/twenty.ts';
import type { TwentyModel } from '../../ports/twenty-model.ts';
import { SchemaConflictError } from '../errors.ts';
import type { LedgerEntry } from '../ledger/entry.ts';
import { undoneEntry } from './entries.ts';
import type { UndoContext } from './progress.ts';

/** One schema item a run created (its `schema-created` ledger entry), by kind. */
interface SchemaItem {
  readonly entry: LedgerEntry;
  readonly kind: 'object' | 'field' | 'options';
  readonly object: string;
  /** The field's name (fields and option lists). */
  readonly field?: string;
}

/** Null, '', [] or a composite whose every part is empty: how Twenty stores "no value". */
function isEmpty(value: unknown): boolean {
  if (value === null || value === undefined || value === '') return true;
  if (Array.isArray(value)) return value.length === 0;
  if (typeof value === 'object') return Object.values(value).every(isEmpty);
  return false;
}

/** `person` → object, `person.allergies` → field (or relation), `person.status:options` → option list. */
function itemOf(entry: LedgerEntry): SchemaItem {
  const options = entry.sourceId.endsWith(':options');
  const id = options ? entry.sourceId.slice(0, -':options'.length) : entry.sourceId;
  const dot = id.indexOf('.');
  if (dot < 0) return { entry, kind: 'object', object: id };
  return { entry, kind: options ? 'options' : 'field', object: id.slice(0, dot), field: id.slice(dot + 1) };
}

/** The schema items of these runs not removed yet (no `destroyed` mark), newest run first. */
async function pendingItems(ctx: UndoContext, runs: readonly string[]): Promise<SchemaItem[]> {
  const items: SchemaItem[] = [];
  for (const runId of runs) {
    const created: LedgerEntry[] = [];
    const removed = new Set<string>();
    const key = (entry: LedgerEntry) => `${entry.phase}\u0000${entry.entity}\u0000${entry.sourceId}`;
    for await (const entry of ctx.ledger.entriesForRun(runId, { reverse: true })) {
      if (entry.op === 'schema-created') created.push(entry);
      else if (entry.op === 'destroyed') removed.add(key(entry));
    }
    for (const entry of created) if (!removed.has(key(entry))) items.push(itemOf(entry));
  }
  return items;
}

/** Records per page of the data check. */
const CHECK_PAGE = 200;

/**
 * Every value of one column over the object's records, soft-deleted ones included. `beforePage` runs
 * before each page is asked for (the tick's deadline check).
 */
async function* columnValues(
  twenty: TwentyApi,
  plural: string,
  column: string | undefined,
  beforePage: () => void,
): AsyncIterable<unknown> {
  const fields = column === undefined ? [] : [column];
  for (const filter of [undefined, { field: 'deletedAt', op: 'is' as const, value: 'NOT_NULL' }]) {
    beforePage();
    let n = 0;
    for await (const record of twenty.findMany(plural, {
      ...(filter === undefined ? {} : { filter }),
      fields,
      limit: CHECK_PAGE,
      depth: 0,
    })) {
      if (++n % CHECK_PAGE === 0) beforePage();
      yield column === undefined ? record.id : record[column];
    }
  }
}

/**
 * Records of the workspace that still hold data in a schema item after the records' rollback: any
 * record of a custom object; a non-empty value of a field; a value of a select option the run added.
 * All of it is data Ferry did not write (Ferry's own records are destroyed or restored by now).
 */
async function recordsHoldingData(
  twenty: TwentyApi,
  model: TwentyModel,
  item: SchemaItem,
  beforePage: () => void,
): Promise<number> {
  const object: ObjectMeta | undefined = model.find(item.object);
  if (object === undefined) return 0;
  if (item.kind === 'object') {
    let n = 0;
    for await (const _ of columnValues(twenty, object.namePlural, undefined, beforePage)) n++;
    return n;
  }
  const field: FieldMeta | undefined = model.field(item.object, item.field ?? '');
  if (field === undefined) return 0;
  const column = field.joinColumnName ?? field.name;
  const kept =
    item.kind === 'options'
      ? new Set(((item.entry.beforeImage?.options ?? []) as SelectOption[]).map((o) => o.value))
      : undefined;
  let n = 0;
  for await (const value of columnValues(twenty, object.namePlural, column, beforePage)) {
    if (isEmpty(value)) continue;
    if (kept !== undefined) {
      const values = Array.isArray(value) ? value : [value];
      if (values.every((v) => kept.has(String(v)))) continue;
    }
    n++;
  }
  return n;
}

function nameOf(item: SchemaItem): string {
  if (item.kind === 'object') return `custom object ${item.object}`;
  if (item.kind === 'options') return `the options the run added to ${item.object}.${item.field}`;
  return `custom field ${item.object}.${item.field}`;
}

/**
 * `rollback --schema`: removes the custom objects and fields the run and its deltas created and puts
 * back the option lists they extended (ledger `schema-created` entries), after the records' rollback.
 * Refuses — before removing anything — when an item still holds data Ferry did not write, naming
 * each such object or field and how many records (never a value). Fields on objects that stay go
 * first, then option lists, then objects (a custom object takes its own fields with it). Each removal
 * is marked `destroyed` in the ledger, so a resumed or repeated rollback skips it. Returns the number
 * of items removed.
 */
export async function removeSchema(ctx: UndoContext, runs: readonly string[]): Promise<number> {
  const items = await pendingItems(ctx, runs);
  if (items.length === 0) return 0;
  ctx.beforeRequest();
  const model = await ctx.twenty.refreshMetadata();
  const removedObjects = new Set(items.filter((i) => i.kind === 'object').map((i) => i.object));
  const blocked: string[] = [];
  for (const item of items) {
    if (item.kind !== 'object' && removedObjects.has(item.object)) continue;
    const holding = await recordsHoldingData(ctx.twenty, model, item, ctx.beforeRequest);
    ctx.onProgress();
    if (holding > 0) blocked.push(`${nameOf(item)} (${holding} record(s))`);
  }
  if (blocked.length > 0)
    throw new SchemaConflictError(
      `Rollback --schema refused: ${blocked.join('; ')} hold data Ferry did not write. ` +
        'Move or clear it in Twenty, or roll back without --schema (the records are rolled back already)',
      { code: 'SCHEMA_HOLDS_DATA' },
    );
  const order = { field: 0, options: 1, object: 2 } as const;
  let removed = 0;
  for (const item of [...items].sort((a, b) => order[a.kind] - order[b.kind])) {
    ctx.beforeRequest();
    if (item.kind === 'options') {
      const before = (item.entry.beforeImage?.options ?? []) as SelectOption[];
      if (model.field(item.object, item.field ?? '') !== undefined)
        await ctx.twenty.setSelectOptions(item.object, item.field ?? '', before);
    } else if (!(item.kind === 'field' && removedObjects.has(item.object))) {
      await ctx.twenty.removeMetadata(item.kind === 'object' ? 'objects' : 'fields', item.entry.twentyId);
    }
    ctx.onProgress();
    await ctx.ledger.appendMany([undoneEntry(item.entry, 'destroyed', ctx.at())]);
    removed++;
  }
  return removed;
}
