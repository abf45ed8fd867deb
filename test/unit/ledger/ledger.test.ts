import { describe, expect, it } from 'vitest';
import { NotFoundError, RunLockedError, ValidationError } from '../../../lambdas/core/errors.ts';
import {
  beforeImageObjectKey,
  chunked,
  type LedgerEntry,
  ledgerPhase,
  ledgerSortKey,
  parseLedgerEntries,
  unkeyPart,
} from '../../../lambdas/core/ledger/entry.ts';
import { MemoryLedger } from '../../../lambdas/core/ledger/memory-ledger.ts';
import { MemoryRunStore } from '../../../lambdas/core/ledger/memory-run-store.ts';

const base: LedgerEntry = {
  runId: 'run-1',
  phase: ledgerPhase(2, 'people'),
  entity: 'person',
  sourceId: 'P1',
  twentyId: 'tw-1',
  op: 'created',
  contentHash: 'h',
  at: '2026-01-01T00:00:00.000Z',
};

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

describe('ledger keys', () => {
  it('orders phases by their zero-padded ordinal', () => {
    expect(ledgerPhase(2, 'people')).toBe('02-people');
    expect(ledgerPhase(10, 'attachments') > ledgerPhase(9, 'custom')).toBe(true);
  });

  it('escapes the separator so a source id cannot forge another key', () => {
    const key = ledgerSortKey({ ...base, sourceId: 'P1#created' });
    expect(key.split('#')).toHaveLength(4);
    expect(unkeyPart(key.split('#')[2]!)).toBe('P1#created');
    expect(ledgerSortKey({ ...base, sourceId: 'a%23' })).not.toBe(ledgerSortKey({ ...base, sourceId: 'a#' }));
  });

  it('puts spilled before-images under the run audit folder', () => {
    expect(beforeImageObjectKey(base)).toMatch(/^runs\/run-1\/audit\/before-images\/[^/]+\.json$/);
  });

  it('chunks batches at the DynamoDB limits', () => {
    expect(
      chunked(
        Array.from({ length: 51 }, (_, i) => i),
        25,
      ).map((c) => c.length),
    ).toEqual([25, 25, 1]);
    expect(chunked([], 25)).toEqual([]);
  });

  it('names the entry and field of an invalid entry without the value', () => {
    expect(() => parseLedgerEntries([base, { ...base, twentyId: '' }])).toThrow(
      /ledger entry 1: invalid twentyId/,
    );
    expect(() => parseLedgerEntries([{ ...base, op: 'leaked-value' }])).toThrow(ValidationError);
  });
});

describe('MemoryLedger', () => {
  it('returns a run in key order, reversed for rollback, and filtered by phase', async () => {
    const ledger = new MemoryLedger();
    await ledger.appendMany([
      { ...base, sourceId: 'P2' },
      { ...base, phase: ledgerPhase(1, 'companies'), entity: 'company', sourceId: 'C1' },
      { ...base, sourceId: 'P1', op: 'updated', beforeImage: { id: 'tw-1', city: 'Synthetic' } },
    ]);
    const forward = await collect(ledger.entriesForRun('run-1'));
    expect(forward.map((e) => e.sourceId)).toEqual(['C1', 'P1', 'P2']);
    expect(forward[1]?.beforeImage).toEqual({ id: 'tw-1', city: 'Synthetic' });
    const reverse = await collect(ledger.entriesForRun('run-1', { reverse: true }));
    expect(reverse.map((e) => e.sourceId)).toEqual(['P2', 'P1', 'C1']);
    expect(await collect(ledger.entriesForRun('run-1', { phase: '01-companies' }))).toHaveLength(1);
    expect(await collect(ledger.entriesForRun('other'))).toEqual([]);
  });

  it('keeps one id map per source instance and entity', async () => {
    const ledger = new MemoryLedger();
    await ledger.putIdMap('a', 'person', [{ sourceId: 'P2', twentyId: 't2', contentHash: 'h2', runId: 'r' }]);
    await ledger.putIdMap('a', 'person', [{ sourceId: 'P1', twentyId: 't1', contentHash: 'h1', runId: 'r' }]);
    await ledger.putIdMap('b', 'person', [{ sourceId: 'P1', twentyId: 'x', contentHash: 'x', runId: 'r' }]);
    expect((await ledger.getIdMap('a', 'person', ['P1', 'P9'])).get('P1')?.twentyId).toBe('t1');
    expect((await collect(ledger.scanIdMap('a', 'person'))).map((r) => r.sourceId)).toEqual(['P1', 'P2']);
    expect(await collect(ledger.scanIdMap('a', 'company'))).toEqual([]);
  });
});

describe('MemoryRunStore', () => {
  it('sums counters, records tokens and refuses unknown runs', async () => {
    const store = new MemoryRunStore({ now: () => 0, sleep: async () => {} });
    await store.createRun({
      runId: 'r',
      folder: 'drop/a/',
      source: 'pbn',
      startedAt: '2026-01-01T00:00:00Z',
    });
    await store.addCounters('r', { loaded: 5 });
    await store.addCounters('r', { loaded: 2, rejected: 1 });
    await store.recordTaskToken('r', 'plan', 'tok');
    expect(await store.getRun('r')).toMatchObject({
      counters: { loaded: 7, rejected: 1 },
      taskTokens: { plan: 'tok' },
    });
    await expect(store.updateRun('nope', { status: 'failed' })).rejects.toThrow(NotFoundError);
  });

  it('locks a folder until release or expiry', async () => {
    let now = 1_000;
    const store = new MemoryRunStore({ now: () => now, sleep: async () => {} });
    await store.acquireLock('drop/a/', 'r1', 100);
    await expect(store.acquireLock('drop/a/', 'r2', 100)).rejects.toThrow(RunLockedError);
    now = 1_101;
    await expect(store.acquireLock('drop/a/', 'r2', 100)).resolves.toMatchObject({ runId: 'r2' });
    await store.releaseLock('drop/a/', 'r2');
    await expect(store.acquireLock('drop/a/', 'r3', 100)).resolves.toMatchObject({ runId: 'r3' });
  });
});

describe('MemoryLedger.deleteIdMap', () => {
  it('forgets the given source ids of one entity and leaves the rest and other entities alone', async () => {
    const ledger = new MemoryLedger();
    const row = (sourceId: string) => ({
      sourceId,
      twentyId: `tw-${sourceId}`,
      contentHash: 'h',
      runId: 'r1',
    });
    await ledger.putIdMap('acme', 'person', [row('P1'), row('P2'), row('P3')]);
    await ledger.putIdMap('acme', 'company', [row('P1')]);
    await ledger.deleteIdMap('acme', 'person', ['P1', 'P3', 'never-mapped']);
    expect([...(await ledger.getIdMap('acme', 'person', ['P1', 'P2', 'P3'])).keys()]).toEqual(['P2']);
    expect((await ledger.getIdMap('acme', 'company', ['P1'])).size).toBe(1);
    await ledger.deleteIdMap('other', 'person', ['P2']);
    expect((await ledger.getIdMap('acme', 'person', ['P2'])).size).toBe(1);
  });
});
