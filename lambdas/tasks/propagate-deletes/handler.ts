import { makeHandler } from '../../runtime/make-handler.ts';
import { propagateDeletesStage } from './propagate-deletes.ts';
import { PropagateDeletesInputSchema } from './schema.ts';

export const handler = makeHandler('PropagateDeletes', PropagateDeletesInputSchema, propagateDeletesStage);
