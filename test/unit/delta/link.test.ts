import { describe, expect, it } from 'vitest';
import { MemoryObjectStore } from '../../../lambdas/adapters/memory-object-store.ts';
import { linkDelta, parentFolder, resolveBaseRun, rollbackFamily } from '../../../lambdas/core/delta/link.ts';
import { ValidationError } from '../../../lambdas/core/errors.ts';
import { MemoryRunStore } from '../../../lambdas/core/ledger/memory-run-store.ts';
import { deltaOfKey, prepareStatsKey } from '../../../lambdas/core/run-layout.ts';
import type { RunStatus } from '../../../lambdas/ports/run-store.ts';

async function world() {
  const runs = new MemoryRunStore();
  const work = new MemoryObjectStore('work');
  const add = async (runId: string, folder: string, status: RunStatus, startedAt: string) => {
    await runs.createRun({ runId, folder, source: 'apms', startedAt });
    await runs.updateRun(runId, { status });
    await work.put(prepareStatsKey(runId), JSON.stringify({ sourceInstance: 'acme' }));
  };
  return { runs, work, add };
}

describe('delta links', () => {
  it('names the folder above a delta drop', () => {
    expect(parentFolder('drop/acme/delta-2/')).toBe('drop/acme/');
    expect(parentFolder('drop/acme/')).toBeUndefined();
  });

  it('follows the named run, refuses an unknown or unfinished one, and ties a delta of a delta to the base', async () => {
    const { runs, work, add } = await world();
    await add('base', 'drop/acme/', 'succeeded', '2026-01-01T00:00:00.000Z');
    await add('busy', 'drop/other/', 'running', '2026-01-02T00:00:00.000Z');
    expect((await resolveBaseRun(runs, work, 'drop/x/', 'base')).runId).toBe('base');
    await expect(resolveBaseRun(runs, work, 'drop/x/', 'nope')).rejects.toBeInstanceOf(ValidationError);
    await expect(resolveBaseRun(runs, work, 'drop/x/', 'busy')).rejects.toThrow(/running/);

    const link = await linkDelta(work, 'delta-1', await resolveBaseRun(runs, work, 'drop/x/', 'base'), 't1');
    expect(link).toMatchObject({ baseRunId: 'base', sourceInstance: 'acme' });
    await add('delta-1', 'drop/acme/delta-1/', 'succeeded', '2026-01-03T00:00:00.000Z');
    expect((await resolveBaseRun(runs, work, 'drop/x/', 'delta-1')).runId).toBe('base');
  });

  it('finds a scheduled delta its base: the newest finished non-delta run of its folder or the one above', async () => {
    const { runs, work, add } = await world();
    await add('old', 'drop/acme/', 'succeeded', '2026-01-01T00:00:00.000Z');
    await add('new', 'drop/acme/', 'failed', '2026-01-02T00:00:00.000Z');
    await add('rolled', 'drop/acme/', 'rolled-back', '2026-01-03T00:00:00.000Z');
    await add('d1', 'drop/acme/', 'succeeded', '2026-01-04T00:00:00.000Z');
    await work.put(deltaOfKey('d1'), '{}');
    expect((await resolveBaseRun(runs, work, 'drop/acme/delta-3/', undefined)).runId).toBe('new');
    expect((await resolveBaseRun(runs, work, 'drop/acme/', undefined)).runId).toBe('new');
    await expect(resolveBaseRun(runs, work, 'drop/elsewhere/', undefined)).rejects.toThrow(/baseRunId/);
  });

  it('links idempotently and lists a run with its deltas for rollback, newest delta first', async () => {
    const { runs, work, add } = await world();
    await add('base', 'drop/acme/', 'succeeded', '2026-01-01T00:00:00.000Z');
    const base = (await runs.getRun('base'))!;
    await linkDelta(work, 'delta-a', base, '2026-01-02T00:00:00.000Z');
    await linkDelta(work, 'delta-b', base, '2026-01-03T00:00:00.000Z');
    const again = await linkDelta(work, 'delta-a', base, '2026-01-09T00:00:00.000Z');
    expect(again.linkedAt).toBe('2026-01-02T00:00:00.000Z');
    expect(await rollbackFamily(work, 'base')).toEqual(['delta-b', 'delta-a', 'base']);
    expect(await rollbackFamily(work, 'delta-a')).toEqual(['delta-a']);
  });

  it('refuses a base run that never reached Prepare', async () => {
    const { runs, work } = await world();
    await runs.createRun({
      runId: 'early',
      folder: 'drop/a/',
      source: 'apms',
      startedAt: '2026-01-01T00:00:00.000Z',
    });
    await runs.updateRun('early', { status: 'failed' });
    const early = (await runs.getRun('early'))!;
    await expect(linkDelta(work, 'd', early, 't')).rejects.toThrow(/Prepare/);
  });
});
