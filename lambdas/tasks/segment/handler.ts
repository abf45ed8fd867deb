import { makeHandler } from '../../runtime/make-handler.ts';
import { SegmentInputSchema } from './schema.ts';
import { segment } from './segment.ts';

export const handler = makeHandler('Segment', SegmentInputSchema, segment);
