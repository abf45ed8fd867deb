import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { localTableNames } from '../../lambdas/adapters/dynamo-tables.ts';
import { S3ObjectStore } from '../../lambdas/adapters/s3-object-store.ts';
import type { SharedBucketGate } from '../../lambdas/core/rate-limit/shared-bucket-gate.ts';
import {
  executionInputKey,
  readArtifactIfPresent,
  runCheckpointPrefix,
  summaryKey,
} from '../../lambdas/core/run-layout.ts';
import { systemClock } from '../../lambdas/ports/clock.ts';
import { type Log, silentLog } from '../../lambdas/ports/log.ts';
import type { TwentyApi } from '../../lambdas/ports/twenty.ts';
import { createDynamoPorts } from '../../lambdas/runtime/dynamo-ports.ts';
import { NO_TWENTY_TARGET, type TaskDeps } from '../../lambdas/tasks/deps.ts';
import { type TaskEntry, taskRegistry } from '../../lambdas/tasks/registry.ts';
import { TwentyClient } from '../../lambdas/twenty/client.ts';
import type { Approver } from './approvals.ts';
import { loadDefinition, type MachineName, machinePath } from './asl-definition.ts';
import { type ExecutionResult, runAsl, type StateTransition } from './asl-runner.ts';
import { type EmbeddedDynamo, localDynamoClient, startEmbeddedDynamo } from './embedded-dynamodb.ts';
import { type EmbeddedS3, localBucketNames, localS3Client, startEmbeddedS3 } from './embedded-s3.ts';
import { acquireStateDir, type StateDirLease } from './state-dir-lock.ts';

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
  /** Time box of one invocation of a time-boxed task (LoadChunk) in ms; default the runner's 30 s. */
  readonly tickBudgetMs?: number;
  /** The Twenty workspace the run writes to; absent = stages that need Twenty fail with a ConfigError. */
  readonly twenty?: LocalTwentyTarget;
  /**
   * The caller's hold on the state dir (taken before it started anything else under it, e.g. the
   * built-in sandbox); absent = the runtime takes one itself for `command` and releases it on stop.
   */
  readonly lease?: StateDirLease;
  /** The command taking the state dir, for the message another process gets (default `command`). */
  readonly command?: string;
  /**
   * Use the embedded servers another ferry process holds for this state dir instead of starting any
   * (a short read such as `ferry status` while a run is in progress); nothing is started or locked.
   */
  readonly attach?: { readonly s3Endpoint: string; readonly dynamoEndpoint: string };
}

/** Where and how fast the local runtime talks to Twenty (the CLI's --twenty-url/--api-key/--rate/--batch-max). */
export interface LocalTwentyTarget {
  readonly url: string;
  readonly apiKey: string;
  /** A rate preset or `N/<duration>` spec for the shared DynamoDB token bucket (default `cloud`). */
  readonly rate?: string;
  /** Upper bound on records per batch request (default: the workspace's cap, starting at 200). */
  readonly batchMax?: number;
}

/**
 * The rate the local runtime uses against the built-in sandbox: far above any real Twenty (the
 * sandbox is unlimited by default) but still a real bucket, so the local run exercises the same
 * token path as AWS. Two windows, like Twenty's own short/long limits.
 */
export const SANDBOX_RATE = '1000/1s+60000/60s';

/**
 * `TaskDeps.twenty` for a target: one token bucket per process (all concurrent loaders share it,
 * and through DynamoDB with every other process), a fresh client per call so each stage reads
 * the workspace's metadata as it is now (ApplySchema changes it mid-run).
 */
export function twentyFactory(
  target: LocalTwentyTarget,
  gate: () => SharedBucketGate,
  log: Log,
): () => Promise<TwentyApi> {
  return async () =>
    new TwentyClient({
      baseUrl: target.url,
      apiKey: target.apiKey,
      limiter: gate(),
      log,
      ...(target.batchMax === undefined ? {} : { batchMax: target.batchMax }),
    });
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
    options: {
      runId?: string;
      approver: Approver;
      /** Continue an interrupted execution of this runId: completed top-level stages are not run again. */
      resume?: boolean;
      /** Each state transition as it happens (names and types only), e.g. for a progress display. */
      onTransition?: (transition: StateTransition) => void;
    },
  ): Promise<LocalExecution>;
  /** Stops every server this runtime started; idempotent. */
  stop(): Promise<void>;
}

