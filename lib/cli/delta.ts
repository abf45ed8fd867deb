import { resolve } from 'node:path';
import type { Command } from 'commander';
import { resolveBaseRun } from '../../lambdas/core/delta/link.ts';
import { AppError, ConfigError } from '../../lambdas/core/errors.ts';
import { parseRate } from '../../lambdas/core/rate-limit/rate-spec.ts';
import type { Reconciliation } from '../../lambdas/core/reconcile/report.ts';
import type { ObjectStore } from '../../lambdas/ports/object-store.ts';
import type { RunRecord } from '../../lambdas/ports/run-store.ts';
import { cliApprover } from '../local/approvals.ts';
import { type LocalExecution, newRunId, withLocalRuntime } from '../local/runtime.ts';
import { acquireStateDir } from '../local/state-dir-lock.ts';
import {
  cliLog,
  count,
  flavorOption,
  type GlobalOptions,
  integerOption,
  PipelineFailedError,
  print,
  printJson,
} from './common.ts';
import { assertExportFolder, uploadExportFolder } from './drop-folder.ts';
import {
  exportReports,
  failureReasons,
  gated,
  type MigrateSummary,
  printPaths,
  printReconciliation,
  type RunOptions,
  readReconciliation,
  runProgress,
  sandboxMembersFor,
  startTwentyTarget,
} from './run.ts';

export interface DeltaOptions
  extends Pick<
    RunOptions,
    | 'yes'
    | 'json'
    | 'stateDir'
    | 'chunkSize'
    | 'twentyUrl'
    | 'apiKey'
    | 'rate'
    | 'batchMax'
    | 'flavor'
    | 'tickSeconds'
    | 'tolerance'
    | 'force'
    | 'fallbackOwner'
    | 'acceptPlan'
  > {
  /** The earlier run the delta follows (its ids, id map and ledger). */
  readonly run: string;
  /** Hard-delete records missing from the newer export that Ferry created (default: report them). */
  readonly propagateDeletes?: boolean;
}

/**
 * The drop folder of the next delta of a base run: `drop/<base folder>/delta-<n>/`, n one more than
 * the highest delta folder there (as an operator drops them in AWS).
 */
