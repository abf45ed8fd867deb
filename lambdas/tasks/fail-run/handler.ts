import { makeHandler } from '../../runtime/make-handler.ts';
import { failRun } from './fail-run.ts';
import { FailRunInputSchema } from './schema.ts';

export const handler = makeHandler('FailRun', FailRunInputSchema, failRun);
