import { describe, expect, it } from 'vitest';
import { MemoryObjectStore } from '../../../lambdas/adapters/memory-object-store.ts';
import { propagateDeletes } from '../../../lambdas/core/delta/propagate-deletes.ts';
import type { IdMapRow, LedgerEntry } from '../../../lambdas/core/ledger/entry.ts';
import { MemoryLedger } from '../../../lambdas/core/ledger/memory-ledger.ts';
import { deletedFileKey, loadChunkPrefix } from '../../../lambdas/core/run-layout.ts';
import type {
  FieldMeta,
  FindManyOptions,
  ObjectMeta,
  TwentyApi,
  TwentyRecord,
} from '../../../lambdas/ports/twenty.ts';
import { TwentyModel } from '../../../lambdas/ports/twenty-model.ts';

const WRITTEN = '2026-01-01T00:00:00.000Z';
const LATER = '2026-01-01T01:00:00.000Z';
const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

function object(singular: string, plural: string, joins: string[]): ObjectMeta {
  const fields: FieldMeta[] = joins.map((join) => ({
    id: `f-${singular}-${join}`,
    name: join.replace(/Id$/, ''),
    label: join,
    type: 'RELATION',
    isCustom: false,
    isUnique: false,
    isNullable: true,
    options: [],
    joinColumnName: join,
    relationType: 'MANY_TO_ONE',
  }));
  const meta = { labelSingular: singular, labelPlural: plural, isCustom: false, isActive: true };
  return { id: `o-${singular}`, nameSingular: singular, namePlural: plural, ...meta, fields };
}

/** A v2 workspace: people, and the carriers that cascade with them (morph `target…Id` columns). */
const model = new TwentyModel([
  object('person', 'people', []),
  object('task', 'tasks', []),
  object('note', 'notes', []),
  object('taskTarget', 'taskTargets', ['taskId', 'targetPersonId']),
  object('noteTarget', 'noteTargets', ['noteId', 'targetPersonId']),
  object('attachment', 'attachments', ['targetPersonId']),
]);

/** Just what PropagateDeletes calls: id[in] / column[in] reads, deletes by id, file downloads. */
class Workspace {
  readonly rows = new Map<string, Map<string, TwentyRecord>>();
  readonly destroyed: string[] = [];
  table(plural: string): Map<string, TwentyRecord> {
    const table = this.rows.get(plural) ?? new Map();
    this.rows.set(plural, table);
    return table;
  }
  api(): TwentyApi {
    return {
      metadata: async () => model,
      findMany: (plural: string, options: FindManyOptions = {}) => {
        const filter = options.filter as unknown as { field: string; value: string[] };
        const rows = [...this.table(plural).values()].filter((r) =>
          filter.value.includes(String(r[filter.field])),
        );
        return (async function* () {
          yield* rows;
        })();
      },
      destroyByIds: async (plural: string, ids: readonly string[]) => {
        for (const i of ids) this.table(plural).delete(i);
        this.destroyed.push(...ids);
        return [...ids];
      },
      downloadFile: async () => new Uint8Array([1, 2, 3]),
    } as unknown as TwentyApi;
  }
}

