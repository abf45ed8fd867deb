import type { TwentyRecord } from '../../ports/twenty.ts';
import type { TwentyModel } from '../../ports/twenty-model.ts';
import { CASCADE_LEDGER_PHASE, chunked, type LedgerEntry } from '../ledger/entry.ts';
import { fileColumns } from '../load/attachment.ts';
import { mimeOf } from '../prepare/record.ts';
import { deletedFileKey } from '../run-layout.ts';
import { undoneEntry } from './entries.ts';
import { problemOf, stepId, type UndoContext, type UndoProgress } from './progress.ts';
import { recreateRecord } from './restore.ts';

/** Records per recreate request (well under any workspace's batch cap). */
const RECREATE_PAGE = 50;

/**
 * Records a delta's `--propagate-deletes` hard-deleted (ledger `deleted` entries with their full
 * before-image and object) are created again with their ids, parents before children (key order:
 * oldest phase first), one batch per page. The upsert makes a repeated request harmless (the row it
 * matches by id is the same record). Each gets a `restored` mark, and its id-map row comes back with
 * an empty content hash (the next run rewrites it as changed). Run after the run's reverse walk.
 */
export async function recreateDeleted(
  ctx: UndoContext,
  progress: UndoProgress,
  sourceInstance: string | undefined,
): Promise<void> {
  const deleted: LedgerEntry[] = [];
  const restored = new Set<string>();
  const key = (e: LedgerEntry) => `${e.phase}\u0000${e.entity}\u0000${e.sourceId}`;
  for await (const entry of ctx.ledger.entriesForRun(ctx.runId)) {
    if (entry.op === 'deleted') deleted.push(entry);
    else if (entry.op === 'restored') restored.add(key(entry));
  }
  const pending = deleted.filter((entry) => !restored.has(key(entry)));
  if (pending.length === 0) return;
  const model = await ctx.twenty.metadata();
  // Consecutive entries of one (phase, entity, object), so a page never mixes objects.
  const groupOf = (e: LedgerEntry) => `${e.phase}\u0000${e.entity}\u0000${e.object ?? ''}`;
  const runs: LedgerEntry[][] = [];
  for (const entry of pending) {
    const last = runs.at(-1);
    if (last?.[0] !== undefined && groupOf(last[0]) === groupOf(entry)) last.push(entry);
    else runs.push([entry]);
  }
  for (const group of runs) {
    const first = group[0] as LedgerEntry;
    for (const page of chunked(group, RECREATE_PAGE)) {
      const object = first.object;
      const usable = page.filter((entry) => entry.beforeImage !== undefined && object !== undefined);
      if (usable.length > 0) ctx.beforeRequest();
      await ctx.journal.begin(page.map(stepId));
      const fresh = (entry: LedgerEntry) => ctx.journal.interrupted(stepId(entry)) !== 'counted';
      for (const entry of page)
        if (!usable.includes(entry) && fresh(entry))
          progress.problems.push(problemOf(entry, 'NO_BEFORE_IMAGE'));
      if (usable.length > 0 && object !== undefined) {
        const bodies: TwentyRecord[] = [];
        for (const entry of usable) {
          const body = recreateRecord(model, object, entry.twentyId, entry.beforeImage ?? {});
          if (object === 'attachments') Object.assign(body, await reuploaded(ctx, model, entry));
          bodies.push(body as TwentyRecord);
        }
        const result = await ctx.twenty.createMany(object, bodies, { upsert: true, checkCollisions: false });
        ctx.onProgress();
        const written = new Set(result.written.map((w) => w.id.toLowerCase()));
        for (const entry of usable) {
          if (!fresh(entry)) continue;
          if (written.has(entry.twentyId.toLowerCase())) {
            progress.counts.restored++;
            progress.counts.recreated++;
          } else progress.problems.push(problemOf(entry, 'NOT_RESTORED'));
        }
        await ctx.journal.counted();
        const back = usable
          .filter((entry) => written.has(entry.twentyId.toLowerCase()))
          .map((entry) => ({
            sourceId: entry.sourceId,
            twentyId: entry.twentyId,
            contentHash: '',
            runId: ctx.runId,
          }));
        // Cascaded targets have no id-map rows (they are not source records).
        if (sourceInstance !== undefined && back.length > 0 && first.phase !== CASCADE_LEDGER_PHASE)
          await ctx.ledger.putIdMap(sourceInstance, first.entity, back);
      } else await ctx.journal.counted();
      await ctx.ledger.appendMany(page.map((entry) => undoneEntry(entry, 'restored', ctx.at())));
      ctx.journal.end();
    }
  }
}

/**
 * An attachment's file as PropagateDeletes kept it, uploaded again: the columns that point the
 * recreated attachment at the new upload. None when no file was kept.
 */
async function reuploaded(
  ctx: UndoContext,
  model: TwentyModel,
  entry: LedgerEntry,
): Promise<Record<string, unknown>> {
  const key = deletedFileKey(entry.runId, entry.twentyId);
  if (!(await ctx.work.exists(key))) return {};
  const name = typeof entry.beforeImage?.name === 'string' ? entry.beforeImage.name : 'file';
  const stored = typeof entry.beforeImage?.fullPath === 'string' ? entry.beforeImage.fullPath : name;
  // No deadline check here: the page's check came first, so its uploads and its create go together.
  const uploaded = await ctx.twenty.uploadFile(await ctx.work.get(key), name, mimeOf(stored));
  ctx.onProgress();
  return fileColumns(model, uploaded, name);
}
