import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { taskRunner } from '../../lambdas/tasks/handler-kit.ts';
import { taskRegistry } from '../../lambdas/tasks/registry.ts';
import { rollback } from '../../lambdas/tasks/rollback/rollback.ts';
import {
  RollbackInputSchema,
  RollbackOutputSchema,
  RollbackReportSchema,
} from '../../lambdas/tasks/rollback/schema.ts';
import { autoApprover } from '../../lib/local/approvals.ts';
import { type LocalRuntime, startLocalRuntime } from '../../lib/local/runtime.ts';
import { type RunningSandbox, startSandbox } from '../../lib/sandbox/index.ts';
import { entered, uploadTiny } from '../support/tiny.ts';

/**
 * rollback.asl.json's continuation loop through the local runner: the Rollback task is the real
 * one with its deadline at the tick's start, so each tick sends exactly one request, persists its
 * cursor and returns done:false — the machine loops Rollback → RollbackDone → RollbackWait → Rollback.
 */
describe('rollback.asl.json loop on the local runtime', () => {
  let sandbox: RunningSandbox;
  let runtime: LocalRuntime;
  let folder: string;
  let mappingKey: string;

  beforeAll(async () => {
    sandbox = await startSandbox({ rateShort: null, rateLong: null });
    const tasks = taskRegistry.map((task) =>
      task.stateName === 'Rollback'
        ? {
            ...task,
            run: taskRunner('Rollback', RollbackInputSchema, (input, deps) =>
              rollback(input, deps, { deadline: deps.clock.now() }),
            ),
          }
        : task,
    );
    runtime = await startLocalRuntime({
      inMemory: true,
      retryIntervalMs: 0,
      tasks,
      twenty: { url: sandbox.url, apiKey: sandbox.apiKey, rate: '1000/1s+60000/60s' },
    });
    ({ folder, mappingKey } = await uploadTiny(runtime.deps.drop));
  });
  afterAll(async () => {
    await runtime?.stop();
    await sandbox?.stop();
  });

  it('loops one tick per request until done, then succeeds with the counts', async () => {
    const before = await sandbox.dump();
    const migrate = await runtime.startExecution(
      'migrate',
      { folder, options: { chunkSize: 2, mappingKey } },
      { runId: 'wf-rollback-1', approver: autoApprover('wf') },
    );
    expect(migrate.status).toBe('SUCCEEDED');

    const run = await runtime.startExecution(
      'rollback',
      { runId: 'wf-rollback-1' },
      { approver: autoApprover('wf') },
    );
    expect(run.error).toBeUndefined();
    expect(run.status).toBe('SUCCEEDED');
    const out = RollbackOutputSchema.parse(run.output);
    expect(out).toMatchObject({ done: true, cursor: 'done', status: 'rolled-back', verified: true });
    expect(out.ticks).toBeGreaterThanOrEqual(2);
    // At most one request per tick (the deadline is the tick's start); only the last may send none.
    expect(out.requests).toBeLessThanOrEqual(out.ticks);
    expect(out.requests).toBeGreaterThanOrEqual(out.ticks - 1);

    const states = entered(run.transitions);
    expect(states.slice(0, 3)).toEqual(['CheckInput', 'CheckRunId', 'CheckRemoveSchema']);
    expect(states[3]).toBe('DefaultRemoveSchema');
    const loop = states.slice(4);
    const expected: string[] = [];
    for (let tick = 1; tick <= out.ticks; tick++) {
      expected.push('Rollback', 'RollbackDone');
      expected.push(tick < out.ticks ? 'RollbackWait' : 'Done');
    }
    expect(loop).toEqual(expected);

    const report = RollbackReportSchema.parse(
      JSON.parse(await runtime.deps.work.getText(out.reportKey ?? '')),
    );
    expect(report.ticks).toBe(out.ticks);
    const after = await sandbox.dump();
    for (const [object, rows] of Object.entries(before.records)) {
      expect(after.records[object]?.map((r) => r.id).sort(), object).toEqual(rows.map((r) => r.id).sort());
    }
  }, 300_000);

  it('refuses an input without a run id before any task runs', async () => {
    for (const input of [{}, { runId: 42 }, { runId: '' }, { runId: 'wf-rollback-1', removeSchema: 'yes' }]) {
      const run = await runtime.startExecution('rollback', input, { approver: autoApprover('wf') });
      expect(run.status).toBe('FAILED');
      expect(run.error?.name).toBe('InvalidInput');
      expect(entered(run.transitions)).not.toContain('Rollback');
    }
  });
});
