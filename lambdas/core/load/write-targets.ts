import { z } from 'zod';
import type { TwentyApi, TwentyRecord } from '../../ports/twenty.ts';
import { chunked } from '../ledger/entry.ts';
import { type MappedLine, TargetObjectSchema } from './format.ts';
import type { SliceRejects } from './rejects.ts';

/**
 * A task/note target whose parent is in Twenty but which is not sent yet. Targets wait across the
 * slices (and ticks) of a chunk until a full batch of their object is due, so a chunk costs one
 * partial target batch per target object instead of one per slice. They are kept in the chunk's
 * progress, never only in memory: a crash after the parents' ledger rows cannot lose them.
 */
export const DeferredTargetSchema = z.object({
  object: TargetObjectSchema,
  data: z.looseObject({ id: z.string().min(1) }),
  /** The parent's source line and id, for a `TARGET_REJECTED` line. */
  line: z.number().int().nonnegative(),
  sourceId: z.string().min(1),
});
export type DeferredTarget = z.infer<typeof DeferredTargetSchema>;

/**
 * The waiting targets plus those of `parents` (records now in Twenty), once each by target id —
 * a parent written again by a retried slice adds nothing twice. A target of a refused parent is
 * never here: only written (or already written) parents are passed.
 */
export function deferTargets(
  waiting: readonly DeferredTarget[],
  parents: readonly { readonly line: MappedLine }[],
): DeferredTarget[] {
  const out = [...waiting];
  const seen = new Set(waiting.map((target) => target.data.id));
  for (const { line } of parents) {
    for (const target of line.targets) {
      if (seen.has(target.data.id)) continue;
      seen.add(target.data.id);
      out.push({ object: target.object, data: target.data, line: line.line, sourceId: line.sourceId });
    }
  }
  return out;
}

/**
 * Sends the waiting targets that fill a batch of `size` per target object — all of them when
 * `all` (the chunk's last slice) — as upserts (deterministic ids: a target sent again by a retry
 * rewrites the same row). A refused target adds a `TARGET_REJECTED` reject line; its parent stays
 * written. Returns how many were written and refused, and the targets still waiting.
 */
export async function flushTargets(
  twenty: TwentyApi,
  waiting: readonly DeferredTarget[],
  size: number,
  all: boolean,
  rejects: SliceRejects,
): Promise<{ written: number; rejected: number; waiting: DeferredTarget[] }> {
  const byObject = new Map<string, DeferredTarget[]>();
  for (const target of waiting) {
    const group = byObject.get(target.object) ?? [];
    group.push(target);
    byObject.set(target.object, group);
  }
  let written = 0;
  let rejected = 0;
  const left: DeferredTarget[] = [];
  for (const [object, group] of byObject) {
    const due = all ? group.length : group.length - (group.length % size);
    left.push(...group.slice(due));
    for (const slice of chunked(group.slice(0, due), size)) {
      const result = await twenty.createMany(
        object,
        slice.map((target) => target.data as TwentyRecord),
        { upsert: true },
      );
      written += result.written.length;
      for (const failed of result.failed) {
        const target = slice[failed.index];
        if (!target) continue;
        rejected++;
        rejects.rejectTarget(target, object, failed.reason);
      }
    }
  }
  return { written, rejected, waiting: left };
}
