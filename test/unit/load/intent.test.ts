import { describe, expect, it } from 'vitest';
import { MemoryObjectStore } from '../../../lambdas/adapters/memory-object-store.ts';
import type { MappedLine } from '../../../lambdas/core/load/format.ts';
import { readIntent, saveIntent } from '../../../lambdas/core/load/intent.ts';
import type { Pending } from '../../../lambdas/core/load/plan-writes.ts';
import { planWrites } from '../../../lambdas/core/load/plan-writes.ts';

/** A pending write of a source id; only the fields the intent and the plan read are set. */
function pending(sourceId: string, op: 'created' | 'updated'): Pending {
  return { line: { sourceId, id: `id-${sourceId}`, contentHash: 'h' } as MappedLine, op };
}

describe('the load intent with source ids that are JavaScript object keys', () => {
  it('keeps __proto__ and constructor as ordinary ids through save and read', async () => {
    const work = new MemoryObjectStore();
    await saveIntent(work, 'k', 'run-1', [
      pending('__proto__', 'updated'),
      pending('constructor', 'created'),
    ]);
    const ops = await readIntent(work, 'k', 'run-1');
    expect([...ops.keys()].sort()).toEqual(['__proto__', 'constructor']);
    expect(ops.get('__proto__')?.op).toBe('updated');
    expect((await readIntent(work, 'k', 'run-2')).size).toBe(0);
  });

  it('finds no earlier decision for an id the intent does not hold, whatever its name', () => {
    const lines = ['constructor', 'toString', '__proto__', 'hasOwnProperty'].map(
      (sourceId) => pending(sourceId, 'created').line,
    );
    const plan = planWrites(lines, new Map(), new Map(), 'run-1');
    expect(plan.pending.map((p) => [p.line.sourceId, p.op])).toEqual([
      ['constructor', 'created'],
      ['toString', 'created'],
      ['__proto__', 'created'],
      ['hasOwnProperty', 'created'],
    ]);
  });
});
