import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TaskEntry, taskRegistry } from '../../lambdas/tasks/registry.ts';
import { unattendedApprover } from '../../lib/local/approvals.ts';
import { type LocalRuntime, startLocalRuntime } from '../../lib/local/runtime.ts';
import { type RunningSandbox, startSandbox } from '../../lib/sandbox/index.ts';
import { entered, tinyExportDir, tinyMapping } from '../support/tiny.ts';

const tiny = tinyExportDir;

/** The drop folder as an operator fills it: the export, their mapping, then ferry.json last. */
const FOLDER = 'drop/clinic-trigger/';
const MAPPING_KEY = `${FOLDER}.ferry-mapping/tiny.yaml`;

describe('migrate.asl.json trigger input', () => {
  let sandbox: RunningSandbox;
  let runtime: LocalRuntime;
  /** The `folder` of every input the Inventory task received, in order. */
  const inventoryFolders: unknown[] = [];

  beforeAll(async () => {
    sandbox = await startSandbox({ rateShort: null, rateLong: null });
    // The real Inventory task, observed: the test checks what the ASL hands it, not a stand-in.
    const tasks: TaskEntry[] = taskRegistry.map((task) =>
      task.stateName === 'Inventory'
        ? {
            ...task,
            run: (input, deps) => {
              inventoryFolders.push((input as { folder?: unknown }).folder);
              return task.run(input, deps);
            },
          }
        : task,
    );
    runtime = await startLocalRuntime({
      inMemory: true,
      retryIntervalMs: 0,
      tasks,
      twenty: { url: sandbox.url, apiKey: sandbox.apiKey, rate: '1000/1s+60000/60s' },
    });
    for (const file of ['patients.csv', 'appointments.csv']) {
      await runtime.deps.drop.put(`${FOLDER}${file}`, await readFile(join(tiny, file)), 'text/csv');
    }
    await runtime.deps.drop.put(MAPPING_KEY, tinyMapping, 'application/yaml');
    await runtime.deps.drop.put(
      `${FOLDER}ferry.json`,
      JSON.stringify({ options: { mappingKey: MAPPING_KEY } }),
      'application/json',
    );
  });
  afterAll(async () => {
    await runtime?.stop();
    await sandbox?.stop();
  });

  it('derives the folder from the drop trigger’s manifestKey and hands it to Inventory and FailRun', async () => {
    inventoryFolders.length = 0;
    const run = await runtime.startExecution(
      'migrate',
      { manifestKey: `${FOLDER}ferry.json` },
      { runId: 'wf-trigger-1', approver: unattendedApprover() },
    );
    expect(inventoryFolders).toEqual([FOLDER]);
    // Inventory planned the run (the plan gate was reached), then the unattended gate declined.
    expect(run.status).toBe('FAILED');
    expect(run.error?.name).toBe('ApprovalRequiredError');
    expect(entered(run.transitions)).toEqual([
      'CheckOptions',
      'FolderFromManifestKey',
      'UseManifestFolder',
      'CheckOptions',
      'DefaultChunkSize',
      'Inventory',
      'AwaitPlanApproval',
      'FailRun',
      'Failed',
    ]);
    expect(await runtime.deps.work.exists('runs/wf-trigger-1/plan.json')).toBe(true);
    const record = await runtime.deps.runStore?.getRun('wf-trigger-1');
    expect(record).toMatchObject({ status: 'failed', error: 'ApprovalRequiredError' });
    // FailRun released the lock of the derived folder, so the next drop can start a run.
    const lock = await runtime.deps.runStore?.acquireLock(FOLDER, 'wf-next', 1000);
    expect(lock?.runId).toBe('wf-next');
    await runtime.deps.runStore?.releaseLock(FOLDER, 'wf-next');
  });

  it('keeps an explicit folder (CLI start) even when a manifestKey is also given', async () => {
    inventoryFolders.length = 0;
    const run = await runtime.startExecution(
      'migrate',
      { folder: FOLDER, manifestKey: 'drop/elsewhere/ferry.json', options: { chunkSize: 5 } },
      { runId: 'wf-trigger-2', approver: unattendedApprover() },
    );
    expect(inventoryFolders).toEqual([FOLDER]);
    expect(run.error?.name).toBe('ApprovalRequiredError');
    expect(entered(run.transitions)).toEqual([
      'CheckOptions',
      'Inventory',
      'AwaitPlanApproval',
      'FailRun',
      'Failed',
    ]);
  });
});
