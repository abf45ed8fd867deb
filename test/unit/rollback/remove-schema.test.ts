import { describe, expect, it } from 'vitest';
import { MemoryObjectStore } from '../../../lambdas/adapters/memory-object-store.ts';
import { SchemaConflictError } from '../../../lambdas/core/errors.ts';
import { MemoryLedger } from '../../../lambdas/core/ledger/memory-ledger.ts';
import type { UndoContext } from '../../../lambdas/core/rollback/progress.ts';
import { removeSchema, type SchemaCheck } from '../../../lambdas/core/rollback/remove-schema.ts';
import { DeadlineReached, StepJournal, TickBudget } from '../../../lambdas/core/rollback/tick.ts';
import { SCHEMA_LEDGER_PHASE } from '../../../lambdas/core/schema/apply.ts';
import type {
  FindManyOptions,
  TwentyApi,
  TwentyFilter,
  TwentyRecord,
} from '../../../lambdas/ports/twenty.ts';
import { TwentyModel } from '../../../lambdas/ports/twenty-model.ts';

const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const model = new TwentyModel([
  {
    id: 'o-person',
    nameSingular: 'person',
    namePlural: 'people',
    labelSingular: 'Person',
    labelPlural: 'People',
    isCustom: false,
    isActive: true,
    fields: [
      {
        id: 'f-allergies',
        name: 'allergies',
        label: 'Allergies',
        type: 'TEXT',
        isCustom: true,
        isUnique: false,
        isNullable: true,
        options: [],
      },
    ],
  },
]);

/** 450 people (3 pages of 200 live, 1 soft-deleted page); `holding` of them have an allergy noted by hand. */
function workspace(holding: readonly number[]) {
  const people: TwentyRecord[] = [];
  for (let n = 1; n <= 450; n++)
    people.push({
      id: id(n),
      allergies: holding.includes(n) ? 'entered by hand' : null,
      deletedAt: n > 440 ? '2026-01-01T00:00:00.000Z' : null,
    });
  const pages: string[] = [];
  const matches = (record: TwentyRecord, filter: TwentyFilter | undefined): boolean => {
    if (filter === undefined || typeof filter === 'string') return true;
    if ('and' in filter) return filter.and.every((f) => matches(record, f));
    if (!('field' in filter)) throw new Error('unexpected filter');
    if (filter.field === 'deletedAt') return record.deletedAt != null;
    if (filter.field === 'id' && filter.op === 'gt') return record.id > String(filter.value);
    throw new Error(`unexpected filter ${filter.field}`);
  };
  const removed: string[] = [];
  const api = {
    refreshMetadata: async () => model,
    findMany: (_plural: string, options: FindManyOptions = {}) => {
      const deleted = JSON.stringify(options.filter ?? '').includes('deletedAt');
      const rows = people
        .filter((r) => (deleted ? true : r.deletedAt == null) && matches(r, options.filter))
        .sort((a, b) => a.id.localeCompare(b.id));
      pages.push(`${deleted ? 'deleted' : 'live'}>${rows[0]?.id ?? '-'}`);
      return (async function* () {
        yield* rows;
      })();
    },
    removeMetadata: async (_kind: string, metaId: string) => {
      removed.push(metaId);
      return true;
    },
  } as unknown as TwentyApi;
  return { api, pages, removed };
}

async function ledgerWithField(): Promise<MemoryLedger> {
  const ledger = new MemoryLedger();
  await ledger.appendMany([
    {
      runId: 'run',
      phase: SCHEMA_LEDGER_PHASE,
      entity: 'field',
      sourceId: 'person.allergies',
      twentyId: 'f-allergies',
      op: 'schema-created',
      contentHash: '',
      at: '2026-01-01T00:00:00.000Z',
    },
  ]);
  return ledger;
}

/** Runs removeSchema in ticks of one request each (the deadline is the tick's start) until it ends. */
type Progress = { schemaCheck?: SchemaCheck; schemaRemoved: number };

async function inTicks(api: TwentyApi, ledger: MemoryLedger, progress: Progress) {
  for (let tick = 1; tick <= 50; tick++) {
    const budget = new TickBudget(() => 1, 0);
    const ctx: UndoContext = {
      runId: 'run',
      work: new MemoryObjectStore('work'),
      ledger,
      twenty: api,
      at: () => '2026-01-02T00:00:00.000Z',
      beforeRequest: budget.beforeRequest,
      onProgress: budget.onProgress,
      journal: new StepJournal({}, async () => {}),
    };
    try {
      await removeSchema(ctx, ['run'], progress);
      return { removed: progress.schemaRemoved, ticks: tick };
    } catch (error) {
      if (!(error instanceof DeadlineReached)) throw error;
    }
  }
  throw new Error('removeSchema never finished');
}

describe('rollback --schema data check across ticks', () => {
  it('continues from its page on the next tick: every page read once, then the field removed', async () => {
    const { api, pages, removed } = workspace([]);
    const progress: Progress = { schemaRemoved: 0 };
    const out = await inTicks(api, await ledgerWithField(), progress);
    expect(out.removed).toBe(1);
    expect(removed).toEqual(['f-allergies']);
    // 440 live records: pages after nothing, id 200, id 400; then the soft-deleted ones.
    expect(pages).toEqual([`live>${id(1)}`, `live>${id(201)}`, `live>${id(401)}`, `deleted>${id(441)}`]);
    // Each tick reads the metadata and then advances by one request: four pages, then the removal.
    expect(out.ticks).toBe(5);
  });

  it('counts the records holding data over every page, and a refusal starts the next check afresh', async () => {
    const { api, removed } = workspace([3, 250, 420, 445]);
    const progress: Progress = { schemaRemoved: 0 };
    const ledger = await ledgerWithField();
    const refusal = inTicks(api, ledger, progress);
    await expect(refusal).rejects.toBeInstanceOf(SchemaConflictError);
    await expect(refusal).rejects.toThrow('custom field person.allergies (4 record(s))');
    expect(removed).toEqual([]);
    expect(progress.schemaCheck).toBeUndefined();
  });
});
