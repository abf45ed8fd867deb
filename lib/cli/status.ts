import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Command } from 'commander';
import { z } from 'zod';
import { DynamoRunStore } from '../../lambdas/adapters/dynamo-run-store.ts';
import { createS3Client, S3ObjectStore } from '../../lambdas/adapters/s3-object-store.ts';
import { ConfigError } from '../../lambdas/core/errors.ts';
import {
  ALL_RUNS_PREFIX,
  isSummaryKey,
  planKeyFor,
  readArtifact,
  readArtifactIfPresent,
  summaryKey,
} from '../../lambdas/core/run-layout.ts';
import type { ObjectStore } from '../../lambdas/ports/object-store.ts';
import type { RunRecord, RunStore } from '../../lambdas/ports/run-store.ts';
import {
  type ExecutionSummary,
  ExecutionSummarySchema,
  type LocalRuntimeOptions,
  withLocalRuntime,
} from '../local/runtime.ts';
import { stateDirHolder } from '../local/state-dir-lock.ts';
import { cliLog, type GlobalOptions, integerOption, print, printJson } from './common.ts';
import { type PhaseProgress, phaseProgress, phaseTotals, progressLine } from './progress.ts';

interface StatusOptions {
  readonly json?: boolean;
  readonly stateDir: string;
  readonly limit?: number;
  /** Read the deployed stack's Runs table and work bucket instead of the local state dir. */
  readonly aws?: boolean;
  readonly runsTable?: string;
  readonly workBucket?: string;
}

/**
 * The deployed stack's Runs table and work bucket (`--aws`): the same views and per-phase progress as
 * locally, for a run in progress in Step Functions. AWS credentials and region come from the
 * environment as for any AWS CLI (`AWS_ENDPOINT_URL_DYNAMODB` / `AWS_ENDPOINT_URL_S3` are honoured).
 */
async function awsStatus(
  runId: string | undefined,
  options: StatusOptions,
): Promise<RunStatusView | RunStatusView[]> {
  const table = options.runsTable ?? process.env.FERRY_RUNS_TABLE;
  const bucket = options.workBucket ?? process.env.FERRY_WORK_BUCKET;
  if (!table || !bucket)
    throw new ConfigError(
      '--aws needs --runs-table and --work-bucket (or FERRY_RUNS_TABLE and FERRY_WORK_BUCKET)',
    );
  const dynamo = new DynamoDBClient({});
  const s3 = createS3Client(
    process.env.AWS_ENDPOINT_URL_S3 === undefined ? {} : { endpoint: process.env.AWS_ENDPOINT_URL_S3 },
  );
  try {
    const runs = new DynamoRunStore({ client: dynamo, tableName: table });
    const work = new S3ObjectStore(s3, bucket);
    if (runId === undefined) return (await runs.listRuns()).map(viewOfRun).slice(0, options.limit ?? 20);
    if (!RUN_ID.test(runId)) throw new ConfigError('a run id has 1-80 letters, digits, - or _');
    const record = await runs.getRun(runId);
    if (record === undefined) throw new ConfigError(`no run ${runId} in the Runs table ${table}`);
    const view = viewOfRun(record);
    return { ...view, ...(await loadProgressOf(work, view)) };
  } finally {
    dynamo.destroy();
    s3.destroy();
  }
}

/**
 * One run as `ferry status` shows it. The Runs table (the run store) is the source of truth, as in
 * AWS; a local execution summary stands in only for a run that never got a record (it failed before
 * Inventory created one, e.g. on a locked folder). Ids, stages and counts only: never a value.
 */
export interface RunStatusView {
  readonly runId: string;
  /** Where the view came from: the Runs table, or the local summary.json fallback. */
  readonly from: 'run-store' | 'summary';
  readonly status: string;
  readonly stage?: string;
  readonly folder?: string;
  readonly source?: string;
  readonly startedAt: string;
  readonly updatedAt?: string;
  readonly finishedAt?: string;
  readonly error?: string;
  readonly counters: Readonly<Record<string, number>>;
  /** Approval stages a run is waiting on (their tokens are never shown). */
  readonly awaiting?: readonly string[];
  /** One run only: per load phase, records done of the phase's total, requests, 429s, ticks. */
  readonly phases?: readonly PhaseProgress[];
  readonly limitPerMinute?: number;
  readonly batch?: number;
}

const RUN_ID = /^[A-Za-z0-9_-]{1,80}$/;