async function nextDeltaFolder(drop: ObjectStore, base: RunRecord): Promise<string> {
  let highest = 0;
  for await (const object of drop.list(`${base.folder}delta-`)) {
    const n = Number(/^delta-(\d+)\//.exec(object.key.slice(base.folder.length))?.[1] ?? 0);
    if (n > highest) highest = n;
  }
  return `${base.folder}delta-${highest + 1}/`;
}

/** One line per count: what the delta found against the base run. */
function printDelta(
  execution: LocalExecution,
  base: string,
  reconciliation: Reconciliation | undefined,
): void {
  print(`Ferry delta ${execution.runId} of run ${base}: ${execution.status}`);
  const d = reconciliation?.delta;
  if (d === undefined) return;
  print(
    `  new ${count(d.new)}, changed ${count(d.changed)}, unchanged ${count(d.unchanged)}, ` +
      `missing ${count(d.missing)}, conflicts ${count(d.conflicts)}`,
  );
  print(
    d.propagateDeletes
      ? `  missing records deleted ${count(d.deleted)} (Ferry created them), kept ${count(d.preexistingKept)} (pre-existing in Twenty)`
      : '  missing records are only reported (--propagate-deletes deletes those Ferry created)',
  );
}

/**
 * `ferry delta <dir> --run <runId>`: a newer export of the source an earlier run loaded, through the
 * delta state machine locally (the same definition as in AWS): uploaded as the base folder's next
 * `delta-<n>/`, tied to the base run (its source instance, so its ids and id map), loaded as new /
 * changed / unchanged with conflicts left alone unless --force, missing records reported (deleted
 * with --propagate-deletes when Ferry created them), reconciled. Exit 1 when it fails or does not
 * balance, 2 for a base run that is not there or not finished.
 */
export async function deltaCommand(dir: string, options: DeltaOptions, global: GlobalOptions): Promise<void> {
  if (options.rate !== undefined) parseRate(options.rate, '--rate');
  await assertExportFolder(dir);
  const stateDir = resolve(options.stateDir);
  // The state dir is held before anything starts under it (the built-in sandbox included).
  const lease = acquireStateDir(stateDir, { command: 'delta', runId: options.run });
  let sandbox: Awaited<ReturnType<typeof startTwentyTarget>>['sandbox'];
  try {
    const started = await startTwentyTarget(options, sandboxMembersFor(dir));
    sandbox = started.sandbox;
    const { target, explicit } = started;
    const outcome = await withLocalRuntime(
      {
        stateDir,
        log: cliLog(global),
        twenty: target,
        lease,
        ...(options.tickSeconds === undefined ? {} : { tickBudgetMs: options.tickSeconds * 1000 }),
      },
      async (runtime) => {
        const runs = runtime.deps.runStore;
        let base: RunRecord;
        try {
          base = await resolveBaseRun(runs, runtime.deps.work, 'drop/', options.run);
        } catch (error) {
          if (error instanceof AppError) throw new ConfigError(`--run: ${error.message}`, { cause: error });
          throw error;
        }
        const folder = await nextDeltaFolder(runtime.deps.drop, base);
        await uploadExportFolder(runtime.deps.drop, dir, folder);
        const runId = newRunId();
        const progress = runProgress(options, runtime.deps, runId, target);
        let execution: LocalExecution;
        try {
          execution = await runtime.startExecution(
            'delta',
            {
              folder,
              options: {
                chunkSize: options.chunkSize,
                rate: target.rate,
                tolerance: options.tolerance ?? 0,
                baseRunId: base.runId,
                ...(options.force === true ? { force: true } : {}),
                ...(options.propagateDeletes === true ? { propagateDeletes: true } : {}),
                ...(target.batchMax === undefined ? {} : { batchMax: target.batchMax }),
                ...(options.fallbackOwner === undefined ? {} : { fallbackOwnerEmail: options.fallbackOwner }),
              },
            },
            {
              runId,
              ...(progress === undefined ? {} : { onTransition: progress.onTransition }),
              approver: gated(cliApprover({ yes: options.yes === true }), runtime.deps.work, options),
            },
          );
        } finally {
          await progress?.stop();
        }
        const reconciliation = await readReconciliation(runtime.deps.work, execution.runId);
        const summary = (execution.output ?? {}) as MigrateSummary;
        const paths = await exportReports(runtime.deps.work, stateDir, execution.runId, summary);
        return { base: base.runId, folder, execution, reconciliation, paths };
      },
    );
    const { execution, reconciliation, paths, base } = outcome;
    if (options.json) {
      printJson({
        runId: execution.runId,
        baseRunId: base,
        status: execution.status,
        folder: outcome.folder,
        twenty: explicit ? explicit.url : 'built-in sandbox',
        delta: reconciliation?.delta ?? null,
        reconciliation: reconciliation ?? null,
        paths,
        error: execution.error ?? null,
      });
    } else {
      printDelta(execution, base, reconciliation);
      if (reconciliation) printReconciliation(reconciliation);
      printPaths(paths);
    }
    if (execution.status !== 'SUCCEEDED') {
      throw new PipelineFailedError(
        `delta ${execution.runId} failed with ${execution.error?.name ?? 'an error'}: ${execution.error?.cause ?? 'no cause recorded'}`,
      );
    }
    if (reconciliation && reconciliation.status !== 'succeeded') {
      throw new PipelineFailedError(
        `delta ${execution.runId} failed reconciliation: ${failureReasons(reconciliation).join('; ')}`,
      );
    }
  } finally {
    await sandbox?.stop();
    lease.release();
  }
}

/** Adds `ferry delta` to the program. */
export function registerCommands(program: Command): void {
  program
    .command('delta')
    .description(
      'load a newer export of the source an earlier run loaded: new and changed records, conflicts left alone, missing ones reported',
    )
    .argument('<dir>', 'folder holding the newer export')
    .requiredOption('--run <runId>', 'the earlier run this export follows (see `ferry status`)')
    .option('-y, --yes', 'approve the plan without prompting')
    .option(
      '--propagate-deletes',
      'hard-delete records missing from this export that Ferry created (never pre-existing ones), before-images first, so a rollback brings them back',
    )
    .option(
      '--force',
      'overwrite (or delete) records edited or deleted in Twenty since Ferry last wrote them (default: report them as conflicts and leave them)',
    )
    .option('--json', 'print the result as JSON')
    .option('--state-dir <dir>', 'where local state persists (S3 objects, DynamoDB, sandbox)', '.ferry')
    .option(
      '--chunk-size <rows>',
      'rows per NDJSON chunk (1-20000)',
      integerOption('--chunk-size', 1, 20_000),
      5000,
    )
    .option('--twenty-url <url>', 'the Twenty workspace the run wrote to (env TWENTY_URL)')
    .option('--api-key <key>', 'API key for --twenty-url (env TWENTY_API_KEY)')
    .option(
      '--rate <rate>',
      'rate preset (cloud, pro, org, self-hosted) or N/<duration>, e.g. 600/60s (default: cloud with --twenty-url; 1000/1s+60000/60s against the built-in sandbox)',
    )
    .option(
      '--batch-max <n>',
      'upper bound on records per batch request (1-200)',
      integerOption('--batch-max', 1, 200),
    )
    .option('--accept-plan', 'load even when the plan lists critical fields to confirm (the plan gate)')
    .option(
      '--tick-seconds <s>',
      'how long one load tick works before it hands back a continuation (1-840; default 30)',
      integerOption('--tick-seconds', 1, 840),
    )
    .option('--fallback-owner <email>', 'workspace member owning records whose owner matches no member')
    .option(
      '--tolerance <n>',
      'mismatched fields allowed on read-back before the delta fails',
      integerOption('--tolerance', 0, 1_000_000_000),
      0,
    )
    .option('--flavor <v1|v2>', 'built-in sandbox flavor the run used', flavorOption)
    .action(async (dir: string, options: DeltaOptions, command: Command) => {
      await deltaCommand(dir, options, command.optsWithGlobals<GlobalOptions>());
    });
}
