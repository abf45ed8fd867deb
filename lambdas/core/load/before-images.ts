import type { TwentyApi } from '../../ports/twenty.ts';
import { chunked, type IdMapRow } from '../ledger/entry.ts';
import type { Pending } from './plan-writes.ts';
import type { SliceRejects } from './rejects.ts';

/** Ids per `id[in]:[…]` read: one Twenty page, so one request per batch of records. */
const READ_PAGE = 60;

/**
 * How far Twenty's clock may run ahead of Ferry's before an `updatedAt` counts as a later edit
 * (Ferry records `writtenAt` after Twenty answered, so with synced clocks `updatedAt` is earlier).
 */
const CLOCK_SKEW_MS = 5_000;

/**
 * The Twenty records as they are now, for ids Ferry is about to overwrite: one `id[in]` read per
 * page of ids. Ids Twenty does not have are absent from the result.
 */
async function beforeImages(
  twenty: TwentyApi,
  object: string,
  ids: readonly string[],
): Promise<Map<string, Record<string, unknown>>> {
  const images = new Map<string, Record<string, unknown>>();
  for (const page of chunked(ids, READ_PAGE)) {
    for await (const record of twenty.findMany(object, {
      filter: { field: 'id', op: 'in', value: page },
      limit: READ_PAGE,
    })) {
      images.set(record.id, record);
    }
  }
  return images;
}

/**
 * Whether overwriting a record Ferry wrote before would undo the practice's own work in Twenty: it
 * was edited there after Ferry's last write (`updatedAt` later than the id map's `writtenAt`), or
 * deleted there (a soft-deleted row is not returned; an upsert would revive it). Rows without
 * `writtenAt` (written before Ferry recorded it) and pre-existing records Ferry never wrote are not
 * conflicts. `--force` overwrites anyway.
 */
export function conflictOf(
  row: IdMapRow | undefined,
  image: Record<string, unknown> | undefined,
): { reason: string; rule: string } | undefined {
  if (row?.writtenAt === undefined) return undefined;
  // A row a rollback restored (its content hash cleared): Twenty holds what it held before Ferry, and
  // the rollback's own writes are not the practice's edits.
  if (row.contentHash === '') return undefined;
  if (image === undefined)
    return {
      reason: 'CONFLICT_DELETED_IN_TWENTY',
      rule: 'deleted in Twenty after Ferry wrote it; not revived (--force writes it again)',
    };
  const updatedAt = typeof image.updatedAt === 'string' ? Date.parse(image.updatedAt) : Number.NaN;
  const writtenAt = Date.parse(row.writtenAt);
  if (Number.isFinite(updatedAt) && Number.isFinite(writtenAt) && updatedAt > writtenAt + CLOCK_SKEW_MS)
    return {
      reason: 'CONFLICT_EDITED_IN_TWENTY',
      rule: 'edited in Twenty after Ferry last wrote it; left as it is (--force overwrites)',
    };
  return undefined;
}

/**
 * Before-images: every pending record that needs one (decided `updated` now) is read, once per page
 * of ids per Twenty object. A record Ferry wrote and the practice changed in Twenty since
 * ({@link conflictOf}, unless `force`) is rejected and dropped; one gone from Twenty that Ferry never
 * wrote becomes `created`; the others keep their image. Returns the records still to be written,
 * in their order.
 */
export async function readBeforeImages(
  twenty: TwentyApi,
  pending: readonly Pending[],
  idMap: ReadonlyMap<string, IdMapRow>,
  force: boolean,
  rejects: SliceRejects,
): Promise<Pending[]> {
  const toRead = new Map<string, string[]>();
  for (const item of pending) {
    if (!item.needsImage) continue;
    const ids = toRead.get(item.line.object) ?? [];
    ids.push(item.line.id);
    toRead.set(item.line.object, ids);
  }
  const images = new Map<string, Record<string, unknown>>();
  for (const [object, ids] of toRead) {
    for (const [id, image] of await beforeImages(twenty, object, ids)) images.set(id, image);
  }
  const conflicted = new Set<Pending>();
  for (const item of pending) {
    if (!item.needsImage) continue;
    const image = images.get(item.line.id);
    const row = idMap.get(item.line.sourceId);
    // A record Ferry wrote and the practice changed in Twenty since: never overwritten blindly.
    const conflict = force ? undefined : conflictOf(row, image);
    if (conflict !== undefined) {
      rejects.reject(item.line, '', conflict.reason, conflict.rule);
      conflicted.add(item);
      continue;
    }
    // Gone from Twenty since the operator last saw it (never written by Ferry): writing it creates it.
    if (image === undefined) item.op = 'created';
    else item.beforeImage = image;
  }
  return pending.filter((item) => !conflicted.has(item));
}
