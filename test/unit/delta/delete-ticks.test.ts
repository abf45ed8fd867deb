import { describe, expect, it } from 'vitest';
import { MemoryObjectStore } from '../../../lambdas/adapters/memory-object-store.ts';
import { deletePagesUntil, startDeleteTick } from '../../../lambdas/core/delta/delete-ticks.ts';
import { type PropagateContext, planDeletes } from '../../../lambdas/core/delta/propagate-deletes.ts';
import type { IdMapRow, LedgerEntry } from '../../../lambdas/core/ledger/entry.ts';
import { MemoryLedger } from '../../../lambdas/core/ledger/memory-ledger.ts';
import { loadChunkPrefix } from '../../../lambdas/core/run-layout.ts';
import type { FindManyOptions, ObjectMeta, TwentyApi, TwentyRecord } from '../../../lambdas/ports/twenty.ts';
import { TwentyModel } from '../../../lambdas/ports/twenty-model.ts';

const WRITTEN = '2026-01-01T00:00:00.000Z';
const LATER = '2026-01-01T01:00:00.000Z';
const RECORDS = 250;
const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const person: ObjectMeta = {
  id: 'o-person',
  nameSingular: 'person',
  namePlural: 'people',
  labelSingular: 'person',
  labelPlural: 'people',
  isCustom: false,
  isActive: true,
  fields: [],
};

/** Killed: thrown where the process would have died. */
class Killed extends Error {}

/** A workspace of people that counts the records each delete really removed (not the ids sent). */
class Workspace {
  readonly people = new Map<string, TwentyRecord>();
  readonly removed: string[] = [];
  deletes = 0;
  /** Throws on the n-th delete-many, before (`before`) or after (`after`) Twenty applied it. */
  kill?: { at: number; when: 'before' | 'after' };
  api(): TwentyApi {
    return {
      metadata: async () => new TwentyModel([person]),
      findMany: (_plural: string, options: FindManyOptions = {}) => {
        const filter = options.filter as unknown as { value: string[] };
        const rows = [...this.people.values()].filter((r) => filter.value.includes(r.id));
        return (async function* () {
          yield* rows;
        })();
      },
      destroyByIds: async (_plural: string, ids: readonly string[]) => {
        this.deletes++;
        if (this.kill?.at === this.deletes && this.kill.when === 'before') throw new Killed();
        const gone = ids.filter((i) => this.people.delete(i));
        this.removed.push(...gone);
        if (this.kill?.at === this.deletes && this.kill.when === 'after') throw new Killed();
        return gone;
      },
    } as unknown as TwentyApi;
  }
}

/** 250 people Ferry created (3 pages), one edited in Twenty since (a conflict), all missing from the export. */
async function setup() {
  const ledger = new MemoryLedger();
  const work = new MemoryObjectStore('work');
  const ws = new Workspace();
  const ns = Array.from({ length: RECORDS }, (_, i) => i + 1);
  await ledger.appendMany(
    ns.map(
      (n): LedgerEntry => ({
        runId: 'base',
        phase: '02-people',
        entity: 'patients',
        sourceId: `P${n}`,
        twentyId: id(n),
        op: 'created',
        contentHash: 'h',
        at: WRITTEN,
      }),
    ),
  );
  const lines = ns.map((n) =>
    JSON.stringify({ sourceId: `P${n}`, line: n, id: id(n), object: 'people', data: {}, contentHash: 'h' }),
  );
  await work.put(`${loadChunkPrefix('base', '02-people', 'patients')}00001.ndjson`, `${lines.join('\n')}\n`);
  for (const n of ns) ws.people.set(id(n), { id: id(n), updatedAt: n === 7 ? LATER : WRITTEN });
  const rows: IdMapRow[] = ns.map((n) => ({
    sourceId: `P${n}`,
    twentyId: id(n),
    contentHash: 'h',
    runId: 'base',
    writtenAt: WRITTEN,
  }));
  await ledger.putIdMap('acme', 'patients', rows);
  const ctx: PropagateContext = {
    runId: 'delta',
    baseRunId: 'base',
    earlierRuns: ['base'],
    sourceInstance: 'acme',
    work,
    ledger,
    force: false,
    at: () => LATER,
  };
  const missing = new Map([['patients', rows]]);
  /** One tick as PropagateDeletes runs it; `deadline` at the tick's start = one page per tick. */
  const tick = async (deadline?: number) => {
    const progress = await startDeleteTick(work, 'delta', () => planDeletes(ctx, missing, true));
    const done = await deletePagesUntil(ctx, ws.api(), progress, () => 0, deadline);
    return { done, cursor: progress.cursor, pages: progress.plan.pages.length };
  };
  return { ledger, ws, tick };
}

async function outcome(ledger: MemoryLedger, ws: Workspace) {
  const entries: LedgerEntry[] = [];
  for await (const e of ledger.entriesForRun('delta')) entries.push(e);
  const left = await ledger.getIdMap(
    'acme',
    'patients',
    Array.from({ length: RECORDS }, (_, i) => `P${i + 1}`),
  );
  return {
    entries: entries.map((e) => [e.sourceId, e.op, e.beforeImage?.id === e.twentyId]).sort(),
    left: [...left.keys()].sort(),
    people: [...ws.people.keys()].sort(),
  };
}

describe('PropagateDeletes ticks', () => {
  it('works through its pages one tick at a time and saves where it stands', async () => {
    const { ws, tick } = await setup();
    const first = await tick(0);
    expect(first).toMatchObject({ done: false, pages: 3 });
    expect(first.cursor).toMatchObject({ ticks: 1, next: 1 });
    expect(first.cursor.inFlight).toBeUndefined();
    expect((await tick(0)).done).toBe(false);
    const last = await tick(0);
    expect(last.done).toBe(true);
    expect(last.cursor.ticks).toBe(3);
    expect(last.cursor.entities.patients).toMatchObject({
      missing: RECORDS,
      deleted: RECORDS - 1,
      conflicts: 1,
    });
    expect(ws.deletes).toBe(3);
  });

  for (const when of ['before', 'after'] as const) {
    it(`killed ${when} Twenty applied a page's delete, re-run to the uninterrupted run's state`, async () => {
      const clean = await setup();
      let done = false;
      while (!done) done = (await clean.tick()).done;
      const expected = await outcome(clean.ledger, clean.ws);
      const counts = (await clean.tick()).cursor.entities;

      const killed = await setup();
      killed.ws.kill = { at: 2, when };
      await expect(killed.tick()).rejects.toBeInstanceOf(Killed);
      const resumed = await killed.tick();
      expect(resumed.done).toBe(true);
      expect(await outcome(killed.ledger, killed.ws)).toEqual(expected);
      expect(resumed.cursor.entities).toEqual(counts);
      // Every record went once; the killed page's before-images were kept, not replaced or lost.
      expect(new Set(killed.ws.removed).size).toBe(killed.ws.removed.length);
      expect(killed.ws.removed.sort()).toEqual(clean.ws.removed.sort());
      expect(resumed.cursor.entities.patients).toMatchObject({
        deleted: RECORDS - 1,
        conflicts: 1,
        alreadyGone: 0,
      });
    });
  }
});
