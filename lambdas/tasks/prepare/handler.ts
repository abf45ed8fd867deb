import { makeHandler } from '../handler-kit.ts';
import { prepare } from './prepare.ts';
import { PrepareInputSchema } from './schema.ts';

export const handler = makeHandler('Prepare', PrepareInputSchema, prepare);
