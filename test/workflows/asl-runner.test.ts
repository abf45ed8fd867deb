import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MemoryObjectStore } from '../../lambdas/adapters/memory-object-store.ts';
import { TransientError, ValidationError } from '../../lambdas/core/errors.ts';
import { MemoryLedger } from '../../lambdas/core/ledger/memory-ledger.ts';
import { MemoryRunStore } from '../../lambdas/core/ledger/memory-run-store.ts';
import { systemClock } from '../../lambdas/ports/clock.ts';
import { silentLog } from '../../lambdas/ports/log.ts';
import { awaitApproval } from '../../lambdas/tasks/await-approval/await-approval.ts';
import { AwaitApprovalInputSchema } from '../../lambdas/tasks/await-approval/schema.ts';
import type { TaskDeps } from '../../lambdas/tasks/deps.ts';
import { NO_TWENTY_TARGET } from '../../lambdas/tasks/deps.ts';
import { taskRunner } from '../../lambdas/tasks/handler-kit.ts';
import type { TaskEntry } from '../../lambdas/tasks/registry.ts';
import { ApprovalDeclinedError, type Approver, autoApprover } from '../../lib/local/approvals.ts';
import {
  type AslDefinition,
  loadDefinition,
  rewriteDistributedMaps,
} from '../../lib/local/asl-definition.ts';
import { runAsl } from '../../lib/local/asl-runner.ts';

const fixture = join(import.meta.dirname, '..', 'fixtures', 'asl', 'distributed-map.asl.json');

function entry(stateName: string, run: TaskEntry['run']): TaskEntry {
  return {
    stateName,
    functionId: stateName.toLowerCase(),
    handlerEntry: 'unused',
    access: {},
    timeoutSeconds: 30,
    memoryMb: 128,
    run,
  };
}

function harness(options: { failChunk?: number; transientOnce?: number } = {}) {
  const deps: TaskDeps = {
    drop: new MemoryObjectStore('ferry-drop'),
    work: new MemoryObjectStore('ferry-work'),
    clock: systemClock,
    log: silentLog,
    runStore: new MemoryRunStore(),
    ledger: new MemoryLedger(),
    twenty: NO_TWENTY_TARGET,
  };
  let active = 0;
  let peak = 0;
  const seenTransient = new Set<number>();
  const tasks: TaskEntry[] = [
    entry('Prepare', async (input) => {
      const { runId, count } = input as { runId: string; count: number };
      const manifestKey = `runs/${runId}/chunks/manifest-items.json`;
      const items = Array.from({ length: count }, (_, i) => ({
        key: `runs/${runId}/chunks/people/${i + 1}.ndjson`,
      }));
      await deps.work.put(manifestKey, JSON.stringify(items));
      return { runId, manifestKey };
    }),
    entry('LoadChunk', async (input) => {
      const { chunk } = input as { runId: string; chunk: { key: string } };
      const n = Number(/(\d+)\.ndjson$/.exec(chunk.key)?.[1]);
      active += 1;
      peak = Math.max(peak, active);
      await new Promise((resolve) => setTimeout(resolve, 15));
      active -= 1;
      if (n === options.failChunk) throw new ValidationError(`chunk ${n} breaks rule X`);
      if (n === options.transientOnce && !seenTransient.has(n)) {
        seenTransient.add(n);
        throw new TransientError('network blip');
      }
      return { key: chunk.key, loaded: 10 };
    }),
    entry('AwaitSampleApproval', taskRunner('AwaitSampleApproval', AwaitApprovalInputSchema, awaitApproval)),
  ];
  return { deps, tasks, peak: () => peak };
}

const run = (h: ReturnType<typeof harness>, count: number, approver: Approver = autoApprover('test')) =>
  runAsl({
    definition: loadDefinition(fixture),
    machineName: 'test',
    executionName: 'run-test-1',
    input: { count },
    tasks: h.tasks,
    deps: h.deps,
    approver,
    retryIntervalMs: 0,
  });

