import { resolve } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import type { Command } from 'commander';
import { DynamoRunStore } from '../../lambdas/adapters/dynamo-run-store.ts';
import { ConfigError, NotFoundError } from '../../lambdas/core/errors.ts';
import type { RunStore } from '../../lambdas/ports/run-store.ts';
import { type ApprovalStage, ApprovalStageSchema } from '../../lambdas/tasks/await-approval/schema.ts';
import { writeApprovalDecision } from '../local/approvals.ts';
import { type GlobalOptions, print } from './common.ts';

interface ApproveOptions {
  readonly stage: string;
  readonly decline?: boolean;
  readonly aws?: boolean;
  readonly runsTable?: string;
  readonly stateDir: string;
}

/** Sends the decision to a waiting AWS execution; the port keeps it testable without AWS. */
export type TaskResultSender = (
  token: string,
  decision: { approved: boolean; stage: ApprovalStage; by: string },
) => Promise<void>;

/** SendTaskSuccess carries the decision (the gate state's output); SendTaskFailure the refusal. */
export function sfnSender(client: SFNClient = new SFNClient({})): TaskResultSender {
  return async (token, { approved, stage, by }) => {
    if (approved) {
      const output = { approved: true, stage, approvedBy: by, approvedAt: new Date().toISOString() };
      await client.send(new SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify(output) }));
    } else {
      await client.send(
        new SendTaskFailureCommand({
          taskToken: token,
          error: 'ApprovalDeclinedError',
          cause: `the ${stage} was not approved`,
        }),
      );
    }
  };
}

/**
 * Approves (or declines) a run waiting in AWS: the gate's task token is read from the run record
 * (AwaitApproval stored it) and sent with SendTaskSuccess / SendTaskFailure. The token is never printed.
 */
export async function approveInAws(
  runs: RunStore,
  send: TaskResultSender,
  runId: string,
  stage: ApprovalStage,
  approved: boolean,
  by: string,
): Promise<void> {
  const run = await runs.getRun(runId);
  if (!run) throw new NotFoundError(`run ${runId} does not exist in the Runs table`);
  const token = run.taskTokens[stage];
  if (token === undefined || run.status !== 'awaiting-approval')
    throw new ConfigError(`run ${runId} is not waiting for ${stage} approval (status ${run.status})`);
  await send(token, { approved, stage, by });
}

/** `ferry approve <runId> [--stage plan] [--decline] [--aws]`. */
export async function approveCommand(
  runId: string,
  options: ApproveOptions,
  _global: GlobalOptions,
): Promise<void> {
  if (!/^[A-Za-z0-9_-]{1,80}$/.test(runId))
    throw new ConfigError('a run id has 1-80 letters, digits, - or _');
  const stage = ApprovalStageSchema.safeParse(options.stage);
  if (!stage.success) throw new ConfigError('--stage must be plan or sample');
  const approved = options.decline !== true;
  const by = `cli:${process.env.USER ?? 'operator'}`;
  if (options.aws) {
    const table = options.runsTable ?? process.env.FERRY_RUNS_TABLE;
    if (!table) throw new ConfigError('--aws needs --runs-table or FERRY_RUNS_TABLE');
    const dynamo = new DynamoDBClient({});
    try {
      await approveInAws(
        new DynamoRunStore({ client: dynamo, tableName: table }),
        sfnSender(),
        runId,
        stage.data,
        approved,
        by,
      );
    } finally {
      dynamo.destroy();
    }
    print(`${approved ? 'Approved' : 'Declined'} the ${stage.data} of run ${runId} in AWS.`);
    return;
  }
  const path = await writeApprovalDecision(resolve(options.stateDir), runId, stage.data, approved, by);
  print(`${approved ? 'Approved' : 'Declined'} the ${stage.data} of run ${runId} (decision at ${path}).`);
}

/** Adds `ferry approve` to the program. */
export function registerApproveCommand(program: Command): void {
  program
    .command('approve')
    .description('approve a run waiting at a gate (local: `ferry run --wait-for-approval`; AWS: --aws)')
    .argument('<runId>', 'the waiting run')
    .option(
      '--stage <stage>',
      'the approval gate: plan (the mapping and schema changes) or sample (the sample diff, before the full load)',
      'plan',
    )
    .option('--decline', 'refuse instead of approving')
    .option(
      '--aws',
      'send the decision to the Step Functions execution (SendTaskSuccess; SendTaskFailure with --decline)',
    )
    .option('--runs-table <name>', 'Runs table with the task token (env FERRY_RUNS_TABLE)')
    .option('--state-dir <dir>', 'where local state persists', '.ferry')
    .action(async (runId: string, options: ApproveOptions, command: Command) => {
      await approveCommand(runId, options, command.optsWithGlobals<GlobalOptions>());
    });
}
