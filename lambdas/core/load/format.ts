import { z } from 'zod';

/**
 * The contract between Prepare (which writes mapped records) and LoadChunk / Reconcile (which send
 * and count them). Everything here is ids, keys and counts, except a line's `data`, which is the
 * mapped record itself (PHI): it lives only in the work bucket and in requests to Twenty.
 */

/**
 * Load phases, in load order. The names sort in that order on purpose: ledger keys start with the
 * phase, and rollback walks a run's entries in reverse key order (children before parents).
 */
export const LOAD_PHASES = [
  '01-companies',
  '02-people',
  '03-opportunities',
  '04-activities',
  '05-custom',
  '06-attachments',
] as const;
export const LoadPhaseSchema = z.enum(LOAD_PHASES);
export type LoadPhase = z.infer<typeof LoadPhaseSchema>;

/** Join records Ferry writes after their parent task/note so the activity shows on its targets. */
export const TARGET_OBJECTS = ['taskTargets', 'noteTargets'] as const;
export const TargetObjectSchema = z.enum(TARGET_OBJECTS);
export type TargetObject = z.infer<typeof TargetObjectSchema>;

/**
 * One activity target: `data` is the REST body, e.g. `{id, taskId, personId}`; `id` is deterministic
 * (recordId of the parent plus the target) so a retried chunk upserts the same row.
 */
export const MappedTargetSchema = z.object({
  object: TargetObjectSchema,
  data: z.looseObject({ id: z.string().min(1) }),
});
export type MappedTarget = z.infer<typeof MappedTargetSchema>;

/**
 * A file to upload before its attachment record is created: `key` is the object's key in the drop
 * bucket (`drop/<folder>/documents/...`), `bytes` the size Inventory/Prepare saw (optional, the
 * loader re-checks the real size).
 */
export const MappedFileSchema = z.object({
  key: z.string().min(1),
  name: z.string().min(1),
  mime: z.string().min(1),
  bytes: z.number().int().nonnegative().optional(),
  /**
   * Which bucket `key` is in: the drop folder (default), or the work bucket for a file Segment
   * decoded from the export itself (a FHIR DocumentReference's inline base64 `data`).
   */
  store: z.enum(['drop', 'work']).optional(),
});
export type MappedFile = z.infer<typeof MappedFileSchema>;

/**
 * One line of `runs/<runId>/load/<phase>/<entity>/<00001>.ndjson`: a record in Twenty's REST shape,
 * ready to send. `data` holds the fields without `id` (the loader sends `{...data, id}`; an `id` in
 * `data` is overwritten). `contentHash` covers data + targets + file so an unchanged source row is
 * skipped on a second run. `mergeTarget` marks a record that already existed in Twenty before Ferry
 * (matched by email/domain): its `id` is that record's id, and the loader always keeps a before-image.
 */
export const MappedLineSchema = z.object({
  sourceId: z.string().min(1),
  /** Source line number (for rejects). */
  line: z.number().int().nonnegative(),
  id: z.string().min(1),
  /** Twenty's plural object name (`people`, `companies`, `tasks`, `attachments`, custom plurals). */
  object: z.string().min(1),
  data: z.record(z.string(), z.unknown()),
  targets: z.array(MappedTargetSchema).default([]),
  contentHash: z.string().min(1),
  mergeTarget: z.literal(true).optional(),
  file: MappedFileSchema.optional(),
  /**
   * How many rows of a long-format (pivot) file were merged into this record (APMS custom
   * properties). Not part of `contentHash` (their values already are, in `data`): Reconcile reads it
   * to move those rows from loaded to skipped when Twenty refuses this record.
   */
  merged: z.number().int().positive().optional(),
});
export type MappedLine = z.infer<typeof MappedLineSchema>;
/** What Prepare writes (before zod's defaults apply). */
export type MappedLineInput = z.input<typeof MappedLineSchema>;

/**
 * One item of a phase manifest `runs/<runId>/load/<phase>.json` (a JSON array of these): the
 * Distributed Map's ItemReader input, so it carries keys and counts only.
 */
export const LoadManifestItemSchema = z.object({
  runId: z.string().min(1),
  phase: LoadPhaseSchema,
  entity: z.string().min(1),
  key: z.string().min(1),
  records: z.number().int().nonnegative(),
});
export type LoadManifestItem = z.infer<typeof LoadManifestItemSchema>;
export const LoadManifestSchema = z.array(LoadManifestItemSchema);

/**
 * One reject line (segment, prepare and load rejects share it): where and which rule, never the value.
 * Segment's own lines carry `detail` instead of field/rule; Reconcile normalizes them.
 */
export const RejectLineSchema = z.object({
  file: z.string(),
  line: z.number().int().nonnegative(),
  entity: z.string(),
  sourceId: z.string(),
  field: z.string(),
  reason: z.string().min(1),
  rule: z.string(),
});
export type RejectLine = z.infer<typeof RejectLineSchema>;

const Counts = z.record(z.string(), z.number().int().nonnegative());

/** Prepare's per-entity numbers in `runs/<runId>/prepare.json`. */
export const EntityPrepareStatsSchema = z.object({
  /** Rows of the entity's source file, segment rejects included. */
  sourceRows: z.number().int().nonnegative(),
  mapped: z.number().int().nonnegative(),
  rejected: Counts.default({}),
  skipped: Counts.default({}),
  warnings: Counts.default({}),
  /** Source file name inside the drop folder. */
  file: z.string().optional(),
  /** Twenty plural object name. */
  object: z.string().optional(),
  phase: LoadPhaseSchema.optional(),
  /**
   * Set on a long-format (pivot) file's stats: the entity its rows are merged into. It has no
   * phase and no chunks of its own; its `mapped` rows load (or not) with that entity's records.
   */
  mergedInto: z.string().min(1).optional(),
});
export type EntityPrepareStats = z.infer<typeof EntityPrepareStatsSchema>;

/** `runs/<runId>/prepare.json`: keyed by entity name. */
export const PrepareStatsSchema = z.object({
  runId: z.string().min(1),
  entities: z.record(z.string(), EntityPrepareStatsSchema),
});
export type PrepareStats = z.infer<typeof PrepareStatsSchema>;

/** LoadChunk's numbers for one chunk: `runs/<runId>/load-stats/<phase>/<entity>/<chunk>.json`. */
export const ChunkLoadStatsSchema = z.object({
  runId: z.string().min(1),
  phase: LoadPhaseSchema,
  entity: z.string().min(1),
  object: z.string(),
  key: z.string().min(1),
  records: z.number().int().nonnegative(),
  created: z.number().int().nonnegative(),
  updated: z.number().int().nonnegative(),
  unchanged: z.number().int().nonnegative(),
  rejected: Counts,
  targets: z.object({ written: z.number().int().nonnegative(), rejected: z.number().int().nonnegative() }),
  requests: z.number().int().nonnegative(),
  throttled: z.number().int().nonnegative(),
  /** Ids this chunk created or updated (read back by Reconcile). */
  writtenIds: z.array(z.string()),
});
export type ChunkLoadStats = z.infer<typeof ChunkLoadStatsSchema>;

// The keys of Prepare's and LoadChunk's artefacts live in run-layout.ts; these names stay here for the tests.
export {
  loadChunkKey,
  loadStatsKey,
  phaseManifestKey,
  prepareRejectsKey,
  prepareStatsKey,
  reconciliationKey,
  rejectsCsvKey,
  workflowsKey,
} from '../run-layout.ts';
