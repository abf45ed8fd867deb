import { makeHandler } from '../handler-kit.ts';
import { linkDeltaStage } from './link-delta.ts';
import { LinkDeltaInputSchema } from './schema.ts';

export const handler = makeHandler('LinkDelta', LinkDeltaInputSchema, linkDeltaStage);
