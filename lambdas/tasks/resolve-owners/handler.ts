import { makeHandler } from '../../runtime/make-handler.ts';
import { resolveOwnersStage } from './resolve-owners.ts';
import { ResolveOwnersInputSchema } from './schema.ts';

export const handler = makeHandler('ResolveOwners', ResolveOwnersInputSchema, resolveOwnersStage);
