import { makeHandler } from '../../runtime/make-handler.ts';
import { inventory } from './inventory.ts';
import { InventoryInputSchema } from './schema.ts';

export const handler = makeHandler('Inventory', InventoryInputSchema, inventory);
