import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChunkManifestSchema } from '../../lambdas/core/inventory/manifest.ts';
import { PlanSchema } from '../../lambdas/core/inventory/plan.ts';
import { uploadExportFolder } from '../../lib/cli/drop-folder.ts';
import { autoApprover, unattendedApprover } from '../../lib/local/approvals.ts';
import { type LocalRuntime, startLocalRuntime } from '../../lib/local/runtime.ts';

const tiny = join(import.meta.dirname, '..', 'fixtures', 'exports', 'tiny');

const entered = (transitions: readonly { type: string; state?: string; index?: number }[]) =>
  transitions.filter((t) => t.type === 'StateEntered' && t.index === undefined).map((t) => t.state);

describe('migrate.asl.json on the local runtime', () => {
  let runtime: LocalRuntime;
  let folder: string;

  beforeAll(async () => {
    runtime = await startLocalRuntime({ inMemory: true, retryIntervalMs: 0 });
    folder = (await uploadExportFolder(runtime.deps.drop, tiny)).folder;
  });
  afterAll(async () => {
    await runtime?.stop();
  });

  it('runs Inventory, the plan gate and Segment, and ends with a summary that loads nothing', async () => {
    const run = await runtime.startExecution(
      'migrate',
      { folder, options: { chunkSize: 2 } },
      { runId: 'wf-migrate-1', approver: autoApprover('test') },
    );
    expect(run.error).toBeUndefined();
    expect(run.status).toBe('SUCCEEDED');
    expect(entered(run.transitions)).toEqual([
      'CheckOptions',
      'Inventory',
      'AwaitPlanApproval',
      'Segment',
      'Summarize',
    ]);
    expect(run.transitions.at(0)?.type).toBe('ExecutionStarted');
    expect(run.transitions.at(-1)?.type).toBe('ExecutionSucceeded');

    const summary = run.output as Record<string, unknown>;
    expect(summary).toMatchObject({
      runId: 'wf-migrate-1',
      status: 'SEGMENTED',
      loadedIntoTwenty: 0,
      files: 2,
      rows: 9,
      segmentedRows: 9,
      rejects: 0,
      chunks: 5,
      planKey: 'runs/wf-migrate-1/plan.json',
      manifestKey: 'runs/wf-migrate-1/chunks/manifest.json',
    });

    const plan = PlanSchema.parse(JSON.parse(await runtime.deps.work.getText('runs/wf-migrate-1/plan.json')));
    const manifest = ChunkManifestSchema.parse(
      JSON.parse(await runtime.deps.work.getText('runs/wf-migrate-1/chunks/manifest.json')),
    );
    expect(manifest.chunkSize).toBe(2);
    expect(manifest.totals).toEqual({ rows: 9, rejected: 0, chunks: 5 });
    for (const file of manifest.files) {
      const planned = plan.files.find((f) => f.key === file.key);
      expect(planned, file.key).toBeDefined();
      expect(file.rows + file.rejected).toBe(planned?.rows);
      expect(file.chunks.reduce((sum, chunk) => sum + chunk.rows, 0)).toBe(file.rows);
      for (const chunk of file.chunks) expect(await runtime.deps.work.exists(chunk.key)).toBe(true);
    }
    expect(manifest.files.map((f) => [f.stem, f.chunks.length]).sort()).toEqual([
      ['appointments', 2],
      ['patients', 3],
    ]);

    const approval = JSON.parse(await runtime.deps.work.getText('runs/wf-migrate-1/approvals/plan.json'));
    expect(approval).toMatchObject({ runId: 'wf-migrate-1', stage: 'plan' });
    const record = JSON.parse(await runtime.deps.work.getText('runs/wf-migrate-1/summary.json'));
    expect(record).toMatchObject({ runId: 'wf-migrate-1', machine: 'migrate', status: 'SUCCEEDED' });
  });

  it('records the plan gate token on the run record when the run store has the run', async () => {
    await runtime.deps.runStore?.createRun({
      runId: 'wf-migrate-5',
      folder,
      source: 'unknown',
      startedAt: new Date().toISOString(),
    });
    const run = await runtime.startExecution(
      'migrate',
      { folder },
      { runId: 'wf-migrate-5', approver: autoApprover() },
    );
    expect(run.status).toBe('SUCCEEDED');
    const record = await runtime.deps.runStore?.getRun('wf-migrate-5');
    expect(record?.taskTokens.plan).toBe('local-approval:wf-migrate-5');
    expect(record?.stage).toBe('AwaitPlanApproval');
  });

  it('applies the default chunk size when started like EventBridge does, with the folder only', async () => {
    const run = await runtime.startExecution(
      'migrate',
      { folder },
      { runId: 'wf-migrate-2', approver: autoApprover() },
    );
    expect(run.status).toBe('SUCCEEDED');
    expect(entered(run.transitions)).toEqual([
      'CheckOptions',
      'DefaultChunkSize',
      'Inventory',
      'AwaitPlanApproval',
      'Segment',
      'Summarize',
    ]);
    expect(run.output).toMatchObject({ chunks: 2, rows: 9 });
  });

  it('fails through the Catch with the error name when the drop folder is empty', async () => {
    const run = await runtime.startExecution(
      'migrate',
      { folder: 'drop/nothing-here/' },
      { runId: 'wf-migrate-3', approver: autoApprover() },
    );
    expect(run.status).toBe('FAILED');
    expect(run.error?.name).toBe('ValidationError');
    expect(run.error?.cause).toMatch(/drop\/nothing-here\//);
    expect(entered(run.transitions)).toEqual(['CheckOptions', 'DefaultChunkSize', 'Inventory', 'Failed']);
  });

  it('stops at the plan gate, before Segment, when nobody can approve', async () => {
    const run = await runtime.startExecution(
      'migrate',
      { folder, options: { chunkSize: 5 } },
      { runId: 'wf-migrate-4', approver: unattendedApprover() },
    );
    expect(run.status).toBe('FAILED');
    expect(run.error?.name).toBe('ApprovalRequiredError');
    expect(entered(run.transitions)).toEqual(['CheckOptions', 'Inventory', 'AwaitPlanApproval', 'Failed']);
    expect(await runtime.deps.work.exists('runs/wf-migrate-4/chunks/manifest.json')).toBe(false);
  });
});

describe('delta.asl.json and rollback.asl.json on the local runtime', () => {
  let runtime: LocalRuntime;
  beforeAll(async () => {
    runtime = await startLocalRuntime({ inMemory: true, retryIntervalMs: 0 });
  });
  afterAll(async () => {
    await runtime?.stop();
  });

  it('delta segments and stops, loading nothing', async () => {
    const { folder } = await uploadExportFolder(runtime.deps.drop, tiny);
    const run = await runtime.startExecution(
      'delta',
      { folder },
      { runId: 'wf-delta-1', approver: autoApprover() },
    );
    expect(run.status).toBe('SUCCEEDED');
    expect(entered(run.transitions).at(-1)).toBe('SegmentedNothingLoaded');
    expect(run.output).toMatchObject({ runId: 'wf-delta-1', rows: 9 });
  });

  it('rollback refuses clearly until the ledger-driven rollback exists', async () => {
    const run = await runtime.startExecution(
      'rollback',
      { runId: 'wf-delta-1' },
      { runId: 'rb-1', approver: autoApprover() },
    );
    expect(run.status).toBe('FAILED');
    expect(run.error?.name).toBe('RollbackUnavailable');
  });
});
