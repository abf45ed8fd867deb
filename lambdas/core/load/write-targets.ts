import type { TwentyApi, TwentyRecord } from '../../ports/twenty.ts';
import { chunked } from '../ledger/entry.ts';
import type { MappedLine } from './format.ts';
import type { Pending } from './plan-writes.ts';
import type { SliceRejects } from './rejects.ts';

/**
 * Targets of the tasks/notes that are now in Twenty (a target of a refused parent is not sent),
 * per target object in batches bounded by `batchMax` if set. A refused target adds a
 * `TARGET_REJECTED` reject line; its parent stays written. Returns how many were written and refused.
 */
export async function writeTargets(
  twenty: TwentyApi,
  written: readonly Pending[],
  batchMax: number | undefined,
  rejects: SliceRejects,
): Promise<{ written: number; rejected: number }> {
  const targetsByObject = new Map<string, { record: TwentyRecord; line: MappedLine }[]>();
  for (const item of written) {
    for (const target of item.line.targets) {
      const group = targetsByObject.get(target.object) ?? [];
      group.push({ record: target.data as TwentyRecord, line: item.line });
      targetsByObject.set(target.object, group);
    }
  }
  let targetsWritten = 0;
  let targetsRejected = 0;
  for (const [object, group] of targetsByObject) {
    for (const slice of chunked(group, batchMax ?? group.length)) {
      const result = await twenty.createMany(
        object,
        slice.map((target) => target.record),
        { upsert: true },
      );
      targetsWritten += result.written.length;
      for (const failed of result.failed) {
        const target = slice[failed.index];
        if (!target) continue;
        targetsRejected++;
        rejects.rejectTarget(target.line, object, failed.reason);
      }
    }
  }
  return { written: targetsWritten, rejected: targetsRejected };
}
