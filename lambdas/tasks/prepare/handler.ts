import { makeHandler } from '../../runtime/make-handler.ts';
import { prepare } from './prepare.ts';
import { PrepareInputSchema } from './schema.ts';

export const handler = makeHandler('Prepare', PrepareInputSchema, prepare);
