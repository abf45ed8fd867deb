import { makeHandler } from '../handler-kit.ts';
import { propagateDeletesStage } from './propagate-deletes.ts';
import { PropagateDeletesInputSchema } from './schema.ts';

export const handler = makeHandler('PropagateDeletes', PropagateDeletesInputSchema, propagateDeletesStage);
