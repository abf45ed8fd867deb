import type { TwentyApi } from '../../ports/twenty.ts';
import { chunked, type LedgerEntry } from '../ledger/entry.ts';

/** Ids per `id[in]` read-back (one Twenty page, URL well under 16 KB). */
export const READ_PAGE = 100;

/** Which of these entries' records Twenty still has (one `id[in]` read per page). */
export async function presentIds(
  twenty: TwentyApi,
  object: string,
  entries: readonly LedgerEntry[],
): Promise<Set<string>> {
  const present = new Set<string>();
  for (const page of chunked(entries, READ_PAGE)) {
    for await (const record of twenty.findMany(object, {
      filter: { field: 'id', op: 'in', value: page.map((entry) => entry.twentyId) },
      limit: READ_PAGE,
      fields: [],
      depth: 0,
    })) {
      present.add(record.id.toLowerCase());
    }
  }
  return present;
}

/** The live records of one page of ids (one `id[in]` read, all fields), by lower-case id. */
export async function liveRecords(
  twenty: TwentyApi,
  object: string,
  ids: readonly string[],
): Promise<Map<string, Record<string, unknown>>> {
  const live = new Map<string, Record<string, unknown>>();
  for await (const record of twenty.findMany(object, {
    filter: { field: 'id', op: 'in', value: ids },
    limit: READ_PAGE,
    depth: 0,
  })) {
    live.set(record.id.toLowerCase(), record);
  }
  return live;
}
