import { PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoLedger } from '../../../lambdas/adapters/dynamo-ledger.ts';
import { MemoryObjectStore } from '../../../lambdas/adapters/memory-object-store.ts';
import { ValidationError } from '../../../lambdas/core/errors.ts';
import { workBucketBeforeImages } from '../../../lambdas/core/ledger/before-image-store.ts';
import { type LedgerEntry, ledgerPhase } from '../../../lambdas/core/ledger/entry.ts';
import { type EmbeddedDynamo, startEmbeddedDynamo } from '../../../lib/local/embedded-dynamodb.ts';

let dynamo: EmbeddedDynamo;
let work: MemoryObjectStore;
let ledger: DynamoLedger;

beforeAll(async () => {
  dynamo = await startEmbeddedDynamo();
  work = new MemoryObjectStore('work');
  ledger = new DynamoLedger({
    client: dynamo.client,
    tableName: dynamo.tableNames.Ledger,
    beforeImages: workBucketBeforeImages(work),
  });
});

afterAll(async () => {
  await dynamo.stop();
});

function entry(
  runId: string,
  phase: string,
  entity: string,
  n: number,
  extra: Partial<LedgerEntry> = {},
): LedgerEntry {
  return {
    runId,
    phase,
    entity,
    sourceId: `S${String(n).padStart(4, '0')}`,
    twentyId: `00000000-0000-5000-8000-${String(n).padStart(12, '0')}`,
    op: 'created',
    contentHash: `h${n}`,
    at: '2026-01-02T03:04:05.000Z',
    ...extra,
  };
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

describe('DynamoLedger', () => {
  it('writes 130 entries in batches and reads them back in phase order, and reversed for rollback', async () => {
    const companies = Array.from({ length: 60 }, (_, i) =>
      entry('run-a', ledgerPhase(1, 'companies'), 'company', i),
    );
    const people = Array.from({ length: 70 }, (_, i) =>
      entry('run-a', ledgerPhase(2, 'people'), 'person', i),
    );
    await ledger.appendMany([...people, ...companies]);
    await ledger.appendMany([entry('run-b', ledgerPhase(1, 'companies'), 'company', 1)]);

    const forward = await collect(ledger.entriesForRun('run-a'));
    expect(forward).toHaveLength(130);
    expect(forward[0]?.phase).toBe('01-companies');
    expect(forward.at(-1)?.phase).toBe('02-people');
    expect(forward[0]).toEqual(companies[0]);

    const backward = await collect(ledger.entriesForRun('run-a', { reverse: true }));
    expect(backward.map((e) => e.sourceId)).toEqual(forward.map((e) => e.sourceId).reverse());
    expect(backward[0]?.phase).toBe('02-people');

    const onlyPeople = await collect(ledger.entriesForRun('run-a', { phase: '02-people' }));
    expect(onlyPeople).toHaveLength(70);
  });

  it('overwrites a retried entry instead of duplicating it, even within one call', async () => {
    const first = entry('run-retry', '01-companies', 'company', 7);
    await ledger.appendMany([first, { ...first, contentHash: 'second' }]);
    await ledger.appendMany([{ ...first, contentHash: 'third' }]);
    const entries = await collect(ledger.entriesForRun('run-retry'));
    expect(entries.map((e) => e.contentHash)).toEqual(['third']);
  });

  it('keeps source ids containing the key separator intact', async () => {
    await ledger.appendMany([entry('run-sep', '01-companies', 'company', 1, { sourceId: 'A#1%2' })]);
    const [read] = await collect(ledger.entriesForRun('run-sep'));
    expect(read?.sourceId).toBe('A#1%2');
  });

  it('stores small before-images inline and large ones in the work bucket behind a pointer', async () => {
    const small = { id: 'x', name: { firstName: 'Synthetic', lastName: 'Person' } };
    const large = { id: 'y', bodyV2: { markdown: 'z'.repeat(350 * 1024) } };
    await ledger.appendMany([
      entry('run-img', '02-people', 'person', 1, { op: 'updated', beforeImage: small }),
      entry('run-img', '02-people', 'person', 2, { op: 'updated', beforeImage: large }),
    ]);
    const stored = await collect(work.list('runs/run-img/audit/'));
    expect(stored).toHaveLength(1);
    const read = await collect(ledger.entriesForRun('run-img'));
    expect(read[0]?.beforeImage).toEqual(small);
    expect(read[1]?.beforeImage).toEqual(large);
  });

  it('rejects an invalid entry naming the field, not the value', async () => {
    const bad = {
      ...entry('run-bad', '01-companies', 'company', 1),
      op: 'merged-secret-value',
    } as unknown as LedgerEntry;
    await expect(ledger.appendMany([bad])).rejects.toThrow(ValidationError);
    await expect(ledger.appendMany([bad])).rejects.toThrow(/ledger entry 0: invalid op/);
    await expect(ledger.appendMany([bad])).rejects.not.toThrow(/merged-secret-value/);
  });

  it('maps source ids to Twenty ids, reads them back in bulk and lists an entity for delta runs', async () => {
    const rows = Array.from({ length: 230 }, (_, i) => ({
      sourceId: `P${String(i).padStart(4, '0')}`,
      twentyId: `tw-${i}`,
      contentHash: `hash-${i}`,
      runId: 'run-a',
    }));
    await ledger.putIdMap('practice-1', 'person', rows);
    await ledger.putIdMap('practice-2', 'person', [{ ...rows[0]!, twentyId: 'other' }]);

    const wanted = [...rows.slice(0, 150).map((r) => r.sourceId), 'P9999', 'P0001'];
    const found = await ledger.getIdMap('practice-1', 'person', wanted);
    expect(found.size).toBe(150);
    // When Ferry wrote each row comes back too (a later updatedAt in Twenty is the practice's edit).
    expect(found.get('P0001')).toEqual({
      ...rows[1],
      writtenAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
    });
    expect(found.has('P9999')).toBe(false);

    const all = await collect(ledger.scanIdMap('practice-1', 'person'));
    expect(all).toHaveLength(230);
    expect(all.map((r) => r.sourceId)).toEqual(rows.map((r) => r.sourceId));
    const other = await collect(ledger.scanIdMap('practice-2', 'person'));
    expect(other.map((r) => r.twentyId)).toEqual(['other']);

    await ledger.putIdMap('practice-1', 'person', [{ ...rows[3]!, contentHash: 'changed', runId: 'run-b' }]);
    const updated = await ledger.getIdMap('practice-1', 'person', ['P0003']);
    expect(updated.get('P0003')).toMatchObject({ contentHash: 'changed', runId: 'run-b' });
  });
});

/** The Ledger table's raw items of one run (the layout, not the port's view). */
async function rawItems(runId: string) {
  const out = await dynamo.client.send(
    new QueryCommand({
      TableName: dynamo.tableNames.Ledger,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': { S: `RUN#${runId}` } },
    }),
  );
  return out.Items ?? [];
}

describe('DynamoLedger packed items', () => {
  it('stores one call’s entries of a phase and entity in one item, not one item per entry', async () => {
    const people = Array.from({ length: 200 }, (_, i) => entry('run-pack', '02-people', 'person', i));
    const notes = Array.from({ length: 30 }, (_, i) => entry('run-pack', '04-activities', 'note', i));
    await ledger.appendMany([...notes, ...people]);
    const items = await rawItems('run-pack');
    expect(items).toHaveLength(2);
    const read = await collect(ledger.entriesForRun('run-pack'));
    expect(read).toEqual([...people, ...notes]);
  });

  it('a retried slice whose entries differ leaves exactly one entry per record, the retry’s', async () => {
    const first = Array.from({ length: 150 }, (_, i) => entry('run-again', '02-people', 'person', i));
    await ledger.appendMany(first);
    // The retry: the same records a second later, one more record, and one rewritten differently.
    const retry = Array.from({ length: 151 }, (_, i) =>
      entry('run-again', '02-people', 'person', i, {
        at: '2026-01-02T03:04:06.000Z',
        ...(i === 3 ? { op: 'created' as const, contentHash: 'retried' } : {}),
      }),
    );
    await ledger.appendMany(retry);
    // The same retry again (same entries): it rewrites its own item, nothing more.
    await ledger.appendMany(retry);
    expect(await rawItems('run-again')).toHaveLength(2);
    const read = await collect(ledger.entriesForRun('run-again'));
    expect(read).toEqual(retry);
    const backward = await collect(ledger.entriesForRun('run-again', { reverse: true }));
    expect(backward).toEqual([...retry].reverse());
  });

  it('splits an append too large for one DynamoDB item, and keeps every entry', async () => {
    const image = { id: 'x', bodyV2: { markdown: 'q'.repeat(100 * 1024) } };
    const updated = Array.from({ length: 8 }, (_, i) =>
      entry('run-split', '02-people', 'person', i, { op: 'updated', beforeImage: image }),
    );
    await ledger.appendMany(updated);
    const items = await rawItems('run-split');
    expect(items.length).toBeGreaterThanOrEqual(3);
    for (const item of items) expect(item.entries?.S?.length ?? 0).toBeLessThan(400 * 1024);
    expect(await collect(ledger.entriesForRun('run-split'))).toEqual(updated);
  });

  it('keeps a before-image just under the inline limit inline, however many quotes its JSON holds', async () => {
    // ~298 KB of JSON, two fifths of it quotes: escaped inside a JSON string it would pass 400 KB.
    const image = { id: 'q', tags: Array.from({ length: 61_000 }, () => 'ab') };
    expect(JSON.stringify(image).length).toBeGreaterThan(295 * 1024);
    const updated = entry('run-quotes', '02-people', 'person', 1, { op: 'updated', beforeImage: image });
    await ledger.appendMany([updated, entry('run-quotes', '02-people', 'person', 2)]);
    expect(await collect(work.list('runs/run-quotes/audit/'))).toHaveLength(0);
    expect(await collect(ledger.entriesForRun('run-quotes'))).toEqual([
      updated,
      entry('run-quotes', '02-people', 'person', 2),
    ]);
  });

  it('reads items of the one-entry-per-item layout alongside packed ones, in key order, the packed newer', async () => {
    const table = dynamo.tableNames.Ledger;
    const old = entry('run-mixed', '02-people', 'person', 5, { op: 'updated', beforeImage: { id: 'o' } });
    const put = (e: LedgerEntry, sk: string, extra: Record<string, { S: string }> = {}) =>
      dynamo.client.send(
        new PutItemCommand({
          TableName: table,
          Item: {
            pk: { S: `RUN#${e.runId}` },
            sk: { S: sk },
            runId: { S: e.runId },
            phase: { S: e.phase },
            entity: { S: e.entity },
            sourceId: { S: e.sourceId },
            twentyId: { S: e.twentyId },
            op: { S: e.op },
            contentHash: { S: e.contentHash },
            at: { S: e.at },
            ...extra,
          },
        }),
      );
    await put(old, '02-people#person#S0005#updated', { beforeImage: { S: JSON.stringify({ id: 'o' }) } });
    const replaced = entry('run-mixed', '02-people', 'person', 7);
    await put(replaced, '02-people#person#S0007#created');
    const company = entry('run-mixed', '01-companies', 'company', 1);
    await put(company, '01-companies#company#S0001#created');
    const packed = [entry('run-mixed', '02-people', 'person', 9), { ...replaced, contentHash: 'newer' }];
    await ledger.appendMany(packed);
    const read = await collect(ledger.entriesForRun('run-mixed'));
    expect(read).toEqual([company, old, { ...replaced, contentHash: 'newer' }, packed[0]]);
    const people = await collect(ledger.entriesForRun('run-mixed', { phase: '02-people', reverse: true }));
    expect(people.map((e) => e.sourceId)).toEqual(['S0009', 'S0007', 'S0005']);
  });
});

describe('DynamoLedger.deleteIdMap', () => {
  it('deletes 60 rows in batches, ignores ids never mapped, and keeps the others', async () => {
    const rows = Array.from({ length: 70 }, (_, n) => ({
      sourceId: `D${String(n).padStart(3, '0')}`,
      twentyId: `tw-${n}`,
      contentHash: `h${n}`,
      runId: 'run-del',
    }));
    await ledger.putIdMap('del-inst', 'person', rows);
    const doomed = rows.slice(0, 60).map((r) => r.sourceId);
    await ledger.deleteIdMap('del-inst', 'person', [...doomed, 'never-mapped', doomed[0] as string]);
    const left: string[] = [];
    for await (const row of ledger.scanIdMap('del-inst', 'person')) left.push(row.sourceId);
    expect(left).toEqual(rows.slice(60).map((r) => r.sourceId));
  });
});
