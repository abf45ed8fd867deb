import { z } from 'zod';

/** The gates an operator approves: the plan (mapping + schema diff) and, later, the sample load. */
export const ApprovalStageSchema = z.enum(['plan', 'sample']);
export type ApprovalStage = z.infer<typeof ApprovalStageSchema>;

/** Payload of the `.waitForTaskToken` Task: the run, which gate, and the token that resumes it. */
export const AwaitApprovalInputSchema = z.object({
  runId: z.string().min(1),
  stage: ApprovalStageSchema,
  taskToken: z.string().min(1),
});
export type AwaitApprovalInput = z.infer<typeof AwaitApprovalInputSchema>;

/** What the function returns (Step Functions ignores it: the state waits for SendTaskSuccess). */
export const AwaitApprovalOutputSchema = z.object({
  runId: z.string(),
  stage: ApprovalStageSchema,
  requestKey: z.string(),
});
export type AwaitApprovalOutput = z.infer<typeof AwaitApprovalOutputSchema>;

/** The approval request stored at `runs/<runId>/approvals/<stage>.json`. */
export const ApprovalRequestSchema = z.object({
  runId: z.string(),
  stage: ApprovalStageSchema,
  taskToken: z.string(),
  requestedAt: z.string(),
});
export type ApprovalRequest = z.infer<typeof ApprovalRequestSchema>;

/**
 * The output the operator sends with SendTaskSuccess (`ferry approve`, the console, or the local
 * prompt). It becomes the gate state's result (`$.approval`).
 */
export const ApprovalDecisionSchema = z.object({
  approved: z.literal(true),
  stage: ApprovalStageSchema,
  approvedBy: z.string().min(1),
  approvedAt: z.string(),
});
export type ApprovalDecision = z.infer<typeof ApprovalDecisionSchema>;
