import { z } from 'zod';
import type { Ledger } from '../../ports/ledger.ts';
import type { ObjectStore } from '../../ports/object-store.ts';
import type { TwentyApi } from '../../ports/twenty.ts';
import { NotFoundError } from '../errors.ts';
import {
  CASCADE_LEDGER_PHASE,
  chunked,
  type IdMapRow,
  IdMapRowSchema,
  type LedgerEntry,
} from '../ledger/entry.ts';
import { conflictOf } from '../load/before-images.ts';
import { missingIdMapRows } from '../reconcile/missing-from-export.ts';
import { liveRecords, READ_PAGE } from '../rollback/read-back.ts';
import { SentIndex } from '../rollback/sent-index.ts';
import { deletedFileKey } from '../run-layout.ts';

/** Source ids listed per entity in `deletes.json` (all are counted). */
const LIST_CAP = 1000;

/** The records Twenty deletes with the records they link (ON DELETE CASCADE). */
const CASCADING_CARRIERS = ['taskTarget', 'noteTarget', 'attachment'] as const;

/** Per entity: what became of the records the newer export no longer holds. */
export const EntityDeletesSchema = z.object({
  /** Records of earlier runs of this source the export no longer holds. */
  missing: z.number().int().nonnegative(),
  /** Of those, hard-deleted (with `--propagate-deletes`; only records Ferry created). */
  deleted: z.number().int().nonnegative(),
  /** Pre-existing workspace records Ferry merged into: never deleted, only reported. */
  preexisting: z.number().int().nonnegative(),
  /** Edited or soft-deleted in Twenty since Ferry's last write: left alone unless `--force`. */
  conflicts: z.number().int().nonnegative(),
  /** Gone from Twenty already (nothing to delete). */
  alreadyGone: z.number().int().nonnegative(),
  /** The first 1,000 source ids deleted (the id map forgets them, so Reconcile lists them from here). */
  deletedSourceIds: z.array(z.string()),
});
export type EntityDeletes = z.infer<typeof EntityDeletesSchema>;

/** `runs/<deltaRunId>/deletes.json`: ids and counts only. */
export const PropagatedDeletesSchema = z.object({
  runId: z.string(),
  baseRunId: z.string(),
  propagateDeletes: z.boolean(),
  entities: z.record(z.string(), EntityDeletesSchema),
});
export type PropagatedDeletes = z.infer<typeof PropagatedDeletesSchema>;

/** What the propagation needs: the delta, the base run's family, the stores and Twenty. */
export interface PropagateContext {
  readonly runId: string;
  readonly baseRunId: string;
  /** The base run and its earlier deltas: the runs whose `created` entries say Ferry created a record. */
  readonly earlierRuns: readonly string[];
  readonly sourceInstance: string;
  readonly work: ObjectStore;
  readonly ledger: Ledger;
  /** Needed only when deleting. */
  readonly twenty?: TwentyApi;
  readonly force: boolean;
  readonly at: () => string;
}

/** A record Ferry created in an earlier run of the family and not undone since. */
interface Created {
  readonly runId: string;
  readonly phase: string;
  readonly twentyId: string;
}

/**
 * One page of deletes: at most 100 records of one (phase, entity, Twenty object) — one `id[in]` read
 * and one delete-many request. Ids and hashes only (the id-map rows), never a field value.
 */
export const DeletePageSchema = z.object({
  phase: z.string(),
  entity: z.string(),
  object: z.string(),
  rows: z.array(IdMapRowSchema),
});
export type DeletePage = z.infer<typeof DeletePageSchema>;

/**
 * What PropagateDeletes' first tick decides: the counts known before any request (missing,
 * pre-existing) and the pages to delete in order (newest phase first). Fixed once: the id map forgets
 * what is deleted, so it cannot be asked again on a later tick.
 */
export const DeletePlanSchema = z.object({
  runId: z.string(),
  propagateDeletes: z.boolean(),
  entities: z.record(z.string(), EntityDeletesSchema),
  pages: z.array(DeletePageSchema),
});
export type DeletePlan = z.infer<typeof DeletePlanSchema>;

/**
 * Per entity, the records of earlier runs the export no longer holds (full id-map rows); with
 * `scope` (an incremental export's deletions) only those of its source ids.
 */
export async function missingRows(
  ...args: Parameters<typeof missingIdMapRows>
): Promise<Map<string, IdMapRow[]>> {
  const out = new Map<string, IdMapRow[]>();
  for await (const { entity, row } of missingIdMapRows(...args)) {
    const rows = out.get(entity) ?? [];
    rows.push(row);
    out.set(entity, rows);
  }
  return out;
}

/**
 * Records the family created, by entity and source id: a `created` entry with no later `destroyed`
 * (a rollback's) or `deleted` (an earlier delta's) entry for the same record.
 */
