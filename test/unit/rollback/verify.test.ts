import { describe, expect, it } from 'vitest';
import { MemoryObjectStore } from '../../../lambdas/adapters/memory-object-store.ts';
import type { LedgerEntry } from '../../../lambdas/core/ledger/entry.ts';
import { MemoryLedger } from '../../../lambdas/core/ledger/memory-ledger.ts';
import type { UndoContext, UndoProgress } from '../../../lambdas/core/rollback/progress.ts';
import { DeadlineReached, StepJournal, TickBudget } from '../../../lambdas/core/rollback/tick.ts';
import { verifyRestores } from '../../../lambdas/core/rollback/verify.ts';
import { loadChunkPrefix } from '../../../lambdas/core/run-layout.ts';
import type { FindManyOptions, TwentyApi, TwentyRecord } from '../../../lambdas/ports/twenty.ts';

const STARTED = '2026-01-02T00:00:00.000Z';
const RECORDS = 250;
const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

/** 250 people the run updated and this rollback restored (3 read-back pages of 100). */
async function setup() {
  const ledger = new MemoryLedger();
  const work = new MemoryObjectStore('work');
  const ns = Array.from({ length: RECORDS }, (_, i) => i + 1);
  const updated = (n: number): LedgerEntry => ({
    runId: 'run',
    phase: '02-people',
    entity: 'patients',
    sourceId: `P${n}`,
    twentyId: id(n),
    op: 'updated',
    contentHash: 'h',
    beforeImage: { id: id(n), jobTitle: `before ${n}` },
    at: '2026-01-01T00:00:00.000Z',
  });
  await ledger.appendMany(
    ns.flatMap((n) => [updated(n), { ...updated(n), op: 'restored' as const, at: STARTED }]),
  );
  const lines = ns.map((n) =>
    JSON.stringify({
      sourceId: `P${n}`,
      line: n,
      id: id(n),
      object: 'people',
      data: { jobTitle: 'x' },
      contentHash: 'h',
    }),
  );
  await work.put(`${loadChunkPrefix('run', '02-people', 'patients')}00001.ndjson`, `${lines.join('\n')}\n`);
  const reads: string[] = [];
  const twenty = {
    findMany: (_plural: string, options: FindManyOptions = {}) => {
      const ids = (options.filter as unknown as { value: string[] }).value;
      reads.push(...ids);
      const rows: TwentyRecord[] = ids.map((i) => ({ id: i, jobTitle: `before ${Number(i.slice(-12))}` }));
      return (async function* () {
        yield* rows;
      })();
    },
  } as unknown as TwentyApi;
  return { ledger, work, twenty, reads };
}

describe('rollback read-back across ticks', () => {
  it('goes on after the pages an earlier tick read: each page once, each record counted once', async () => {
    const { ledger, work, twenty, reads } = await setup();
    const progress: UndoProgress & { verifiedPages: number } = {
      startedAt: STARTED,
      counts: { destroyed: 0, restored: 0, undeleted: 0, recreated: 0, alreadyGone: 0, skipped: 0 },
      verifiedRecords: 0,
      filesDeleted: 0,
      problems: [],
      verifiedPages: 0,
    };
    let ticks = 0;
    for (let done = false; !done && ticks < 20; ) {
      ticks++;
      const budget = new TickBudget(() => 1, 0);
      const ctx: UndoContext = {
        runId: 'run',
        work,
        ledger,
        twenty,
        at: () => STARTED,
        beforeRequest: budget.beforeRequest,
        onProgress: budget.onProgress,
        journal: new StepJournal({}, async () => {}),
      };
      try {
        await verifyRestores(ctx, progress, new Set(), { seen: 0, done: progress });
        done = true;
      } catch (error) {
        if (!(error instanceof DeadlineReached)) throw error;
      }
    }
    expect(ticks).toBe(3);
    // One read per page, none read twice.
    expect(reads).toHaveLength(RECORDS);
    expect(new Set(reads).size).toBe(RECORDS);
    expect(progress).toMatchObject({ verifiedRecords: RECORDS, verifiedPages: 3, problems: [] });
  });
});
