import { makeHandler } from '../handler-kit.ts';
import { reconcile } from './reconcile.ts';
import { ReconcileInputSchema } from './schema.ts';

export const handler = makeHandler('Reconcile', ReconcileInputSchema, reconcile);
