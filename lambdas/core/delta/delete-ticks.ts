import { z } from 'zod';
import type { ObjectStore } from '../../ports/object-store.ts';
import type { TwentyApi } from '../../ports/twenty.ts';
import { DeadlineReached, TickBudget } from '../rollback/tick.ts';
import {
  propagateDeletesCursorKey,
  propagateDeletesPlanKey,
  readArtifact,
  readArtifactIfPresent,
} from '../run-layout.ts';
import {
  type DeletePlan,
  DeletePlanSchema,
  deletePage,
  type EntityDeletes,
  EntityDeletesSchema,
  type PropagateContext,
} from './propagate-deletes.ts';

/**
 * Where PropagateDeletes stands between ticks (`runs/<deltaRunId>/deletes/cursor.json`, ids and
 * counts only). `inFlight` is saved before a page's first request and cleared with its counts after
 * the page, so a tick killed mid-page leaves the page named: the next attempt redoes it knowing that
 * some of its records may be ledgered, or deleted, already.
 */
export const DeletesCursorSchema = z.object({
  runId: z.string(),
  ticks: z.number().int().nonnegative(),
  /** The next page of the plan to delete. */
  next: z.number().int().nonnegative(),
  /** The page being deleted when the cursor was saved (absent between pages). */
  inFlight: z.number().int().nonnegative().optional(),
  entities: z.record(z.string(), EntityDeletesSchema),
});
export type DeletesCursor = z.infer<typeof DeletesCursorSchema>;

/** The plan and cursor of a propagation, as its first tick made them or a later tick found them. */
export interface DeleteProgress {
  readonly plan: DeletePlan;
  readonly cursor: DeletesCursor;
}

/**
 * The saved plan and cursor, or — on the first tick — a new plan from `makePlan` (saved before any
 * request, the cursor at page 0). Counts the tick.
 */
export async function startDeleteTick(
  work: ObjectStore,
  runId: string,
  makePlan: () => Promise<DeletePlan>,
): Promise<DeleteProgress> {
  const saved = await readArtifactIfPresent(work, propagateDeletesCursorKey(runId), DeletesCursorSchema);
  if (saved !== undefined) {
    const plan = await readArtifact(work, propagateDeletesPlanKey(runId), DeletePlanSchema);
    saved.ticks++;
    return { plan, cursor: saved };
  }
  const plan = await makePlan();
  await work.put(propagateDeletesPlanKey(runId), JSON.stringify(plan), 'application/json');
  const cursor: DeletesCursor = { runId, ticks: 1, next: 0, entities: structuredClone(plan.entities) };
  await saveCursor(work, cursor);
  return { plan, cursor };
}

async function saveCursor(work: ObjectStore, cursor: DeletesCursor): Promise<void> {
  await work.put(
    propagateDeletesCursorKey(cursor.runId),
    `${JSON.stringify(cursor, null, 2)}\n`,
    'application/json',
  );
}

/**
 * Deletes the plan's pages from the cursor on until they are done (true) or the tick's deadline has
 * passed (false; at least one page per tick, so every tick advances). Each page is named in the cursor
 * before its first request and its counts saved after it; an error leaves the cursor as it was before
 * the page (its counts are not saved twice).
 */
export async function deletePagesUntil(
  ctx: PropagateContext,
  twenty: TwentyApi,
  { plan, cursor }: DeleteProgress,
  now: () => number,
  deadlineAt: number | undefined,
): Promise<boolean> {
  const budget = new TickBudget(now, deadlineAt ?? Number.POSITIVE_INFINITY);
  while (cursor.next < plan.pages.length) {
    try {
      budget.beforeRequest();
    } catch (error) {
      if (!(error instanceof DeadlineReached)) throw error;
      await saveCursor(ctx.work, cursor);
      return false;
    }
    const index = cursor.next;
    const page = plan.pages[index];
    if (page === undefined) break;
    const resumed = cursor.inFlight === index;
    cursor.inFlight = index;
    await saveCursor(ctx.work, cursor);
    const counts = cursor.entities[page.entity] as EntityDeletes;
    await deletePage(ctx, twenty, counts, page, resumed);
    budget.onProgress();
    cursor.next = index + 1;
    delete cursor.inFlight;
    await saveCursor(ctx.work, cursor);
  }
  return true;
}
