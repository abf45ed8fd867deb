import { z } from 'zod';
import { TEXT_ENCODINGS } from '../../core/csv/encoding.ts';
import { DELIMITERS } from '../../core/csv/sniff.ts';

/**
 * Operator overrides for one run (CLI flags or the drop folder's `ferry.json`). Unknown keys are
 * kept: later stages read their own options from the same object.
 */
export const InventoryOptionsSchema = z.looseObject({
  /** Force an encoding when detection guessed wrong (applies to every data file). */
  encoding: z.enum(TEXT_ENCODINGS).optional(),
  /** Force a delimiter when sniffing guessed wrong. */
  delimiter: z.enum(DELIMITERS).optional(),
});
export type InventoryOptions = z.infer<typeof InventoryOptionsSchema>;

export const InventoryInputSchema = z.object({
  /** The execution name: every artefact of the run lives under `runs/<runId>/`. */
  runId: z
    .string()
    .min(1)
    .regex(/^[A-Za-z0-9._:-]+$/, 'runId may hold letters, digits and . _ : - only'),
  /** `drop/<name>/`; a missing trailing slash is added so `drop/a` never also lists `drop/ab/`. */
  folder: z
    .string()
    .regex(/^drop\/[^/]/, 'folder must start with drop/')
    .refine((folder) => !folder.split('/').includes('..'), 'folder must not contain ..')
    .transform((folder) => (folder.endsWith('/') ? folder : `${folder}/`)),
  options: InventoryOptionsSchema.optional(),
});
export type InventoryInput = z.infer<typeof InventoryInputSchema>;

/** Ids, keys and counts only: this is a Step Functions payload (no PHI, far below 256 KB). */
export const InventoryOutputSchema = z.object({
  runId: z.string(),
  folder: z.string(),
  planKey: z.string(),
  files: z.number().int().nonnegative(),
  rows: z.number().int().nonnegative(),
  bytes: z.number().int().nonnegative(),
  warnings: z.number().int().nonnegative(),
});
export type InventoryOutput = z.infer<typeof InventoryOutputSchema>;
