import { makeHandler } from '../../runtime/make-handler.ts';
import { linkDeltaStage } from './link-delta.ts';
import { LinkDeltaInputSchema } from './schema.ts';

export const handler = makeHandler('LinkDelta', LinkDeltaInputSchema, linkDeltaStage);
