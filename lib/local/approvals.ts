import { userInfo } from 'node:os';
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
