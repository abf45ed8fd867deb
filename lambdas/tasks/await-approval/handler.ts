import { makeHandler } from '../../runtime/make-handler.ts';
import { awaitApproval } from './await-approval.ts';
import { AwaitApprovalInputSchema } from './schema.ts';

export const handler = makeHandler('AwaitApproval', AwaitApprovalInputSchema, awaitApproval);