describe('runAsl', () => {
  it('runs an ItemReader Map as a listing Task plus inline Map, keeping MaxConcurrency and ResultPath', async () => {
    const h = harness({ transientOnce: 3 });
    const result = await run(h, 5);
    expect(result.status).toBe('SUCCEEDED');
    const output = result.output as {
      loaded: { key: string }[];
      manifestKey: string;
      approval: { stage: string };
    };
    expect(output.loaded.map((r) => r.key)).toEqual(
      [1, 2, 3, 4, 5].map((i) => `runs/run-test-1/chunks/people/${i}.ndjson`),
    );
    expect(Object.keys(output).sort()).toEqual(['approval', 'loaded', 'manifestKey', 'runId']);
    expect(output.approval.stage).toBe('sample');
    expect(h.peak()).toBeLessThanOrEqual(2);
    expect(h.peak()).toBe(2);
    const top = result.transitions
      .filter((t) => t.type === 'StateEntered' && t.index === undefined)
      .map((t) => t.state);
    expect(top).toEqual(['Prepare', 'LoadChunksItemReader', 'LoadChunks', 'AwaitSampleApproval', 'Done']);
    expect(result.transitions.filter((t) => t.type === 'MapIterationSucceeded')).toHaveLength(5);
    expect(result.transitions.some((t) => t.type === 'StateRetried' && t.state === 'LoadChunk')).toBe(true);
    // The gate's task recorded the approval request with the execution's token.
    const request = JSON.parse(await h.deps.work.getText('runs/run-test-1/approvals/sample.json'));
    expect(request).toMatchObject({
      runId: 'run-test-1',
      stage: 'sample',
      taskToken: 'local-approval:run-test-1',
    });
  });

  it('fails through the Catch with the error name when an iteration throws a terminal error', async () => {
    const h = harness({ failChunk: 2 });
    const result = await run(h, 3);
    expect(result.status).toBe('FAILED');
    expect(result.error?.name).toBe('ValidationError');
    expect(result.transitions.some((t) => t.type === 'StateCaught' && t.state === 'LoadChunks')).toBe(true);
  });

  it('fails with ApprovalDeclinedError when the operator declines the gate', async () => {
    const h = harness();
    const decline: Approver = async ({ stage }) => {
      throw new ApprovalDeclinedError(`the ${stage} was not approved`);
    };
    const result = await run(h, 1, decline);
    expect(result.status).toBe('FAILED');
    expect(result.error).toEqual({ name: 'ApprovalDeclinedError', cause: 'the sample was not approved' });
  });

  it('refuses a Task state that has no registry entry', async () => {
    const h = harness();
    await expect(
      runAsl({
        definition: loadDefinition(fixture),
        machineName: 'test',
        executionName: 'run-test-2',
        input: { count: 1 },
        tasks: h.tasks.filter((t) => t.stateName !== 'LoadChunk'),
        deps: h.deps,
        approver: autoApprover(),
      }),
    ).rejects.toThrow(/LoadChunk/);
  });
});

describe('rewriteDistributedMaps', () => {
  it('replaces the ItemReader with a listing Task that the previous state now points to', () => {
    const { definition, readers } = rewriteDistributedMaps(loadDefinition(fixture));
    expect(readers).toEqual([{ taskName: 'LoadChunksItemReader', mapName: 'LoadChunks' }]);
    expect(definition.States.Prepare?.Next).toBe('LoadChunksItemReader');
    expect(definition.States.LoadChunksItemReader).toMatchObject({
      Type: 'Task',
      ResultPath: '$.loaded',
      Next: 'LoadChunks',
    });
    const map = definition.States.LoadChunks as Record<string, unknown>;
    expect(map.ItemReader).toBeUndefined();
    expect(map.ItemsPath).toBe('$.loaded');
    expect(map.MaxConcurrency).toBe(2);
    expect((map.ItemProcessor as { ProcessorConfig: unknown }).ProcessorConfig).toEqual({ Mode: 'INLINE' });
  });

  it('keeps a null ResultPath: the listed items go to a local-only key and the Map returns its input', async () => {
    const definition = loadDefinition(fixture) as AslDefinition;
    (definition.States.LoadChunks as Record<string, unknown>).ResultPath = null;
    const { definition: rewritten } = rewriteDistributedMaps(definition);
    expect(rewritten.States.LoadChunksItemReader).toMatchObject({ ResultPath: '$.ferryLocalItems' });
    expect(rewritten.States.LoadChunks).toMatchObject({ ItemsPath: '$.ferryLocalItems', ResultPath: null });
    const h = harness();
    const result = await runAsl({
      definition,
      machineName: 'test',
      executionName: 'run-test-3',
      input: { count: 2 },
      tasks: h.tasks,
      deps: h.deps,
      approver: autoApprover(),
      retryIntervalMs: 0,
    });
    expect(result.status).toBe('SUCCEEDED');
    expect(Object.keys(result.output as object)).not.toContain('loaded');
  });
});
