import { makeHandler } from '../handler-kit.ts';
import { inventory } from './inventory.ts';
import { InventoryInputSchema } from './schema.ts';

export const handler = makeHandler('Inventory', InventoryInputSchema, inventory);