async function createdByFerry(
  ledger: Ledger,
  runs: readonly string[],
  entities: ReadonlySet<string>,
): Promise<Map<string, Created>> {
  const created = new Map<string, Created>();
  const gone = new Set<string>();
  for (const runId of runs) {
    for await (const entry of ledger.entriesForRun(runId)) {
      if (!entities.has(entry.entity)) continue;
      const key = `${entry.entity}\u0000${entry.sourceId}`;
      if (entry.op === 'created') created.set(key, { runId, phase: entry.phase, twentyId: entry.twentyId });
      else if (entry.op === 'destroyed' || entry.op === 'deleted') gone.add(key);
    }
  }
  for (const key of gone) created.delete(key);
  return created;
}

function emptyCounts(missing: number): EntityDeletes {
  return { missing, deleted: 0, preexisting: 0, conflicts: 0, alreadyGone: 0, deletedSourceIds: [] };
}

/**
 * `--propagate-deletes`, first step: which of the records the newer export no longer holds may go —
 * only those Ferry created (a pre-existing record Ferry merged into by email or domain was the
 * practice's before Ferry came and stays) — in pages of 100 of one Twenty object, children first
 * (reverse phase order, as rollback). Without the flag there are no pages and the counts say what is
 * missing. No Twenty request: the conflict check reads each page when it is deleted.
 */
export async function planDeletes(
  ctx: PropagateContext,
  missing: ReadonlyMap<string, readonly IdMapRow[]>,
  propagate: boolean,
): Promise<DeletePlan> {
  const entities: Record<string, EntityDeletes> = {};
  for (const [entity, rows] of missing) entities[entity] = emptyCounts(rows.length);
  const plan: DeletePlan = { runId: ctx.runId, propagateDeletes: propagate, entities, pages: [] };
  if (!propagate || missing.size === 0) return plan;
  const created = await createdByFerry(ctx.ledger, ctx.earlierRuns, new Set(missing.keys()));
  const byGroup = new Map<string, IdMapRow[]>();
  for (const [entity, rows] of missing) {
    const counts = entities[entity] as EntityDeletes;
    for (const row of rows) {
      const made = created.get(`${entity}\u0000${row.sourceId}`);
      if (made === undefined || made.twentyId.toLowerCase() !== row.twentyId.toLowerCase()) {
        counts.preexisting++;
        continue;
      }
      const group = `${made.phase}\u0000${entity}\u0000${made.runId}`;
      const list = byGroup.get(group) ?? [];
      list.push(row);
      byGroup.set(group, list);
    }
  }
  // Newest phase first: targets and activities before the people and companies they point at.
  for (const group of [...byGroup.keys()].sort().reverse()) {
    const [phase = '', entity = '', runId = ''] = group.split('\u0000');
    const sent = await new SentIndex(ctx.work, runId).entity(phase, entity);
    const byObject = new Map<string, IdMapRow[]>();
    for (const row of byGroup.get(group) ?? []) {
      const object = sent.get(row.sourceId)?.object;
      if (object === undefined) {
        (entities[entity] as EntityDeletes).preexisting++;
        continue;
      }
      const list = byObject.get(object) ?? [];
      list.push(row);
      byObject.set(object, list);
    }
    for (const [object, rows] of byObject)
      for (const page of chunked(rows, READ_PAGE)) plan.pages.push({ phase, entity, object, rows: page });
  }
  return plan;
}

/**
 * The whole propagation in one go (no time box, nothing persisted between pages): the plan, then
 * every page. PropagateDeletes runs the same two steps in ticks ({@link deletePage} per page).
 */
export async function propagateDeletes(
  ctx: PropagateContext,
  missing: ReadonlyMap<string, readonly IdMapRow[]>,
  propagate: boolean,
): Promise<Record<string, EntityDeletes>> {
  const plan = await planDeletes(ctx, missing, propagate);
  const twenty = ctx.twenty;
  if (twenty === undefined) return plan.entities;
  for (const page of plan.pages)
    await deletePage(ctx, twenty, plan.entities[page.entity] as EntityDeletes, page, false);
  return plan.entities;
}

/**
 * This delta's `deleted` entries among a page's records: what an interrupted attempt at the same page
 * decided to delete and ledgered (with its before-image) before the kill.
 */
async function ledgeredBefore(ctx: PropagateContext, page: DeletePage): Promise<Set<string>> {
  const wanted = new Set(page.rows.map((row) => row.sourceId));
  const out = new Set<string>();
  for await (const entry of ctx.ledger.entriesForRun(ctx.runId))
    if (entry.op === 'deleted' && entry.phase === page.phase && entry.entity === page.entity)
      if (wanted.has(entry.sourceId)) out.add(entry.sourceId);
  return out;
}

