import { z } from 'zod';
import { BOM_KINDS, TEXT_ENCODINGS } from '../csv/encoding.ts';
import { DELIMITERS, LINE_ENDINGS } from '../csv/sniff.ts';
import { INFERRED_TYPES } from './infer.ts';

/**
 * `runs/<runId>/plan.json`: what Inventory found in a drop folder, the contract between Inventory,
 * the operator's approval and Segment. It holds names, sizes, hashes, counts and types — never a
 * field value (PHI). Later stages add their own sections (mapping proposal, schema diff), so the top
 * level keeps unknown keys instead of stripping them.
 */
export const PlanIssueSchema = z.object({
  /** Stable code, e.g. EMPTY_FILE, HEADER_ONLY, ENCODING_FALLBACK, BINARY_FILE. */
  code: z.string().min(1),
  /** File name inside the drop folder. */
  file: z.string(),
  line: z.number().int().positive().optional(),
  message: z.string(),
});
export type PlanIssue = z.infer<typeof PlanIssueSchema>;

export const PlanColumnSchema = z.object({
  name: z.string(),
  inferredType: z.enum(INFERRED_TYPES).optional(),
  /** Rows (readable ones) where the cell is not empty: the population rate's numerator. */
  nonEmpty: z.number().int().nonnegative(),
});
export type PlanColumn = z.infer<typeof PlanColumnSchema>;

export const PlanFileSchema = z.object({
  /** Full key in the drop bucket. */
  key: z.string().min(1),
  /** Path inside the drop folder, e.g. `patients.csv`. */
  name: z.string().min(1),
  /** Unique, key-safe name used for chunk folders: `runs/<runId>/chunks/<stem>/`. */
  stem: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/),
  bytes: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  encoding: z.enum(TEXT_ENCODINGS),
  bom: z.enum(BOM_KINDS),
  delimiter: z.enum(DELIMITERS),
  lineEnding: z.enum(LINE_ENDINGS),
  header: z.array(z.string()),
  headerLine: z.number().int().positive().nullable(),
  /** Data rows after the header, blank lines excluded; Segment's chunk rows + rejects equal this. */
  rows: z.number().int().nonnegative(),
  blankLines: z.number().int().nonnegative(),
  /** The part of `rows` that Segment will reject (malformed structure or invalid bytes). */
  malformedRows: z.number().int().nonnegative(),
  columns: z.array(PlanColumnSchema),
});
export type PlanFile = z.infer<typeof PlanFileSchema>;

/** A file of the export that is not tabular data (scanned documents, images, PDFs): kept, listed, hashed. */
export const PlanAttachmentSchema = z.object({
  key: z.string().min(1),
  name: z.string().min(1),
  bytes: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});
export type PlanAttachment = z.infer<typeof PlanAttachmentSchema>;

export const PlanTotalsSchema = z.object({
  dataFiles: z.number().int().nonnegative(),
  attachments: z.number().int().nonnegative(),
  bytes: z.number().int().nonnegative(),
  rows: z.number().int().nonnegative(),
  malformedRows: z.number().int().nonnegative(),
  blankLines: z.number().int().nonnegative(),
});

export const PlanSchema = z.looseObject({
  version: z.literal(1),
  runId: z.string().min(1),
  folder: z.string().min(1),
  createdAt: z.iso.datetime(),
  files: z.array(PlanFileSchema),
  attachments: z.array(PlanAttachmentSchema),
  totals: PlanTotalsSchema,
  warnings: z.array(PlanIssueSchema),
  errors: z.array(PlanIssueSchema),
});
export type Plan = z.infer<typeof PlanSchema>;
