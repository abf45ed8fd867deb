import { makeHandler } from '../../runtime/make-handler.ts';
import { reconcile } from './reconcile.ts';
import { ReconcileInputSchema } from './schema.ts';

export const handler = makeHandler('Reconcile', ReconcileInputSchema, reconcile);
