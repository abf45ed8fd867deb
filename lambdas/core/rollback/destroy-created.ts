import { chunked, type LedgerEntry } from '../ledger/entry.ts';
import { undoneEntry } from './entries.ts';
import { problemOf, stepId, type UndoContext, type UndoProgress } from './progress.ts';
import { presentIds } from './read-back.ts';
import type { Sent } from './sent-index.ts';

/** Ids per delete-many request: Twenty's MUTATION_MAXIMUM_AFFECTED_RECORDS default. */
const DELETE_PAGE = 100;

/**
 * Created records of one (phase, entity): hard-deleted by id, up to 100 per request, grouped by
 * Twenty object. A record without a mapped line is a problem (`NO_MAPPED_RECORD`) and is marked
 * `destroyed` at once, before any request.
 */
export async function destroyCreated(
  ctx: UndoContext,
  progress: UndoProgress,
  entity: string,
  destroy: readonly LedgerEntry[],
  sent: ReadonlyMap<string, Sent>,
  sourceInstance: string | undefined,
): Promise<void> {
  const byObject = new Map<string, LedgerEntry[]>();
  const unmapped: LedgerEntry[] = [];
  for (const entry of destroy) {
    const record = sent.get(entry.sourceId);
    if (!record) {
      unmapped.push(entry);
      continue;
    }
    const list = byObject.get(record.object) ?? [];
    list.push(entry);
    byObject.set(record.object, list);
  }
  if (unmapped.length > 0) {
    await ctx.journal.begin(unmapped.map(stepId));
    for (const entry of unmapped)
      if (ctx.journal.interrupted(stepId(entry)) !== 'counted')
        progress.problems.push(problemOf(entry, 'NO_MAPPED_RECORD'));
    await ctx.journal.counted();
    await ctx.ledger.appendMany(unmapped.map((entry) => undoneEntry(entry, 'destroyed', ctx.at())));
    ctx.journal.end();
  }
  for (const [object, entries] of byObject) {
    for (const page of chunked(entries, DELETE_PAGE)) {
      await destroyPage(ctx, progress, entity, object, page, sourceInstance);
    }
  }
}

/**
 * One delete-many request, then the ledger: each record deleted (or gone already) gets its
 * `destroyed` entry and leaves the id map; one Twenty still has is a problem (`STILL_PRESENT`).
 */
async function destroyPage(
  ctx: UndoContext,
  progress: UndoProgress,
  entity: string,
  object: string,
  page: readonly LedgerEntry[],
  sourceInstance: string | undefined,
): Promise<void> {
  ctx.beforeRequest();
  const ids = page.map(stepId);
  await ctx.journal.begin(ids);
  const deleted = new Set(await ctx.twenty.destroyByIds(object, ids));
  ctx.onProgress();
  // Ids Twenty did not report deleted were gone already (deleted in Twenty since the load, or
  // by an interrupted tick of this rollback): read back to be sure none is still there.
  const missing = page.filter((entry) => !deleted.has(stepId(entry)));
  const present = missing.length === 0 ? new Set<string>() : await presentIds(ctx.twenty, object, missing);
  const done: LedgerEntry[] = [];
  for (const entry of page) {
    const id = stepId(entry);
    const was = ctx.journal.interrupted(id);
    if (present.has(id)) {
      if (was !== 'counted') progress.problems.push(problemOf(entry, 'STILL_PRESENT'));
      continue;
    }
    if (was !== 'counted') {
      // Gone without this request having deleted it: the killed attempt's request did.
      if (deleted.has(id) || was === 'sent') {
        progress.counts.destroyed++;
        if (object === 'attachments') progress.filesDeleted++;
      } else progress.counts.alreadyGone++;
      progress.verifiedRecords++;
    }
    done.push(undoneEntry(entry, 'destroyed', ctx.at()));
  }
  await ctx.journal.counted();
  if (done.length > 0) await ctx.ledger.appendMany(done);
  if (sourceInstance !== undefined && done.length > 0) {
    await ctx.ledger.deleteIdMap(
      sourceInstance,
      entity,
      done.map((entry) => entry.sourceId),
    );
  }
  ctx.journal.end();
}
