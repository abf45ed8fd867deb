import { makeHandler } from '../../runtime/make-handler.ts';
import { applySchema } from './apply-schema.ts';
import { ApplySchemaInputSchema } from './schema.ts';

export const handler = makeHandler('ApplySchema', ApplySchemaInputSchema, applySchema);
