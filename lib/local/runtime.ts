import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { DynamoRunStore } from '../../lambdas/adapters/dynamo-run-store.ts';
import { S3ObjectStore } from '../../lambdas/adapters/s3-object-store.ts';
import { systemClock } from '../../lambdas/ports/clock.ts';
import { type Log, silentLog } from '../../lambdas/ports/log.ts';
import type { TaskDeps } from '../../lambdas/tasks/deps.ts';
import { type TaskEntry, taskRegistry } from '../../lambdas/tasks/registry.ts';
import type { Approver } from './approvals.ts';
import { loadDefinition, type MachineName, machinePath } from './asl-definition.ts';
import { type ExecutionResult, runAsl } from './asl-runner.ts';
import { type EmbeddedDynamo, startEmbeddedDynamo } from './embedded-dynamodb.ts';
import { type EmbeddedS3, localBucketNames, localS3Client, startEmbeddedS3 } from './embedded-s3.ts';

export interface LocalRuntimeOptions {
  /** Where the embedded servers persist (`<stateDir>/s3`, `<stateDir>/dynamodb`); default `.ferry`. */
  readonly stateDir?: string;
  /** Keep nothing on disk (tests). */
  readonly inMemory?: boolean;
  readonly log?: Log;
  /** Defaults to the task registry; tests may pass their own entries. */
  readonly tasks?: readonly TaskEntry[];
  /** Overrides every ASL Retry pause (ms); absent = the ASL's own intervals. */
  readonly retryIntervalMs?: number;
}

/** The record of one local execution, stored at `runs/<runId>/summary.json` in the work bucket. */
export const ExecutionSummarySchema = z.object({
  runId: z.string(),
  machine: z.string(),
  status: z.enum(['SUCCEEDED', 'FAILED']),
  startedAt: z.string(),
  finishedAt: z.string(),
  output: z.unknown().optional(),
  error: z.object({ name: z.string(), cause: z.string() }).optional(),
  states: z.array(z.string()),
});
export type ExecutionSummary = z.infer<typeof ExecutionSummarySchema>;

export interface LocalExecution extends ExecutionResult {
  readonly runId: string;
  readonly machine: MachineName;
  readonly summaryKey: string;
  readonly startedAt: string;
  readonly finishedAt: string;
}

export interface LocalRuntime {
  readonly stateDir: string | undefined;
  readonly deps: TaskDeps;
  readonly s3Endpoint: string;
  readonly dynamo: EmbeddedDynamo;
  /** The local StartExecution: runs the workflow's ASL to completion through the task registry. */
  startExecution(
    machine: MachineName,
    input: unknown,
    options: { runId?: string; approver: Approver },
  ): Promise<LocalExecution>;
  /** Stops every server this runtime started; idempotent. */
  stop(): Promise<void>;
}

/** Key of a run's local execution summary. */
export function summaryKey(runId: string): string {
  return `runs/${runId}/summary.json`;
}

/**
 * A new run id, usable as a Step Functions execution name ([A-Za-z0-9-_], ≤ 80 chars), sortable by
 * time so listings come out in order.
 */
export function newRunId(now: number = Date.now()): string {
  const stamp = new Date(now).toISOString().replace(/[-:]/g, '').replace(/\..*$/, '');
  return `${stamp}-${randomBytes(3).toString('hex')}`;
}

/**
 * Starts the embedded S3 and DynamoDB servers (persisted under the state dir, so later commands see
 * the same runs), builds TaskDeps on them, and exposes StartExecution. Every server it started is
 * stopped by `stop()`, also on SIGINT/SIGTERM (the handlers are removed again on stop), and when
 * starting one of them fails.
 */
export async function startLocalRuntime(options: LocalRuntimeOptions = {}): Promise<LocalRuntime> {
  const stateDir = options.inMemory ? undefined : resolve(options.stateDir ?? '.ferry');
  const log = options.log ?? silentLog;
  const stoppers: (() => Promise<void>)[] = [];
  let stopped = false;

  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    const failures: unknown[] = [];
    for (const stopOne of stoppers.reverse()) {
      try {
        await stopOne();
      } catch (error) {
        failures.push(error);
      }
    }
    if (failures.length > 0) log.warn('a local server did not stop cleanly', { failures: failures.length });
  };
  function onSignal(signal: NodeJS.Signals): void {
    log.warn('stopping local servers', { signal });
    void stop().finally(() => process.kill(process.pid, signal));
  }
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  let s3: EmbeddedS3;
  let dynamo: EmbeddedDynamo;
  try {
    s3 = await startEmbeddedS3(stateDir === undefined ? {} : { dir: join(stateDir, 's3') });
    stoppers.push(() => s3.stop());
    dynamo = await startEmbeddedDynamo(stateDir === undefined ? {} : { dir: join(stateDir, 'dynamodb') });
    stoppers.push(() => dynamo.stop());
  } catch (error) {
    await stop();
    throw error;
  }
  const client = localS3Client(s3.endpoint);
  stoppers.push(async () => client.destroy());
  const deps: TaskDeps = {
    drop: new S3ObjectStore(client, localBucketNames.drop),
    work: new S3ObjectStore(client, localBucketNames.work),
    clock: systemClock,
    log,
    runStore: new DynamoRunStore({ client: dynamo.client, tableName: dynamo.tableNames.Runs }),
  };
  const tasks = options.tasks ?? taskRegistry;

  return {
    stateDir,
    deps,
    s3Endpoint: s3.endpoint,
    dynamo,
    stop,
    async startExecution(machine, input, run) {
      const runId = run.runId ?? newRunId();
      const startedAt = new Date().toISOString();
      log.info('execution started', { machine, runId });
      const result = await runAsl({
        definition: loadDefinition(machinePath(machine)),
        machineName: machine,
        executionName: runId,
        input,
        tasks,
        deps,
        approver: run.approver,
        ...(options.retryIntervalMs === undefined ? {} : { retryIntervalMs: options.retryIntervalMs }),
      });
      const finishedAt = new Date().toISOString();
      const summary: ExecutionSummary = {
        runId,
        machine,
        status: result.status,
        startedAt,
        finishedAt,
        ...(result.output === undefined ? {} : { output: result.output }),
        ...(result.error === undefined ? {} : { error: result.error }),
        states: result.transitions.filter((t) => t.type === 'StateEntered').map((t) => t.state ?? ''),
      };
      await deps.work.put(summaryKey(runId), JSON.stringify(summary, null, 2), 'application/json');
      log.info('execution finished', { machine, runId, status: result.status });
      return { ...result, runId, machine, summaryKey: summaryKey(runId), startedAt, finishedAt };
    },
  };
}

/** Runs `fn` with a local runtime and always stops it afterwards (success, error or signal). */
export async function withLocalRuntime<T>(
  options: LocalRuntimeOptions,
  fn: (runtime: LocalRuntime) => Promise<T>,
): Promise<T> {
  const runtime = await startLocalRuntime(options);
  try {
    return await fn(runtime);
  } finally {
    await runtime.stop();
  }
}