/** A run record as shown: task tokens reduced to the stage names they approve. */
export function viewOfRun(run: RunRecord): RunStatusView {
  const awaiting = Object.keys(run.taskTokens);
  return {
    runId: run.runId,
    from: 'run-store',
    status: run.status,
    ...(run.stage === undefined ? {} : { stage: run.stage }),
    folder: run.folder,
    source: run.source,
    startedAt: run.startedAt,
    updatedAt: run.updatedAt,
    ...(run.finishedAt === undefined ? {} : { finishedAt: run.finishedAt }),
    ...(run.error === undefined ? {} : { error: run.error }),
    counters: { ...run.counters },
    ...(run.status === 'awaiting-approval' && awaiting.length > 0 ? { awaiting } : {}),
  };
}

/** A local execution summary as shown, for a run the Runs table does not know. */
export function viewOfSummary(summary: ExecutionSummary): RunStatusView {
  const stage = summary.states.filter((s) => s !== 'Failed' && s !== 'FailRun').at(-1);
  return {
    runId: summary.runId,
    from: 'summary',
    status: summary.status === 'SUCCEEDED' ? 'succeeded' : 'failed',
    ...(stage === undefined ? {} : { stage }),
    startedAt: summary.startedAt,
    finishedAt: summary.finishedAt,
    ...(summary.error === undefined ? {} : { error: summary.error.name }),
    counters: {},
  };
}

/**
 * Every local execution summary (`runs/<runId>/summary.json`), most recent first. Run ids start
 * with their UTC start time, so key order is time order. Unreadable summaries are skipped.
 */
export async function listExecutions(work: ObjectStore): Promise<ExecutionSummary[]> {
  const summaries: ExecutionSummary[] = [];
  for await (const object of work.list(ALL_RUNS_PREFIX)) {
    if (!isSummaryKey(object.key)) continue;
    const parsed = ExecutionSummarySchema.safeParse(await readArtifact(work, object.key, z.unknown()));
    if (parsed.success) summaries.push(parsed.data);
  }
  return summaries.sort((a, b) => (a.startedAt < b.startedAt ? 1 : a.startedAt > b.startedAt ? -1 : 0));
}

/**
 * Recent runs, most recent first: every record of the Runs table, plus the summaries of executions
 * that have no record. At most `limit` (default 20).
 */
export async function listRunStatuses(
  runs: RunStore,
  work: ObjectStore,
  limit = 20,
): Promise<RunStatusView[]> {
  const records = await runs.listRuns();
  const known = new Set(records.map((run) => run.runId));
  const orphans = (await listExecutions(work)).filter((summary) => !known.has(summary.runId));
  return [...records.map(viewOfRun), ...orphans.map(viewOfSummary)]
    .sort((a, b) => b.startedAt.localeCompare(a.startedAt) || b.runId.localeCompare(a.runId))
    .slice(0, limit);
}

/** One run: its record, else its local summary, else undefined. */
export async function findRunStatus(
  runs: RunStore,
  work: ObjectStore,
  runId: string,
): Promise<RunStatusView | undefined> {
  if (!RUN_ID.test(runId)) throw new ConfigError('a run id has 1-80 letters, digits, - or _');
  const record = await runs.getRun(runId);
  if (record !== undefined) return viewOfRun(record);
  const saved = await readArtifactIfPresent(work, summaryKey(runId), z.unknown());
  if (saved === undefined) return undefined;
  const parsed = ExecutionSummarySchema.safeParse(saved);
  return parsed.success ? viewOfSummary(parsed.data) : undefined;
}

function countersText(counters: Readonly<Record<string, number>>): string {
  const entries = Object.entries(counters).sort(([a], [b]) => a.localeCompare(b));
  return entries.length === 0 ? '-' : entries.map(([name, value]) => `${name}=${value}`).join(' ');
}

/**
 * The runtime `ferry status` reads through: the embedded servers of the ferry process running in this
 * state dir right now (a run in progress in another terminal), else its own.
 */
function localStatusRuntime(stateDir: string, global: GlobalOptions): LocalRuntimeOptions {
  const holder = stateDirHolder(stateDir);
  const attach =
    holder?.s3Endpoint === undefined || holder.dynamoEndpoint === undefined
      ? undefined
      : { s3Endpoint: holder.s3Endpoint, dynamoEndpoint: holder.dynamoEndpoint };
  return { stateDir, log: cliLog(global), command: 'status', ...(attach === undefined ? {} : { attach }) };
}