/**
 * One page: read the live records (`id[in]`), ledger a `deleted` entry with its full before-image and
 * object for each record to go (so a rollback can recreate it) — a record edited or soft-deleted in
 * Twenty since Ferry's last write is a conflict and stays, unless `force` — then delete them in one
 * request, then let the id map forget them (a record the export holds again later is new).
 *
 * `resumed`: the page an interrupted tick was working on. Records it had ledgered are deleted without
 * a new check (gone now, they are the ones it deleted; their first before-image stays), so a kill at
 * any point neither loses a before-image nor counts a record of its own as a conflict.
 */
export async function deletePage(
  ctx: PropagateContext,
  twenty: TwentyApi,
  counts: EntityDeletes,
  page: DeletePage,
  resumed: boolean,
): Promise<void> {
  const { phase, entity, object } = page;
  const done = resumed ? await ledgeredBefore(ctx, page) : new Set<string>();
  const live = await liveRecords(
    twenty,
    object,
    page.rows.map((row) => row.twentyId),
  );
  const entries: LedgerEntry[] = [];
  const going: IdMapRow[] = [];
  for (const row of page.rows) {
    if (done.has(row.sourceId)) {
      going.push(row);
      continue;
    }
    const image = live.get(row.twentyId.toLowerCase());
    // Edited in Twenty since Ferry's write, or deleted there (soft-deleted rows are not returned):
    // the practice's doing, left alone unless forced.
    const conflict = ctx.force ? undefined : conflictOf(row, image);
    if (conflict !== undefined) counts.conflicts++;
    else if (image === undefined) counts.alreadyGone++;
    if (conflict !== undefined || image === undefined) continue;
    going.push(row);
    entries.push({
      runId: ctx.runId,
      phase,
      entity,
      sourceId: row.sourceId,
      twentyId: row.twentyId,
      op: 'deleted',
      contentHash: row.contentHash,
      beforeImage: image,
      object,
      at: ctx.at(),
    });
  }
  if (going.length === 0) return;
  if (entries.length > 0) {
    const targets = await cascadedTargets(ctx, twenty, object, entries);
    await keepFiles(ctx, twenty, [...entries, ...targets]);
    await ctx.ledger.appendMany([...entries, ...targets]);
  }
  // Ids an interrupted attempt deleted already are sent again: Twenty ignores ids it no longer has.
  await twenty.destroyByIds(
    object,
    going.map((row) => row.twentyId),
  );
  await ctx.ledger.deleteIdMap(
    ctx.sourceInstance,
    entity,
    going.map((row) => row.sourceId),
  );
  counts.deleted += going.length;
  for (const row of going)
    if (counts.deletedSourceIds.length < LIST_CAP) counts.deletedSourceIds.push(row.sourceId);
}

/**
 * Twenty deletes an attachment's stored file with the attachment (FileDeletionJob): the bytes of each
 * attachment about to go are copied into the work bucket first, so a rollback can upload them again.
 * A file Twenty no longer has is skipped (the recreated attachment then has none, as before).
 */
async function keepFiles(
  ctx: PropagateContext,
  twenty: TwentyApi,
  entries: readonly LedgerEntry[],
): Promise<void> {
  for (const entry of entries) {
    if (entry.object !== 'attachments') continue;
    const path = entry.beforeImage?.fullPath;
    if (typeof path !== 'string' || path === '') continue;
    try {
      const bytes = await twenty.downloadFile(path);
      await ctx.work.put(deletedFileKey(ctx.runId, entry.twentyId), bytes);
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
    }
  }
}

/**
 * The task/note targets and attachments pointing at (or belonging to) these records, which Twenty
 * deletes with them:
 * each gets a `deleted` entry with its before-image under {@link CASCADE_LEDGER_PHASE}, so rolling
 * the delta back links the recreated records again. One `in` read per carrier and join column.
 */
async function cascadedTargets(
  ctx: PropagateContext,
  twenty: TwentyApi,
  object: string,
  deleted: readonly LedgerEntry[],
): Promise<LedgerEntry[]> {
  const model = await twenty.metadata();
  const ids = deleted.map((e) => e.twentyId);
  const out: LedgerEntry[] = [];
  const seen = new Set<string>();
  for (const carrier of CASCADING_CARRIERS) {
    const meta = model.find(carrier);
    if (meta === undefined) continue;
    let column: string;
    try {
      column = model.joinColumn(object, carrier);
    } catch {
      continue; // the carrier cannot point at this object
    }
    for await (const target of twenty.findMany(meta.namePlural, {
      filter: { field: column, op: 'in', value: ids },
      limit: READ_PAGE,
      depth: 0,
    })) {
      if (seen.has(target.id)) continue;
      seen.add(target.id);
      out.push({
        runId: ctx.runId,
        phase: CASCADE_LEDGER_PHASE,
        entity: carrier,
        sourceId: target.id,
        twentyId: target.id,
        op: 'deleted',
        contentHash: '',
        beforeImage: target,
        object: meta.namePlural,
        at: ctx.at(),
      });
    }
  }
  return out;
}
