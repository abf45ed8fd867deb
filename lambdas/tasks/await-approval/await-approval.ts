import { NotFoundError } from '../../core/errors.ts';
import { approvalRequestKey } from '../../core/run-layout.ts';
import type { TaskDeps } from '../deps.ts';
import type { ApprovalRequest, ApprovalStage, AwaitApprovalInput, AwaitApprovalOutput } from './schema.ts';

/** The ASL state that waits at a gate (state names are an API). */
function gateState(stage: ApprovalStage): string {
  return stage === 'plan' ? 'AwaitPlanApproval' : 'AwaitSampleApproval';
}

/**
 * Records that a run waits at an approval gate, with the task token `ferry approve` (or the console)
 * needs to resume it: on the run record in the Runs table (status `awaiting-approval`) when the run
 * store has one, and always as `runs/<runId>/approvals/<stage>.json` in the work bucket (KMS-encrypted,
 * run-scoped), which stays the source while no stage creates the run record yet. The token is never
 * logged: it is a capability to resume the execution.
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
  let onRunRecord = false;
  try {
    await deps.runStore.recordTaskToken(input.runId, input.stage, input.taskToken);
    await deps.runStore.updateRun(input.runId, {
      status: 'awaiting-approval',
      stage: gateState(input.stage),
    });
    onRunRecord = true;
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error;
  }
  deps.log.info('approval requested', { runId: input.runId, stage: input.stage, onRunRecord });
  return { runId: input.runId, stage: input.stage, requestKey };
}
