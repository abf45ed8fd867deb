import { resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { ConfigError } from '../../lambdas/core/errors.ts';
import { parseRate } from '../../lambdas/core/rate-limit/rate-spec.ts';
import {
  ROLLBACK_DEADLINE_MARGIN_MS,
  ROLLBACK_TIMEOUT_SECONDS,
  type RollbackOutput,
  RollbackOutputSchema,
} from '../../lambdas/tasks/rollback/schema.ts';
import { cliApprover } from '../local/approvals.ts';
import { withLocalRuntime } from '../local/runtime.ts';
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
import { startTwentyTarget } from './run.ts';

export interface RollbackOptions {
  readonly stateDir: string;
  readonly json?: boolean;
  readonly yes?: boolean;
  readonly twentyUrl?: string;
  readonly apiKey?: string;
  readonly flavor?: 'v1' | 'v2';
  /** The rate the workspace accepts (preset or N/<duration>), as for `ferry run`. */
  readonly rate?: string;
  /** Also remove the custom objects/fields the run and its deltas created (refused when they hold others' data). */
  readonly schema?: boolean;
  /** How long one Rollback tick works before it hands back a continuation (the runtime's tick budget). */
  readonly tickSeconds?: number;
}

/** The longest tick Rollback takes: its function's timeout minus the margin it keeps (810 s). */
const MAX_TICK_SECONDS = ROLLBACK_TIMEOUT_SECONDS - ROLLBACK_DEADLINE_MARGIN_MS / 1000;

/** Rollback destroys records: without --yes an operator types the run id (a pipe must pass --yes). */
async function confirm(runId: string, options: RollbackOptions): Promise<void> {
  if (options.yes === true) return;
  if (!process.stdin.isTTY) throw new ConfigError('ferry rollback deletes records: pass --yes to confirm');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`Type the run id to roll back ${runId}: `);
    if (answer.trim() !== runId) throw new ConfigError('rollback not confirmed (the run id did not match)');
  } finally {
    rl.close();
  }
}

/**
 * `ferry rollback <runId>`: runs the rollback state machine locally against the same Twenty the run
 * wrote to (the built-in sandbox persisted under the state dir, or --twenty-url), prints the counts.
 * Exit 1 when the rollback fails or its read-back finds a record not undone.
 */
export async function rollbackCommand(
  runId: string,
  options: RollbackOptions,
  global: GlobalOptions,
): Promise<RollbackOutput | undefined> {
  await confirm(runId, options);
  const stateDir = resolve(options.stateDir);
  const lease = acquireStateDir(stateDir, { command: 'rollback', runId });
  lease.update({ runId });
  let sandbox: Awaited<ReturnType<typeof startTwentyTarget>>['sandbox'];
  try {
    const started = await startTwentyTarget({ ...options, stateDir });
    sandbox = started.sandbox;
    const { target, explicit } = started;
    const execution = await withLocalRuntime(
      {
        stateDir,
        log: cliLog(global),
        twenty: target,
        lease,
        ...(options.tickSeconds === undefined ? {} : { tickBudgetMs: options.tickSeconds * 1000 }),
      },
      (runtime) =>
        runtime.startExecution(
          'rollback',
          { runId, ...(options.schema === true ? { removeSchema: true } : {}) },
          { approver: cliApprover({ yes: true }) },
        ),
    );
    const parsed = RollbackOutputSchema.safeParse(execution.output);
    const output = parsed.success ? parsed.data : undefined;
    if (options.json) {
      printJson({
        runId,
        status: execution.status,
        twenty: explicit ? explicit.url : 'built-in sandbox',
        rollback: output ?? null,
        error: execution.error ?? null,
      });
    } else {
      print(`Ferry rollback of ${runId}: ${output?.status ?? execution.status}`);
      if (output && output.runs > 1)
        print(`  runs       ${runId} and its ${count(output.runs - 1)} delta(s)`);
      if (output) {
        print(
          `  destroyed ${count(output.destroyed)}, restored ${count(output.restored)}, ` +
            `already gone ${count(output.alreadyGone)}, already undone ${count(output.skipped)}`,
        );
        if (output.undeleted + output.recreated > 0) {
          print(
            `  of the restored: ${count(output.undeleted)} undeleted, ${count(output.recreated)} recreated ` +
              '(deleted in Twenty since the run)',
          );
        }
        if (options.schema === true)
          print(`  schema     ${count(output.schemaRemoved)} custom item(s) removed`);
        print(`  requests   ${count(output.requests)} in ${count(output.ticks)} tick(s)`);
        print(`  read-back  ${output.verified ? 'verified' : `${count(output.problems)} problems`}`);
        print(`  report     ${output.reportKey}`);
      }
    }
    if (execution.status !== 'SUCCEEDED') {
      const cause = execution.error?.cause;
      throw new PipelineFailedError(
        `rollback of ${runId} failed with ${execution.error?.name ?? 'an error'}${cause ? `: ${cause}` : ''}; re-run it to resume`,
      );
    }
    if (output?.status !== 'rolled-back') {
      throw new PipelineFailedError(`rollback of ${runId} left records not undone (see rollback.json)`);
    }
    return output;
  } finally {
    await sandbox?.stop();
    lease.release();
  }
}

/** Adds `ferry rollback` to the program. */
export function registerCommands(program: Command): void {
  program
    .command('rollback')
    .description(
      'undo a run and its deltas: delete the records they created, restore the ones they updated or deleted, verify',
    )
    .argument('<runId>', 'the run to roll back (see `ferry status`)')
    .option('-y, --yes', 'do not ask for confirmation')
    .option(
      '--schema',
      'also remove the custom objects and fields the run and its deltas created (refused, naming them, when they hold data Ferry did not write)',
    )
    .option('--json', 'print the result as JSON')
    .option('--state-dir <dir>', 'where local state persists (S3 objects, DynamoDB, sandbox)', '.ferry')
    .option('--twenty-url <url>', 'the Twenty workspace the run wrote to (env TWENTY_URL)')
    .option('--api-key <key>', 'API key for --twenty-url (env TWENTY_API_KEY)')
    .option(
      '--rate <rate>',
      'rate preset (cloud, pro, org, self-hosted) or N/<duration> (default: cloud with --twenty-url; 1000/1s+60000/60s against the built-in sandbox)',
      (v: string) => {
        parseRate(v, '--rate');
        return v;
      },
    )
    .option(
      '--tick-seconds <s>',
      `how long one rollback tick works before it saves its cursor and hands back a continuation (1-${MAX_TICK_SECONDS}; default 30, Lambda: its remaining time)`,
      integerOption('--tick-seconds', 1, MAX_TICK_SECONDS),
    )
    .option('--flavor <v1|v2>', 'built-in sandbox flavor the run used', flavorOption)
    .action(async (runId: string, options: RollbackOptions, command: Command) => {
      await rollbackCommand(runId, options, command.optsWithGlobals<GlobalOptions>());
    });
}
