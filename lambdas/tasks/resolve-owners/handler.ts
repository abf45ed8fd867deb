import { makeHandler } from '../handler-kit.ts';
import { resolveOwnersStage } from './resolve-owners.ts';
import { ResolveOwnersInputSchema } from './schema.ts';

export const handler = makeHandler('ResolveOwners', ResolveOwnersInputSchema, resolveOwnersStage);
