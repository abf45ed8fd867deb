import { makeHandler } from '../../runtime/make-handler.ts';
import { sampleLoad } from './sample-load.ts';
import { SampleLoadInputSchema } from './schema.ts';

export const handler = makeHandler('SampleLoad', SampleLoadInputSchema, sampleLoad);
