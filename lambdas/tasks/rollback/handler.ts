import { makeHandler } from '../handler-kit.ts';
import { rollback } from './rollback.ts';
import { RollbackInputSchema } from './schema.ts';

export const handler = makeHandler('Rollback', RollbackInputSchema, rollback);