async function setup() {
  const ledger = new MemoryLedger();
  const work = new MemoryObjectStore('work');
  const ws = new Workspace();
  const created = (n: number): LedgerEntry => ({
    runId: 'base',
    phase: '02-people',
    entity: 'patients',
    sourceId: `P${n}`,
    twentyId: id(n),
    op: 'created',
    contentHash: 'h',
    at: WRITTEN,
  });
  // P1, P3, P4 Ferry created; P2 was there before (merged by email: `updated`).
  await ledger.appendMany([
    created(1),
    { ...created(2), op: 'updated', beforeImage: {} },
    created(3),
    created(4),
  ]);
  const lines = [1, 2, 3, 4].map((n) =>
    JSON.stringify({
      sourceId: `P${n}`,
      line: n,
      id: id(n),
      object: 'people',
      data: { jobTitle: 'x' },
      contentHash: 'h',
    }),
  );
  await work.put(`${loadChunkPrefix('base', '02-people', 'patients')}00001.ndjson`, `${lines.join('\n')}\n`);
  for (const n of [1, 2, 3, 4]) ws.table('people').set(id(n), { id: id(n), updatedAt: WRITTEN });
  ws.table('people').set(id(3), { id: id(3), updatedAt: LATER }); // edited in Twenty since Ferry wrote it
  ws.table('taskTargets').set(id(40), { id: id(40), taskId: id(99), targetPersonId: id(4) });
  ws.table('attachments').set(id(41), {
    id: id(41),
    name: 'x.pdf',
    fullPath: 'attachment/x.pdf',
    targetPersonId: id(4),
  });
  const rows: IdMapRow[] = [1, 2, 3, 4].map((n) => ({
    sourceId: `P${n}`,
    twentyId: id(n),
    contentHash: 'h',
    runId: 'base',
    writtenAt: WRITTEN,
  }));
  await ledger.putIdMap('acme', 'patients', rows);
  const ctx = (force = false) => ({
    runId: 'delta',
    baseRunId: 'base',
    earlierRuns: ['base'],
    sourceInstance: 'acme',
    work,
    ledger,
    twenty: ws.api(),
    force,
    at: () => LATER,
  });
  return { ledger, work, ws, rows, ctx };
}

const entries = async (ledger: MemoryLedger) => {
  const out: LedgerEntry[] = [];
  for await (const e of ledger.entriesForRun('delta')) out.push(e);
  return out;
};

describe('propagateDeletes', () => {
  it('only counts the missing records without the flag', async () => {
    const { ledger, ws, rows, ctx } = await setup();
    const out = await propagateDeletes(ctx(), new Map([['patients', rows]]), false);
    expect(out.patients).toMatchObject({ missing: 4, deleted: 0, preexisting: 0, conflicts: 0 });
    expect(ws.destroyed).toEqual([]);
    expect(await entries(ledger)).toEqual([]);
  });

  it('deletes what Ferry created and nobody touched since, keeps pre-existing and edited records', async () => {
    const { ledger, work, ws, rows, ctx } = await setup();
    const out = await propagateDeletes(ctx(), new Map([['patients', rows]]), true);
    expect(out.patients).toMatchObject({
      missing: 4,
      deleted: 2,
      preexisting: 1,
      conflicts: 1,
      alreadyGone: 0,
    });
    expect(out.patients?.deletedSourceIds.sort()).toEqual(['P1', 'P4']);
    expect(ws.destroyed.sort()).toEqual([id(1), id(4)]);
    const written = await entries(ledger);
    // Before-images and objects for both records, and the target and attachment Twenty cascades.
    expect(written.map((e) => [e.phase, e.op, e.object, e.twentyId]).sort()).toEqual(
      [
        ['02-people', 'deleted', 'people', id(1)],
        ['02-people', 'deleted', 'people', id(4)],
        ['99-cascade', 'deleted', 'attachments', id(41)],
        ['99-cascade', 'deleted', 'taskTargets', id(40)],
      ].sort(),
    );
    expect(written.every((e) => e.beforeImage?.id === e.twentyId)).toBe(true);
    expect(await work.exists(deletedFileKey('delta', id(41)))).toBe(true);
    const left = await ledger.getIdMap('acme', 'patients', ['P1', 'P2', 'P3', 'P4']);
    expect([...left.keys()].sort()).toEqual(['P2', 'P3']);
  });

  it('with force deletes the edited record too, never the pre-existing one', async () => {
    const { ws, rows, ctx } = await setup();
    const out = await propagateDeletes(ctx(true), new Map([['patients', rows]]), true);
    expect(out.patients).toMatchObject({ deleted: 3, preexisting: 1, conflicts: 0 });
    expect(ws.destroyed).not.toContain(id(2));
  });
});
