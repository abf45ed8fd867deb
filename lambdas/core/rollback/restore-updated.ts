import type { TwentyApi, TwentyRecord } from '../../ports/twenty.ts';
import { NotFoundError } from '../errors.ts';
import type { LedgerEntry } from '../ledger/entry.ts';
import { markRestored, undoneEntry } from './entries.ts';
import { problemOf, stepId, type UndoContext, type UndoProgress } from './progress.ts';
import { recreateRecord, restorePatch } from './restore.ts';
import type { Sent } from './sent-index.ts';

/** How one restore went: PATCHed, brought back from soft-deletion first, recreated, or not possible. */
export type RestoreOutcome = 'patched' | 'undeleted' | 'recreated' | 'gone';

/**
 * Updated records of one (phase, entity) (pre-existing ones matched by email/domain, or a later
 * run's updates): one PATCH each, in ledger order. Each gets its `restored` entry; one without a
 * mapped line or a before-image is a problem and is not sent.
 */
export async function restoreUpdated(
  ctx: UndoContext,
  progress: UndoProgress,
  entity: string,
  restore: readonly LedgerEntry[],
  sent: ReadonlyMap<string, Sent>,
  sourceInstance: string | undefined,
): Promise<void> {
  for (const entry of restore) {
    const record = sent.get(entry.sourceId);
    const problem = !record
      ? 'NO_MAPPED_RECORD'
      : entry.beforeImage === undefined
        ? 'NO_BEFORE_IMAGE'
        : undefined;
    if (!record || entry.beforeImage === undefined) {
      await ctx.journal.begin([stepId(entry)]);
      if (problem !== undefined && ctx.journal.interrupted(stepId(entry)) !== 'counted')
        progress.problems.push(problemOf(entry, problem));
      await ctx.journal.counted();
      await ctx.ledger.appendMany([undoneEntry(entry, 'restored', ctx.at())]);
      ctx.journal.end();
      continue;
    }
    ctx.beforeRequest();
    await ctx.journal.begin([stepId(entry)]);
    const outcome = await restoreOne(
      ctx.twenty,
      record.object,
      entry,
      restorePatch(entry.beforeImage, record.fields),
    );
    ctx.onProgress();
    if (ctx.journal.interrupted(stepId(entry)) !== 'counted') countRestore(progress, entry, outcome);
    await ctx.journal.counted();
    await ctx.ledger.appendMany([undoneEntry(entry, 'restored', ctx.at())]);
    if (sourceInstance !== undefined && outcome !== 'gone') {
      await markRestored(ctx.ledger, sourceInstance, entity, ctx.runId, [entry.sourceId]);
    }
    ctx.journal.end();
  }
}

/** Adds one restore's outcome to the counters; a record that could not be restored is a problem. */
function countRestore(progress: UndoProgress, entry: LedgerEntry, outcome: RestoreOutcome): void {
  if (outcome === 'gone') progress.problems.push(problemOf(entry, 'GONE_BEFORE_RESTORE'));
  else {
    progress.counts.restored++;
    if (outcome === 'undeleted') progress.counts.undeleted++;
    if (outcome === 'recreated') progress.counts.recreated++;
  }
}

/**
 * Writes a before-image's values back. A record deleted in Twenty since the run: soft-deleted → the
 * restore route brings it back first; hard-deleted → recreated with the same id (Twenty accepts
 * client ids) from the before-image's writable fields. Returns how it went.
 */
export async function restoreOne(
  twenty: TwentyApi,
  object: string,
  entry: LedgerEntry,
  patch: Record<string, unknown>,
): Promise<RestoreOutcome> {
  try {
    await twenty.update(object, entry.twentyId, patch);
    return 'patched';
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error;
  }
  try {
    await twenty.restore(object, entry.twentyId);
    await twenty.update(object, entry.twentyId, patch);
    return 'undeleted';
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error;
  }
  return recreateDeleted(twenty, object, entry);
}

/** A record hard-deleted in Twenty since the run: created again with its id from the before-image. */
async function recreateDeleted(
  twenty: TwentyApi,
  object: string,
  entry: LedgerEntry,
): Promise<'recreated' | 'gone'> {
  const model = await twenty.metadata();
  const record = recreateRecord(model, object, entry.twentyId, entry.beforeImage ?? {});
  const result = await twenty.createMany(object, [record as TwentyRecord], {
    upsert: false,
    checkCollisions: false,
  });
  return result.written.length === 1 ? 'recreated' : 'gone';
}
