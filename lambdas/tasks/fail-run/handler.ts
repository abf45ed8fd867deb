import { makeHandler } from '../handler-kit.ts';
import { failRun } from './fail-run.ts';
import { FailRunInputSchema } from './schema.ts';

export const handler = makeHandler('FailRun', FailRunInputSchema, failRun);
