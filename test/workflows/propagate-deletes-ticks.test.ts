import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReconciliationSchema } from '../../lambdas/core/reconcile/report.ts';
import type { LedgerEntry } from '../../lambdas/ports/ledger.ts';
import { PropagateDeletesOutputSchema } from '../../lambdas/tasks/propagate-deletes/schema.ts';
import { autoApprover } from '../../lib/local/approvals.ts';
import { type LocalRuntime, startLocalRuntime } from '../../lib/local/runtime.ts';
import { type RunningSandbox, startSandbox } from '../../lib/sandbox/index.ts';
import { tinyExportDir, uploadTiny } from '../support/tiny.ts';

/** The tiny export's file without the rows whose first column is one of `ids`. */
function without(file: string, ids: readonly string[]): string {
  const lines = readFileSync(join(tinyExportDir, file), 'utf8').split('\n');
  return lines.filter((line) => !ids.some((id) => line.startsWith(`${id},`))).join('\n');
}

/**
 * delta.asl.json's PropagateDeletes loop through the local runner: with a time box of 0 ms every tick
 * deletes one page and hands back a continuation, so a delta dropping patients and appointments (one
 * page each) runs PropagateDeletes → PropagateDeletesDone → PropagateDeletesWait → PropagateDeletes.
 */
describe('PropagateDeletes ticks on the local runtime', () => {
  let sandbox: RunningSandbox;
  let runtime: LocalRuntime;
  let folder: string;
  let mappingKey: string;

  beforeAll(async () => {
    sandbox = await startSandbox({ rateShort: null, rateLong: null });
    runtime = await startLocalRuntime({
      inMemory: true,
      retryIntervalMs: 0,
      tickBudgetMs: 0,
      twenty: { url: sandbox.url, apiKey: sandbox.apiKey, rate: '1000/1s+60000/60s' },
    });
    ({ folder, mappingKey } = await uploadTiny(runtime.deps.drop));
  });
  afterAll(async () => {
    await runtime?.stop();
    await sandbox?.stop();
  });

  it('loops one page per tick until the missing records are deleted, and the delta balances', async () => {
    const base = await runtime.startExecution(
      'migrate',
      { folder, options: { chunkSize: 2, mappingKey, sampleSize: 0 } },
      { runId: 'wf-pd-base', approver: autoApprover('wf') },
    );
    expect(base.error).toBeUndefined();
    const migrated = await sandbox.dump();
    const deltaFolder = `${folder}delta-1/`;
    await runtime.deps.drop.put(`${deltaFolder}patients.csv`, without('patients.csv', ['P003', 'P004']));
    await runtime.deps.drop.put(
      `${deltaFolder}appointments.csv`,
      without('appointments.csv', ['A03', 'A04']),
    );

    const run = await runtime.startExecution(
      'delta',
      {
        folder: deltaFolder,
        options: { chunkSize: 2, mappingKey, propagateDeletes: true, baseRunId: 'wf-pd-base' },
      },
      { runId: 'wf-pd-delta', approver: autoApprover('wf') },
    );
    expect(run.error).toBeUndefined();
    expect(run.status).toBe('SUCCEEDED');

    const top = run.transitions.filter((t) => t.type === 'StateEntered' && t.index === undefined);
    const names = top.map((t) => t.state);
    const from = names.indexOf('PropagateDeletes');
    const loop = names.slice(from, names.indexOf('Reconcile'));
    const ticks = loop.filter((s) => s === 'PropagateDeletes').length;
    // Two pages (the patients' people, the appointments' tasks): two ticks, one continuation.
    expect(ticks).toBe(2);
    expect(loop).toEqual([
      'PropagateDeletes',
      'PropagateDeletesDone',
      'PropagateDeletesWait',
      'PropagateDeletes',
      'PropagateDeletesDone',
    ]);
    const out = PropagateDeletesOutputSchema.parse((run.output as { deletes: unknown }).deletes);
    expect(out).toMatchObject({ done: true, ticks: 2, missing: 4, deleted: 4, preexisting: 0, conflicts: 0 });

    // The four records are gone from Twenty, each with its before-image ledgered, and nothing else went.
    const deleted: LedgerEntry[] = [];
    for await (const entry of runtime.deps.ledger?.entriesForRun('wf-pd-delta') ?? [])
      if (entry.op === 'deleted' && entry.phase !== '99-cascade') deleted.push(entry);
    expect(deleted.map((e) => e.sourceId).sort()).toEqual(['A03', 'A04', 'P003', 'P004']);
    expect(deleted.every((e) => e.beforeImage?.id === e.twentyId)).toBe(true);
    const after = await sandbox.dump();
    const ids = (dump: typeof after, object: string) => (dump.records[object] ?? []).map((r) => r.id);
    for (const entry of deleted)
      expect(ids(after, entry.object === 'people' ? 'person' : 'task')).not.toContain(entry.twentyId);
    expect(ids(after, 'person').length).toBe(ids(migrated, 'person').length - 2);
    expect(ids(after, 'task').length).toBe(ids(migrated, 'task').length - 2);

    const reconciliation = ReconciliationSchema.parse(
      JSON.parse(await runtime.deps.work.getText('runs/wf-pd-delta/reconciliation.json')),
    );
    expect(reconciliation.balanced).toBe(true);
    expect(reconciliation.delta).toMatchObject({ missing: 4, deleted: 4, propagateDeletes: true });
  }, 120_000);
});
