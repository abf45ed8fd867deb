import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline/promises';
import type { Readable, Writable } from 'node:stream';
import { AppError } from '../../lambdas/core/errors.ts';
import type { ApprovalDecision, ApprovalStage } from '../../lambdas/tasks/await-approval/schema.ts';

/** What a local `.waitForTaskToken` gate asks the operator. */
export interface ApprovalPrompt {
  readonly runId: string;
  readonly stage: ApprovalStage;
  readonly stateName: string;
}

/**
 * The in-process stand-in for SendTaskSuccess/SendTaskFailure: resolves with the decision that
 * becomes the gate state's output, or throws an error whose name the ASL Catch matches.
 */
export type Approver = (prompt: ApprovalPrompt) => Promise<ApprovalDecision>;

/** The operator answered no (SendTaskFailure in AWS). */
export class ApprovalDeclinedError extends AppError {}

/** Nobody can answer: no terminal and no `--yes`. */
export class ApprovalRequiredError extends AppError {}

function operatorName(): string {
  try {
    return `local:${userInfo().username}`;
  } catch {
    return 'local:operator';
  }
}

function decision(stage: ApprovalStage, approvedBy: string): ApprovalDecision {
  return { approved: true, stage, approvedBy, approvedAt: new Date().toISOString() };
}

/** Approves every gate: `ferry run --yes` and tests. */
export function autoApprover(approvedBy = 'ferry --yes'): Approver {
  return async ({ stage }) => decision(stage, approvedBy);
}

/** Asks on a terminal: "Approve plan for run X? [y/N]"; anything but y/yes declines. */
export function promptApprover(input: Readable, output: Writable): Approver {
  return async ({ runId, stage }) => {
    const rl = createInterface({ input, output, terminal: false });
    try {
      const answer = (await rl.question(`Approve ${stage} for run ${runId}? [y/N] `)).trim().toLowerCase();
      if (answer === 'y' || answer === 'yes') return decision(stage, operatorName());
      throw new ApprovalDeclinedError(`the ${stage} for run ${runId} was not approved`);
    } finally {
      rl.close();
    }
  };
}

/** Refuses clearly when there is no one to ask. */
export function unattendedApprover(): Approver {
  return async ({ runId, stage }) => {
    throw new ApprovalRequiredError(
      `the ${stage} for run ${runId} needs approval and there is no terminal to ask: re-run with --yes ` +
        'after reviewing the plan (`ferry plan <dir>`), or use `ferry approve` for an execution waiting in AWS',
    );
  };
}

/** The CLI's choice: `--yes` approves, a TTY prompts, anything else refuses with guidance. */
export function cliApprover(options: {
  yes: boolean;
  input?: Readable & { isTTY?: boolean };
  output?: Writable;
}): Approver {
  if (options.yes) return autoApprover();
  const input = options.input ?? process.stdin;
  if (input.isTTY) return promptApprover(input, options.output ?? process.stderr);
  return unattendedApprover();
}

/** Where `ferry approve` leaves a decision for a run waiting in another local process. */
export function approvalDecisionPath(stateDir: string, runId: string, stage: ApprovalStage): string {
  return join(stateDir, 'approvals', `${runId}.${stage}.json`);
}

/**
 * Writes the operator's decision for a local run waiting with {@link fileApprover}: the local
 * stand-in for SendTaskSuccess/SendTaskFailure between two processes sharing a state dir.
 */
export async function writeApprovalDecision(
  stateDir: string,
  runId: string,
  stage: ApprovalStage,
  approved: boolean,
  by: string = operatorName(),
): Promise<string> {
  const path = approvalDecisionPath(stateDir, runId, stage);
  await mkdir(dirname(path), { recursive: true });
  const body = approved ? decision(stage, by) : { approved: false, stage, approvedBy: by };
  await writeFile(`${path}.tmp`, JSON.stringify(body, null, 2));
  await rename(`${path}.tmp`, path);
  return path;
}

/**
 * Waits for `ferry approve <runId>` from another terminal: polls the decision file the command
 * writes under the state dir, tells the operator what to run, and gives up after `timeoutMs`
 * (ApprovalRequiredError). A declined decision throws ApprovalDeclinedError.
 */
export function fileApprover(
  stateDir: string,
  options: { pollMs?: number; timeoutMs?: number; notify?: (line: string) => void } = {},
): Approver {
  const pollMs = options.pollMs ?? 500;
  const timeoutMs = options.timeoutMs ?? 24 * 60 * 60 * 1000;
  return async ({ runId, stage }) => {
    const path = approvalDecisionPath(stateDir, runId, stage);
    options.notify?.(
      `Run ${runId} waits for ${stage} approval: review it, then run \`ferry approve ${runId} --stage ${stage}\``,
    );
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      try {
        const parsed = JSON.parse(await readFile(path, 'utf8')) as {
          approved?: unknown;
          approvedBy?: unknown;
        };
        await rm(path, { force: true });
        if (parsed.approved !== true)
          throw new ApprovalDeclinedError(`the ${stage} for run ${runId} was not approved`);
        return decision(stage, typeof parsed.approvedBy === 'string' ? parsed.approvedBy : operatorName());
      } catch (error) {
        if (error instanceof ApprovalDeclinedError) throw error;
      }
      await new Promise((r) => setTimeout(r, pollMs));
    }
    throw new ApprovalRequiredError(`the ${stage} for run ${runId} was not approved in time`);
  };
}
