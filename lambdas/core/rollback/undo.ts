import type { LedgerEntry } from '../ledger/entry.ts';
import { destroyCreated } from './destroy-created.ts';
import { groups, sourceInstanceOf } from './entries.ts';
import type { UndoContext, UndoProgress } from './progress.ts';
import { planGroup } from './restore.ts';
import { restoreUpdated } from './restore-updated.ts';
import { SentIndex } from './sent-index.ts';

/**
 * The undo walk: every (phase, entity) group newest first, deletes in pages, restores one by one.
 * A group with nothing left to destroy or restore is passed over without reading its load chunks.
 */
export async function undo(ctx: UndoContext, progress: UndoProgress): Promise<void> {
  const sourceInstance = await sourceInstanceOf(ctx.work, ctx.runId);
  const sentIndex = new SentIndex(ctx.work, ctx.runId);
  for await (const group of groups(ctx.ledger, ctx.runId)) {
    const { destroy, restore } = undoPlan(group, progress.startedAt);
    if (destroy.length === 0 && restore.length === 0) continue;
    const first = group[0] as LedgerEntry;
    const sent = await sentIndex.entity(first.phase, first.entity);
    await destroyCreated(ctx, progress, first.entity, destroy, sent, sourceInstance);
    await restoreUpdated(ctx, progress, first.entity, restore, sent, sourceInstance);
  }
}

/** One group's entries still to undo, split by action (plan order kept). */
function undoPlan(
  group: readonly LedgerEntry[],
  startedAt: string,
): { destroy: LedgerEntry[]; restore: LedgerEntry[] } {
  const destroy: LedgerEntry[] = [];
  const restore: LedgerEntry[] = [];
  for (const { action, entry } of planGroup(group, startedAt).values()) {
    if (action === 'destroy') destroy.push(entry);
    else if (action === 'restore') restore.push(entry);
  }
  return { destroy, restore };
}
