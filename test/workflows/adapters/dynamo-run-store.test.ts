import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoRunStore } from '../../../lambdas/adapters/dynamo-run-store.ts';
import { NotFoundError, RunLockedError, ValidationError } from '../../../lambdas/core/errors.ts';
import type { Clock } from '../../../lambdas/ports/clock.ts';
import { type EmbeddedDynamo, startEmbeddedDynamo } from '../../../lib/local/embedded-dynamodb.ts';

let dynamo: EmbeddedDynamo;
let now = Date.parse('2026-03-01T10:00:00Z');
const clock: Clock = { now: () => now, sleep: async () => {} };
let store: DynamoRunStore;

beforeAll(async () => {
  dynamo = await startEmbeddedDynamo();
  store = new DynamoRunStore({ client: dynamo.client, tableName: dynamo.tableNames.Runs, clock });
});

afterAll(async () => {
  await dynamo.stop();
});

describe('DynamoRunStore', () => {
  it('creates, reads, patches and lists runs most recent first', async () => {
    await store.createRun({
      runId: 'r-old',
      folder: 'drop/a/',
      source: 'pbn',
      startedAt: '2026-03-01T08:00:00Z',
    });
    const created = await store.createRun({
      runId: 'r-new',
      folder: 'drop/b/',
      source: 'apms',
      startedAt: '2026-03-01T09:00:00Z',
    });
    expect(created.status).toBe('running');
    const again = await store.createRun({
      runId: 'r-new',
      folder: 'drop/b/',
      source: 'apms',
      startedAt: '2026-03-01T09:00:00Z',
    });
    expect(again.runId).toBe('r-new');
    await expect(
      store.createRun({
        runId: 'r-new',
        folder: 'drop/other/',
        source: 'apms',
        startedAt: '2026-03-01T09:00:00Z',
      }),
    ).rejects.toThrow(ValidationError);

    await store.updateRun('r-new', {
      stage: 'AwaitPlanApproval',
      status: 'awaiting-approval',
      planHash: 'abc',
    });
    await store.recordTaskToken('r-new', 'plan', 'token-123');
    const read = await store.getRun('r-new');
    expect(read).toMatchObject({
      stage: 'AwaitPlanApproval',
      status: 'awaiting-approval',
      planHash: 'abc',
      taskTokens: { plan: 'token-123' },
    });
    expect((await store.listRuns()).map((r) => r.runId).slice(0, 2)).toEqual(['r-new', 'r-old']);
    expect(await store.listRuns({ limit: 1 })).toHaveLength(1);
    expect(await store.getRun('missing')).toBeUndefined();
    await expect(store.updateRun('missing', { status: 'failed' })).rejects.toThrow(NotFoundError);
  });

  it('adds counters atomically from concurrent loaders', async () => {
    await store.createRun({
      runId: 'r-count',
      folder: 'drop/c/',
      source: 'pbn',
      startedAt: '2026-03-01T09:30:00Z',
    });
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => store.addCounters('r-count', { loaded: 10, rejected: i % 2 })),
    );
    await store.addCounters('r-count', { skipped: 3 });
    expect((await store.getRun('r-count'))?.counters).toEqual({ loaded: 200, rejected: 10, skipped: 3 });
    await expect(store.addCounters('r-count', { 'bad name': 1 })).rejects.toThrow(ValidationError);
    await expect(store.addCounters('missing', { loaded: 1 })).rejects.toThrow(NotFoundError);
  });

  it('lets one run hold a folder lock, re-enter it, and refuses a second live run', async () => {
    const lock = await store.acquireLock('drop/lock/', 'run-1', 60_000);
    expect(lock.expiresAt).toBe(now + 60_000);
    await expect(store.acquireLock('drop/lock/', 'run-1', 60_000)).resolves.toMatchObject({ runId: 'run-1' });
    await expect(store.acquireLock('drop/lock/', 'run-2', 60_000)).rejects.toThrow(RunLockedError);
    await expect(store.acquireLock('drop/lock/', 'run-2', 60_000)).rejects.toThrow(/run-1/);
    await expect(store.acquireLock('drop/other-lock/', 'run-2', 60_000)).resolves.toMatchObject({
      runId: 'run-2',
    });
  });

  it('lets exactly one of several concurrent runs take a free lock', async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 6 }, (_, i) => store.acquireLock('drop/race/', `racer-${i}`, 60_000)),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(results.filter((r) => r.status === 'rejected' && r.reason instanceof RunLockedError)).toHaveLength(
      5,
    );
  });

  it('takes over a stale lock after its expiry and ignores a release by a non-holder', async () => {
    await store.acquireLock('drop/stale/', 'crashed', 1_000);
    now += 500;
    await expect(store.acquireLock('drop/stale/', 'next', 1_000)).rejects.toThrow(RunLockedError);
    now += 1_000;
    await expect(store.acquireLock('drop/stale/', 'next', 1_000)).resolves.toMatchObject({ runId: 'next' });
    await store.releaseLock('drop/stale/', 'crashed');
    await expect(store.acquireLock('drop/stale/', 'third', 1_000)).rejects.toThrow(RunLockedError);
    await store.releaseLock('drop/stale/', 'next');
    await expect(store.acquireLock('drop/stale/', 'third', 1_000)).resolves.toMatchObject({ runId: 'third' });
  });
});
