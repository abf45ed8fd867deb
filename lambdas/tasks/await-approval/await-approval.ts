import type { TaskDeps } from '../deps.ts';
import type { ApprovalRequest, ApprovalStage, AwaitApprovalInput, AwaitApprovalOutput } from './schema.ts';

/** Where the pending approval of one gate is recorded in the work bucket. */
export function approvalRequestKey(runId: string, stage: ApprovalStage): string {
  return `runs/${runId}/approvals/${stage}.json`;
}

/**
 * Records that a run waits at an approval gate, with the task token `ferry approve` (or the console)
 * needs to resume it. The token goes to the work bucket (KMS-encrypted, run-scoped) because the run
 * store port is not there yet; it moves to the Runs record (`recordTaskToken`) when it lands. The
 * token is never logged: it is a capability to resume the execution.
 */
export async function awaitApproval(input: AwaitApprovalInput, deps: TaskDeps): Promise<AwaitApprovalOutput> {
  const requestKey = approvalRequestKey(input.runId, input.stage);
  const request: ApprovalRequest = {
    runId: input.runId,
    stage: input.stage,
    taskToken: input.taskToken,
    requestedAt: new Date(deps.clock.now()).toISOString(),
  };
  await deps.work.put(requestKey, JSON.stringify(request, null, 2), 'application/json');
  deps.log.info('approval requested', { runId: input.runId, stage: input.stage });
  return { runId: input.runId, stage: input.stage, requestKey };
}