// The key lives in run-layout.ts; this name stays here for the tests.
export { summaryKey };

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

  let s3: Pick<EmbeddedS3, 'endpoint'>;
  let dynamo: EmbeddedDynamo;
  try {
    if (options.attach !== undefined) {
      s3 = { endpoint: options.attach.s3Endpoint };
      dynamo = attachedDynamo(options.attach.dynamoEndpoint);
      stoppers.push(() => dynamo.stop());
    } else {
      // One process at a time owns the state dir's files (LevelDB, s3rver, the sandbox's SQLite).
      let lease = options.lease;
      if (lease === undefined && stateDir !== undefined) {
        const own = acquireStateDir(stateDir, { command: options.command ?? 'command' });
        stoppers.push(async () => own.release());
        lease = own;
      }
      const startedS3 = await startEmbeddedS3(stateDir === undefined ? {} : { dir: join(stateDir, 's3') });
      s3 = startedS3;
      stoppers.push(() => startedS3.stop());
      dynamo = await startEmbeddedDynamo(stateDir === undefined ? {} : { dir: join(stateDir, 'dynamodb') });
      stoppers.push(() => dynamo.stop());
      lease?.update({ s3Endpoint: s3.endpoint, dynamoEndpoint: dynamo.endpoint });
    }
  } catch (error) {
    await stop();
    throw error;
  }
  const client = localS3Client(s3.endpoint);
  stoppers.push(async () => client.destroy());
  const work = new S3ObjectStore(client, localBucketNames.work);
  const ports = createDynamoPorts({
    client: dynamo.client,
    tables: {
      runs: dynamo.tableNames.Runs,
      ledger: dynamo.tableNames.Ledger,
      rateLimit: dynamo.tableNames.RateLimit,
    },
    work,
    log,
  });
  const target = options.twenty;
  let gate: SharedBucketGate | undefined;
  const deps: TaskDeps = {
    drop: new S3ObjectStore(client, localBucketNames.drop),
    work,
    clock: systemClock,
    log,
    runStore: ports.runStore,
    ledger: ports.ledger,
    twenty:
      target === undefined
        ? NO_TWENTY_TARGET
        : twentyFactory(
            target,
            () => {
              gate ??= ports.rateLimiter(target.url, target.rate ?? 'cloud');
              return gate;
            },
            log,
          ),
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
      // The execution input is kept with the checkpoints: a resumed run continues with its own input.
      const inputKey = executionInputKey(runId);
      const saved =
        run.resume === true ? await readArtifactIfPresent(deps.work, inputKey, z.unknown()) : undefined;
      let executionInput = input;
      if (saved !== undefined) {
        executionInput = saved;
      } else {
        await deps.work.put(inputKey, JSON.stringify(input ?? null), 'application/json');
      }
      const result = await runAsl({
        definition: loadDefinition(machinePath(machine)),
        machineName: machine,
        executionName: runId,
        input: executionInput,
        tasks,
        deps,
        approver: run.approver,
        ...(options.retryIntervalMs === undefined ? {} : { retryIntervalMs: options.retryIntervalMs }),
        ...(options.tickBudgetMs === undefined ? {} : { tickBudgetMs: options.tickBudgetMs }),
        checkpoints: { store: deps.work, prefix: runCheckpointPrefix(runId), resume: run.resume === true },
        ...(run.onTransition === undefined ? {} : { onTransition: run.onTransition }),
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

/** A client on another process's embedded DynamoDB: stopping it closes only the client. */
function attachedDynamo(endpoint: string): EmbeddedDynamo {
  const client = localDynamoClient(endpoint);
  return {
    endpoint,
    client,
    tableNames: { ...localTableNames },
    stop: async () => client.destroy(),
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
