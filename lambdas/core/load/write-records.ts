import type { TwentyApi, TwentyRecord } from '../../ports/twenty.ts';
import { chunked } from '../ledger/entry.ts';
import { reasonField } from './decide.ts';
import type { Pending } from './plan-writes.ts';
import type { SliceRejects } from './rejects.ts';

/**
 * Records, per Twenty object, in batches the client splits to the workspace's cap (`batchMax`, if
 * set, bounds a batch): upserts with Ferry's deterministic ids, so a retried slice rewrites the same
 * rows. A record Twenty refuses is rejected (`TWENTY_REJECTED`). Returns the records written.
 */
export async function writeRecords(
  twenty: TwentyApi,
  sendable: readonly Pending[],
  batchMax: number | undefined,
  rejects: SliceRejects,
): Promise<Pending[]> {
  const written: Pending[] = [];
  const byObject = new Map<string, Pending[]>();
  for (const item of sendable) {
    const group = byObject.get(item.line.object) ?? [];
    group.push(item);
    byObject.set(item.line.object, group);
  }
  for (const [object, group] of byObject) {
    for (const slice of chunked(group, batchMax ?? group.length)) {
      const records: TwentyRecord[] = slice.map((item) => ({
        ...item.line.data,
        ...item.fileColumns,
        id: item.line.id,
      }));
      const result = await twenty.createMany(object, records, { upsert: true });
      for (const ok of result.written) {
        const item = slice[ok.index];
        if (item) written.push(item);
      }
      for (const failed of result.failed) {
        const item = slice[failed.index];
        if (item) rejects.reject(item.line, reasonField(failed.reason), 'TWENTY_REJECTED', failed.reason);
      }
    }
  }
  return written;
}