/** `ferry status [runId]`: recent runs from the Runs table, or one run in detail. */
export async function statusCommand(
  runId: string | undefined,
  options: StatusOptions,
  global: GlobalOptions,
): Promise<void> {
  const found = options.aws
    ? await awsStatus(runId, options)
    : await withLocalRuntime(localStatusRuntime(options.stateDir, global), async (runtime) => {
        const { runStore, work } = runtime.deps;
        if (runId === undefined) return listRunStatuses(runStore, work, options.limit);
        const run = await findRunStatus(runStore, work, runId);
        if (run === undefined) {
          throw new ConfigError(
            `no run ${runId} in ${options.stateDir}: \`ferry status\` lists the runs there`,
          );
        }
        return { ...run, ...(await loadProgressOf(work, run)) };
      });
  if (options.json) {
    printJson(found);
    return;
  }
  if (Array.isArray(found)) {
    if (found.length === 0) {
      print(`No runs in ${options.stateDir} yet: \`ferry run <dir>\` starts one.`);
      return;
    }
    print(
      `${'RUN'.padEnd(24)} ${'STATUS'.padEnd(17)} ${'STAGE'.padEnd(16)} ${'STARTED'.padEnd(24)} COUNTERS`,
    );
    for (const run of found) {
      print(
        `${run.runId.padEnd(24)} ${run.status.padEnd(17)} ${(run.stage ?? '-').padEnd(16)} ` +
          `${run.startedAt.padEnd(24)} ${countersText(run.counters)}`,
      );
    }
    return;
  }
  print(`Run ${found.runId}: ${found.status}${found.from === 'summary' ? ' (from the local summary)' : ''}`);
  if (found.folder !== undefined) print(`  folder    ${found.folder}`);
  if (found.source !== undefined) print(`  source    ${found.source}`);
  print(`  stage     ${found.stage ?? '-'}`);
  print(`  started   ${found.startedAt}`);
  if (found.updatedAt !== undefined) print(`  updated   ${found.updatedAt}`);
  if (found.finishedAt !== undefined) print(`  finished  ${found.finishedAt}`);
  if (found.awaiting !== undefined)
    print(`  awaiting  ${found.awaiting.join(', ')} approval (\`ferry approve ${found.runId}\`)`);
  if (found.error !== undefined) print(`  error     ${found.error}`);
  if (found.phases !== undefined && found.phases.length > 0) {
    print('  load');
    for (const p of found.phases)
      print(
        `    ${progressLine(p, {}, found.limitPerMinute ?? 0, found.batch ?? 200, true)}  (${p.requests} requests, ${p.ticks} ticks)`,
      );
  }
  for (const [name, value] of Object.entries(found.counters).sort(([a], [b]) => a.localeCompare(b)))
    print(`  ${name.padEnd(9)} ${value}`);
}

/**
 * A run's per-phase load progress, as `ferry run` shows it: the phases' records done of their totals
 * (load manifests), requests, 429s and ticks from the run record's counters, and the ETA bound from the
 * plan's rate. Works for a run in progress in another terminal (the state dir is shared).
 */
async function loadProgressOf(
  work: ObjectStore,
  run: RunStatusView,
): Promise<{ phases?: PhaseProgress[]; limitPerMinute?: number; batch?: number }> {
  const totals = await phaseTotals(work, run.runId);
  const phases = phaseProgress(run.counters, totals);
  if (phases.length === 0) return {};
  const plan = ((await readArtifactIfPresent(work, planKeyFor(run.runId), z.unknown())) ?? {}) as {
    estimate?: { requestsPerMinute?: number; batchMax?: number };
  };
  return {
    phases,
    ...(plan.estimate?.requestsPerMinute === undefined
      ? {}
      : { limitPerMinute: plan.estimate.requestsPerMinute }),
    ...(plan.estimate?.batchMax === undefined ? {} : { batch: plan.estimate.batchMax }),
  };
}

/** Adds `ferry status` to the program. */
export function registerCommands(program: Command): void {
  program
    .command('status')
    .description(
      "list the state dir's recent runs (--aws: the deployed stack's), or show one with its per-phase progress",
    )
    .argument('[runId]', 'the run to show')
    .option('--json', 'print as JSON')
    .option('--limit <n>', 'most runs to list (1-1000, default 20)', integerOption('--limit', 1, 1000))
    .option('--state-dir <dir>', 'where local state persists', '.ferry')
    .option('--aws', "read the deployed stack's Runs table and work bucket (a run in Step Functions)")
    .option('--runs-table <name>', 'the Runs table, with --aws (env FERRY_RUNS_TABLE)')
    .option('--work-bucket <name>', 'the work bucket, with --aws (env FERRY_WORK_BUCKET)')
    .action(async (runId: string | undefined, options: StatusOptions, command: Command) => {
      await statusCommand(runId, options, command.optsWithGlobals<GlobalOptions>());
    });
}
