import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChunkManifestSchema } from '../../lambdas/core/inventory/manifest.ts';
import { PlanSchema } from '../../lambdas/core/inventory/plan.ts';
import { ReconciliationSchema } from '../../lambdas/core/reconcile/report.ts';
import { ApprovalDeclinedError, autoApprover, unattendedApprover } from '../../lib/local/approvals.ts';
import { type LocalRuntime, startLocalRuntime } from '../../lib/local/runtime.ts';
import { type RunningSandbox, startSandbox } from '../../lib/sandbox/index.ts';
import { entered, tinyExportDir, uploadTiny } from '../support/tiny.ts';

const _tiny = tinyExportDir;

const FULL_PATH = [
  'CheckOptions',
  'Inventory',
  'AwaitPlanApproval',
  'Segment',
  'ApplySchema',
  'ResolveOwners',
  'Prepare',
  'SampleLoad',
  'SampleLoadDone',
  'AwaitSampleApproval',
  'LoadPhases',
  'Reconcile',
  'ReconcileDone',
  'Summarize',
];

describe('migrate.asl.json on the local runtime', () => {
  let sandbox: RunningSandbox;
  let runtime: LocalRuntime;
  let folder: string;
  let mappingKey: string;

  beforeAll(async () => {
    sandbox = await startSandbox({ rateShort: null, rateLong: null });
    runtime = await startLocalRuntime({
      inMemory: true,
      retryIntervalMs: 0,
      twenty: { url: sandbox.url, apiKey: sandbox.apiKey, rate: '1000/1s+60000/60s' },
    });
    ({ folder, mappingKey } = await uploadTiny(runtime.deps.drop));
  });
  afterAll(async () => {
    await runtime?.stop();
    await sandbox?.stop();
  });

  it('runs every stage in order, loads the export into Twenty and balances', async () => {
    const run = await runtime.startExecution(
      'migrate',
      { folder, options: { chunkSize: 2, mappingKey } },
      { runId: 'wf-migrate-1', approver: autoApprover('test') },
    );
    expect(run.error).toBeUndefined();
    expect(run.status).toBe('SUCCEEDED');
    expect(entered(run.transitions)).toEqual(FULL_PATH);
    // Every phase ran its chunks through LoadChunk inside the per-phase Map.
    expect(run.transitions.some((t) => t.type === 'StateEntered' && t.state === 'LoadChunk')).toBe(true);

    const summary = run.output as Record<string, unknown>;
    expect(summary).toMatchObject({
      runId: 'wf-migrate-1',
      source: 'generic',
      files: 2,
      rows: 9,
      segmentedRows: 9,
      planKey: 'runs/wf-migrate-1/plan.json',
      manifestKey: 'runs/wf-migrate-1/chunks/manifest.json',
    });
    // The state payload carries keys and counts, never a field value of the export.
    expect(JSON.stringify(run.output)).not.toMatch(/Testperson|example\.test|555-01/);

    const plan = PlanSchema.parse(JSON.parse(await runtime.deps.work.getText('runs/wf-migrate-1/plan.json')));
    expect(plan).toMatchObject({ source: 'generic', sourceInstance: folder.split('/')[1] });
    expect((plan.mapping as { origin: string }).origin).toBe('operator');
    const manifest = ChunkManifestSchema.parse(
      JSON.parse(await runtime.deps.work.getText('runs/wf-migrate-1/chunks/manifest.json')),
    );
    expect(manifest.totals).toEqual({ rows: 9, rejected: 0, chunks: 5 });

    const reconciliation = ReconciliationSchema.parse(
      JSON.parse(await runtime.deps.work.getText('runs/wf-migrate-1/reconciliation.json')),
    );
    expect(reconciliation.balanced).toBe(true);
    expect(reconciliation.status).toBe('succeeded');
    expect(reconciliation.totals.sourceRows).toBe(9);
    expect(reconciliation.totals.created).toBe(reconciliation.totals.loaded);
    expect(reconciliation.missing).toBe(0);

    const dump = await sandbox.dump();
    const people = (dump.records.person ?? []).filter((p) => p.deletedAt == null);
    expect(people.length).toBe(reconciliation.entities.find((e) => e.object === 'people')?.loaded.created);

    const record = await runtime.deps.runStore?.getRun('wf-migrate-1');
    expect(record?.status).toBe('succeeded');
    expect(record?.taskTokens.plan).toBe('local-approval:wf-migrate-1');
  });

  it('writes nothing on a second run of the same export: every record is unchanged', async () => {
    const before = await sandbox.stats();
    const run = await runtime.startExecution(
      'migrate',
      { folder, options: { chunkSize: 2, mappingKey } },
      { runId: 'wf-migrate-2', approver: autoApprover('test') },
    );
    expect(run.error).toBeUndefined();
    expect(run.status).toBe('SUCCEEDED');
    const reconciliation = ReconciliationSchema.parse(
      JSON.parse(await runtime.deps.work.getText('runs/wf-migrate-2/reconciliation.json')),
    );
    expect(reconciliation.totals.created).toBe(0);
    expect(reconciliation.totals.updated).toBe(0);
    expect(reconciliation.totals.unchanged).toBeGreaterThan(0);
    expect(reconciliation.balanced).toBe(true);
    const after = await sandbox.stats();
    expect(after.records).toEqual(before.records);
  });

  it('the sample gate blocks the full load: declined, LoadPhases never runs and only the sample is in Twenty', async () => {
    const run = await runtime.startExecution(
      'migrate',
      { folder, options: { chunkSize: 2, mappingKey, sampleSize: 2 } },
      {
        runId: 'wf-migrate-sample-declined',
        approver: async (prompt) => {
          if (prompt.stage === 'sample') throw new ApprovalDeclinedError('the sample was not approved');
          return autoApprover('test')(prompt);
        },
      },
    );
    expect(run.status).toBe('FAILED');
    const states = entered(run.transitions);
    expect(states).toContain('AwaitSampleApproval');
    expect(states).not.toContain('LoadPhases');
    expect(states.indexOf('SampleLoad')).toBeLessThan(states.indexOf('AwaitSampleApproval'));
    // The sample diff covers every field of every sampled record.
    const diff = JSON.parse(
      await runtime.deps.work.getText('runs/wf-migrate-sample-declined/sample-diff.json'),
    ) as {
      records: { fields: { verdict: string; source: string | null }[]; found: boolean }[];
      totals: { records: number; fields: number; matched: number };
    };
    expect(diff.totals.records).toBeGreaterThanOrEqual(2);
    expect(diff.records.every((r) => r.found && r.fields.length > 0)).toBe(true);
    // Each record shows the source cells its fields came from (read from Segment's chunks by line).
    expect(diff.records.every((r) => r.fields.some((f) => f.source !== null))).toBe(true);
    expect(diff.totals.fields).toBe(diff.records.reduce((n, r) => n + r.fields.length, 0));
    expect(diff.totals.matched).toBe(diff.totals.fields);
    // The sample went through LoadChunk (its own counters); the full load never ran.
    const counters = (await runtime.deps.runStore?.getRun('wf-migrate-sample-declined'))?.counters ?? {};
    const names = Object.keys(counters);
    expect(names.some((n) => n.startsWith('sample_phase_') && n.endsWith('_records'))).toBe(true);
    expect(names.some((n) => n.startsWith('phase_'))).toBe(false);
  });

  it('with no sample asked for (sampleSize 0) goes straight from Prepare to LoadPhases', async () => {
    const run = await runtime.startExecution(
      'migrate',
      { folder, options: { chunkSize: 2, mappingKey, sampleSize: 0 } },
      { runId: 'wf-migrate-no-sample', approver: autoApprover('test') },
    );
    expect(run.status).toBe('SUCCEEDED');
    const states = entered(run.transitions);
    expect(states).not.toContain('AwaitSampleApproval');
    expect(states.slice(states.indexOf('Prepare'), states.indexOf('LoadPhases') + 1)).toEqual([
      'Prepare',
      'SampleLoad',
      'SampleLoadDone',
      'LoadPhases',
    ]);
  });

  it('refuses a second run while another run holds the folder lock, through FailRun', async () => {
    await runtime.deps.runStore?.acquireLock(folder, 'someone-else', 60_000);
    try {
      const run = await runtime.startExecution(
        'migrate',
        { folder },
        { runId: 'wf-migrate-3', approver: autoApprover() },
      );
      expect(run.status).toBe('FAILED');
      expect(run.error?.name).toBe('RunLockedError');
      expect(entered(run.transitions)).toEqual([
        'CheckOptions',
        'DefaultChunkSize',
        'Inventory',
        'FailRun',
        'Failed',
      ]);
    } finally {
      await runtime.deps.runStore?.releaseLock(folder, 'someone-else');
    }
  });

  it('fails through FailRun with the error name when the drop folder is empty', async () => {
    const run = await runtime.startExecution(
      'migrate',
      { folder: 'drop/nothing-here/' },
      { runId: 'wf-migrate-4', approver: autoApprover() },
    );
    expect(run.status).toBe('FAILED');
    expect(run.error?.name).toBe('ValidationError');
    expect(run.error?.cause).toMatch(/drop\/nothing-here\//);
    expect(entered(run.transitions)).toEqual([
      'CheckOptions',
      'DefaultChunkSize',
      'Inventory',
      'FailRun',
      'Failed',
    ]);
    // The lock Inventory took is released, so the operator can fix the folder and start again.
    const lock = await runtime.deps.runStore?.acquireLock('drop/nothing-here/', 'wf-next', 1000);
    expect(lock?.runId).toBe('wf-next');
  });

  it('stops at the plan gate, before Segment, marks the run failed and frees the folder', async () => {
    const run = await runtime.startExecution(
      'migrate',
      { folder, options: { chunkSize: 5, mappingKey } },
      { runId: 'wf-migrate-5', approver: unattendedApprover() },
    );
    expect(run.status).toBe('FAILED');
    expect(run.error?.name).toBe('ApprovalRequiredError');
    expect(entered(run.transitions)).toEqual([
      'CheckOptions',
      'Inventory',
      'AwaitPlanApproval',
      'FailRun',
      'Failed',
    ]);
    expect(await runtime.deps.work.exists('runs/wf-migrate-5/chunks/manifest.json')).toBe(false);
    const record = await runtime.deps.runStore?.getRun('wf-migrate-5');
    expect(record).toMatchObject({ status: 'failed', error: 'ApprovalRequiredError' });
  });

  it('delta ties itself to the last finished run of its folder, runs the same stages but the sample gate (plus LinkDelta and PropagateDeletes), and on an unchanged export writes nothing', async () => {
    const run = await runtime.startExecution(
      'delta',
      { folder, options: { chunkSize: 5000, mappingKey } },
      { runId: 'wf-delta-1', approver: autoApprover() },
    );
    expect(run.error).toBeUndefined();
    expect(run.status).toBe('SUCCEEDED');
    // A cutover delta has no sample gate: the full run's sample was the operator's proof.
    expect(entered(run.transitions)).toEqual(
      FULL_PATH.filter((s) => !['SampleLoad', 'SampleLoadDone', 'AwaitSampleApproval'].includes(s)).flatMap(
        (s) =>
          s === 'CheckOptions'
            ? [s, 'LinkDelta']
            : s === 'Reconcile'
              ? ['PropagateDeletes', 'PropagateDeletesDone', s]
              : [s],
      ),
    );
    const reconciliation = ReconciliationSchema.parse(
      JSON.parse(await runtime.deps.work.getText('runs/wf-delta-1/reconciliation.json')),
    );
    expect(reconciliation.totals.created + reconciliation.totals.updated).toBe(0);
    expect(reconciliation.delta).toMatchObject({
      new: 0,
      changed: 0,
      missing: 0,
      deleted: 0,
      propagateDeletes: false,
    });
    expect(reconciliation.delta?.unchanged).toBe(reconciliation.totals.unchanged);
  });

  it('rollback of the delta run (which wrote nothing) succeeds, and fails through FailRun for an unknown run', async () => {
    const run = await runtime.startExecution(
      'rollback',
      { runId: 'wf-delta-1' },
      { runId: 'rb-1', approver: autoApprover() },
    );
    expect(run.error).toBeUndefined();
    expect(run.status).toBe('SUCCEEDED');
    expect(entered(run.transitions)).toEqual([
      'CheckInput',
      'CheckRunId',
      'CheckRemoveSchema',
      'DefaultRemoveSchema',
      'Rollback',
      'RollbackDone',
      'Done',
    ]);
    expect(run.output).toMatchObject({ status: 'rolled-back', destroyed: 0, restored: 0, problems: 0 });
    expect((await runtime.deps.runStore?.getRun('wf-delta-1'))?.status).toBe('rolled-back');

    const unknown = await runtime.startExecution(
      'rollback',
      { runId: 'no-such-run' },
      { runId: 'rb-2', approver: autoApprover() },
    );
    expect(unknown.status).toBe('FAILED');
    expect(unknown.error?.name).toBe('RollbackFailed');
    expect(entered(unknown.transitions)).toEqual([
      'CheckInput',
      'CheckRunId',
      'CheckRemoveSchema',
      'DefaultRemoveSchema',
      'Rollback',
      'FailRun',
      'Failed',
    ]);
  });
});
