import { chunked, type LedgerEntry } from '../ledger/entry.ts';
import { groups } from './entries.ts';
import { problemOf, type UndoContext, type UndoProgress } from './progress.ts';
import { liveRecords, READ_PAGE } from './read-back.ts';
import { fieldsNotRestored, restorePatch } from './restore.ts';
import { SentIndex } from './sent-index.ts';

/**
 * Where the read-back stands: `done.verifiedPages` (the rollback cursor's) pages were read back by
 * earlier ticks, their records counted; `seen` counts the pages this tick has walked past so far.
 */
export interface VerifyPosition {
  seen: number;
  readonly done: { verifiedPages: number };
}

/** One restored record to read back and the patch its fields must equal. */
interface Restored {
  readonly entry: LedgerEntry;
  readonly patch: Record<string, unknown>;
}

/**
 * Reads back every record this rollback restored (entries `restored` since it started) and compares
 * the fields it wrote with the before-image, one `id[in]` read per page. `skip`: ids not to read —
 * records this rollback hard-deleted afterwards, or verified already for an older run of the family
 * (the caller walks the family oldest run first); the ids this run verifies are added to it. Restores are few (records
 * that existed before the run), so this stage is cheap.
 */
export async function verifyRestores(
  ctx: UndoContext,
  progress: UndoProgress,
  skip: Set<string> = new Set(),
  pages: VerifyPosition = { seen: 0, done: { verifiedPages: 0 } },
): Promise<void> {
  const mine: string[] = [];
  const sentIndex = new SentIndex(ctx.work, ctx.runId);
  for await (const group of groups(ctx.ledger, ctx.runId)) {
    const updated = restoredSince(group, progress.startedAt);
    if (updated.length === 0) continue;
    const first = group[0] as LedgerEntry;
    const sent = await sentIndex.entity(first.phase, first.entity);
    const byObject = new Map<string, Restored[]>();
    for (const entry of updated) {
      if (progress.problems.some((p) => p.sourceId === entry.sourceId && p.entity === entry.entity)) continue;
      // Destroyed later by this rollback (its delete was read back), or restored again for an older
      // run of the family (that run's before-image is what the record must hold now).
      if (skip.has(entry.twentyId.toLowerCase())) continue;
      mine.push(entry.twentyId.toLowerCase());
      const record = sent.get(entry.sourceId);
      if (!record) continue;
      const list = byObject.get(record.object) ?? [];
      list.push({ entry, patch: restorePatch(entry.beforeImage ?? {}, record.fields) });
      byObject.set(record.object, list);
    }
    for (const [object, items] of byObject) {
      for (const page of chunked(items, READ_PAGE)) {
        // Read back by an earlier tick of this rollback (pages come in the same order every tick).
        if (pages.seen++ < pages.done.verifiedPages) continue;
        await verifyPage(ctx, progress, object, page);
        pages.done.verifiedPages++;
      }
    }
  }
  for (const id of mine) skip.add(id);
}

/** The group's `updated` entries (with a before-image) that this rollback has `restored`. */
function restoredSince(group: readonly LedgerEntry[], startedAt: string): LedgerEntry[] {
  const restoredNow = new Set(
    group.filter((entry) => entry.op === 'restored' && entry.at >= startedAt).map((entry) => entry.sourceId),
  );
  return group.filter(
    (entry) => entry.op === 'updated' && restoredNow.has(entry.sourceId) && entry.beforeImage,
  );
}

/** One read-back: a record missing or differing from its patch is a problem (`NOT_RESTORED`). */
async function verifyPage(
  ctx: UndoContext,
  progress: UndoProgress,
  object: string,
  page: readonly Restored[],
): Promise<void> {
  ctx.beforeRequest();
  ctx.onProgress();
  const live = await liveRecords(
    ctx.twenty,
    object,
    page.map((item) => item.entry.twentyId),
  );
  for (const item of page) {
    const record = live.get(item.entry.twentyId.toLowerCase());
    const off = record === undefined ? ['id'] : fieldsNotRestored(record, item.patch);
    if (off.length > 0) progress.problems.push(problemOf(item.entry, 'NOT_RESTORED', off));
    else progress.verifiedRecords++;
  }
}
