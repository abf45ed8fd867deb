import { z } from 'zod';
import { TEXT_ENCODINGS } from '../../core/csv/encoding.ts';
import { DELIMITERS } from '../../core/csv/sniff.ts';
import { SOURCE_SYSTEMS } from '../../core/mapping/spec.ts';

/**
 * Operator overrides for one run (CLI flags or the drop folder's `ferry.json`). Unknown keys are
 * kept: later stages read their own options from the same object.
 */
export const InventoryOptionsSchema = z.looseObject({
  /** Force an encoding when detection guessed wrong (applies to every data file). */
  encoding: z.enum(TEXT_ENCODINGS).optional(),
  /** Force a delimiter when sniffing guessed wrong. */
  delimiter: z.enum(DELIMITERS).optional(),
  /** Source system: `auto` (default) detects it from file names and headers. */
  source: z.enum([...SOURCE_SYSTEMS, 'auto']).optional(),
  /** Key (drop bucket) of an operator-edited mapping YAML; it wins over any profile. */
  mappingKey: z.string().min(1).optional(),
  /** Source instance for deterministic ids (default: the drop folder's name, or ferry.json `instance`). */
  instance: z
    .string()
    .regex(/^[A-Za-z0-9._-]+$/, 'instance may hold letters, digits and . _ - only')
    .optional(),
  /** Rate preset or `N/<duration>` for the duration estimate (default cloud). */
  rate: z.string().min(1).optional(),
  /** Records per batch request, for the duration estimate (default 200, Twenty's QUERY_MAX_RECORDS). */
  batchMax: z.number().int().min(1).max(200).optional(),
  /** FHIR bulk export: Encounters become `encounter` custom records (default) or opportunities. */
  fhirEncounters: z.enum(['encounter', 'opportunity']).optional(),
  /** Workspace member email owning records whose source owner matches no member. */
  fallbackOwnerEmail: z.string().min(3).optional(),
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
  /** Detected or chosen source system. */
  source: z.string(),
  /** Seeds every deterministic id of the run (drop folder name unless ferry.json says otherwise). */
  sourceInstance: z.string(),
  /** `runs/<runId>/mapping.json`: the spec every later stage reads. */
  mappingKey: z.string(),
  /** Mapped entities. */
  entities: z.number().int().nonnegative(),
});
export type InventoryOutput = z.infer<typeof InventoryOutputSchema>;
