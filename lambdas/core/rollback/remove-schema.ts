import { z } from 'zod';
import type { FieldMeta, ObjectMeta, SelectOption, TwentyApi, TwentyFilter } from '../../ports/twenty.ts';
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
 * Where `--schema`'s data check stands, kept in the rollback cursor so a tick that reaches its
 * deadline mid-check continues from the same page: the item (index in the pending list), the pass
 * (0: live records, 1: soft-deleted ones), the last id read (pages go by id), the records found
 * holding data in the item so far, and the items found blocked. `checked`: every item was checked and
 * none is blocked (the removals may start).
 */
export const SchemaCheckSchema = z.object({
  item: z.number().int().nonnegative(),
  pass: z.union([z.literal(0), z.literal(1)]),
  afterId: z.string().optional(),
  holding: z.number().int().nonnegative(),
  blocked: z.array(z.string()),
  checked: z.boolean(),
});
export type SchemaCheck = z.infer<typeof SchemaCheckSchema>;

/** What one item's data check reads: its object, its column (none: the object itself) and the option values kept. */
interface CheckTarget {
  readonly plural: string;
  readonly column: string | undefined;
  readonly kept: ReadonlySet<string> | undefined;
}

/**
 * The item's object and column, or undefined when there is nothing to check (the object or field
 * is gone already, or a field on an object removed with the run's objects).
 */
function checkTarget(model: TwentyModel, item: SchemaItem): CheckTarget | undefined {
  const object: ObjectMeta | undefined = model.find(item.object);
  if (object === undefined) return undefined;
  if (item.kind === 'object') return { plural: object.namePlural, column: undefined, kept: undefined };
  const field: FieldMeta | undefined = model.field(item.object, item.field ?? '');
  if (field === undefined) return undefined;
  const kept =
    item.kind === 'options'
      ? new Set(((item.entry.beforeImage?.options ?? []) as SelectOption[]).map((o) => o.value))
      : undefined;
  return { plural: object.namePlural, column: field.joinColumnName ?? field.name, kept };
}

/**
 * Whether a record holds data in the item: any record of a custom object; a non-empty value of a
 * field; a value of a select option the run added.
 */
function holdsData(target: CheckTarget, record: Record<string, unknown>): boolean {
  if (target.column === undefined) return true;
  const value = record[target.column];
  if (isEmpty(value)) return false;
  if (target.kept === undefined) return true;
  const values = Array.isArray(value) ? value : [value];
  return !values.every((v) => target.kept?.has(String(v)));
}

/**
 * One page of the data check (by id, after `check.afterId`; live records, then soft-deleted ones):
 * adds the records holding data to `check.holding` and moves the position on. Returns true when the
 * item's check is complete.
 */
async function checkPage(twenty: TwentyApi, target: CheckTarget, check: SchemaCheck): Promise<boolean> {
  const filters: TwentyFilter[] = [];
  if (check.pass === 1) filters.push({ field: 'deletedAt', op: 'is', value: 'NOT_NULL' });
  if (check.afterId !== undefined) filters.push({ field: 'id', op: 'gt', value: check.afterId });
  const filter = filters.length === 0 ? undefined : filters.length === 1 ? filters[0] : { and: filters };
  let n = 0;
  let last: string | undefined;
  for await (const record of twenty.findMany(target.plural, {
    ...(filter === undefined ? {} : { filter }),
    orderBy: [{ field: 'id', direction: 'AscNullsFirst' }],
    fields: target.column === undefined ? [] : [target.column],
    limit: CHECK_PAGE,
    depth: 0,
  })) {
    n++;
    last = record.id;
    if (holdsData(target, record)) check.holding++;
    if (n === CHECK_PAGE) break;
  }
  if (n === CHECK_PAGE && last !== undefined) {
    check.afterId = last;
    return false;
  }
  delete check.afterId;
  if (check.pass === 0) {
    check.pass = 1;
    return false;
  }
  return true;
}

/**
 * Checks the items from where `check` stands, a page per request (each after the tick's deadline
 * check), and records the ones still holding data Ferry did not write (Ferry's own records are
 * destroyed or restored by now).
 */
async function checkItems(
  ctx: UndoContext,
  model: TwentyModel,
  items: readonly SchemaItem[],
  removedObjects: ReadonlySet<string>,
  check: SchemaCheck,
): Promise<void> {
  for (; check.item < items.length; check.item++, check.pass = 0, check.holding = 0) {
    const item = items[check.item] as SchemaItem;
    if (item.kind !== 'object' && removedObjects.has(item.object)) continue;
    const target = checkTarget(model, item);
    if (target === undefined) continue;
    let complete = false;
    while (!complete) {
      ctx.beforeRequest();
      complete = await checkPage(ctx.twenty, target, check);
      ctx.onProgress();
    }
    if (check.holding > 0) check.blocked.push(`${nameOf(item)} (${check.holding} record(s))`);
  }
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
 * each such object or field and how many records (never a value). The check keeps its position in
 * `progress.schemaCheck` (the rollback cursor), so a tick that ends mid-check continues where it
 * stopped; a refusal clears it, so the next rollback checks again. Fields on objects that stay go
 * first, then option lists, then objects (a custom object takes its own fields with it). Each removal
 * is marked `destroyed` in the ledger, so a resumed or repeated rollback skips it, and counted in
 * `progress.schemaRemoved`.
 */
export async function removeSchema(
  ctx: UndoContext,
  runs: readonly string[],
  progress: { schemaCheck?: SchemaCheck | undefined; schemaRemoved: number },
): Promise<void> {
  const items = await pendingItems(ctx, runs);
  if (items.length === 0) return;
  ctx.beforeRequest();
  const model = await ctx.twenty.refreshMetadata();
  const removedObjects = new Set(items.filter((i) => i.kind === 'object').map((i) => i.object));
  progress.schemaCheck ??= { item: 0, pass: 0, holding: 0, blocked: [], checked: false };
  const check = progress.schemaCheck;
  if (!check.checked) {
    await checkItems(ctx, model, items, removedObjects, check);
    const blocked = check.blocked;
    if (blocked.length > 0) {
      progress.schemaCheck = undefined;
      throw new SchemaConflictError(
        `Rollback --schema refused: ${blocked.join('; ')} hold data Ferry did not write. ` +
          'Move or clear it in Twenty, or roll back without --schema (the records are rolled back already)',
        { code: 'SCHEMA_HOLDS_DATA' },
      );
    }
    check.checked = true;
  }
  const order = { field: 0, options: 1, object: 2 } as const;
  for (const item of [...items].sort((a, b) => order[a.kind] - order[b.kind])) {
    ctx.beforeRequest();
    const id = `schema:${item.entry.sourceId}`;
    await ctx.journal.begin([id]);
    if (item.kind === 'options') {
      const before = (item.entry.beforeImage?.options ?? []) as SelectOption[];
      if (model.field(item.object, item.field ?? '') !== undefined)
        await ctx.twenty.setSelectOptions(item.object, item.field ?? '', before);
    } else if (!(item.kind === 'field' && removedObjects.has(item.object))) {
      await ctx.twenty.removeMetadata(item.kind === 'object' ? 'objects' : 'fields', item.entry.twentyId);
    }
    ctx.onProgress();
    if (ctx.journal.interrupted(id) !== 'counted') progress.schemaRemoved++;
    await ctx.journal.counted();
    await ctx.ledger.appendMany([undoneEntry(item.entry, 'destroyed', ctx.at())]);
    ctx.journal.end();
  }
}
