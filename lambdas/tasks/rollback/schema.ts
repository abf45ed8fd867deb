import { z } from 'zod';
import { SchemaCheckSchema } from '../../core/rollback/remove-schema.ts';
import { InFlightSchema } from '../../core/rollback/tick.ts';

/**
 * Rollback's input: the run to undo. Everything else comes from that run's ledger, its work folder
 * and the rollback's own persisted cursor (`runs/<runId>/rollback/cursor.json`), so every tick of the
 * state machine's loop receives the same input.
 */
export const RollbackInputSchema = z.looseObject({
  runId: z.string().min(1),
  /**
   * Also remove the custom objects and fields the run and its deltas created, and put back the select
   * options they added — refused, naming each, when one holds data Ferry did not write.
   */
  removeSchema: z.boolean().optional(),
});
export type RollbackInput = z.input<typeof RollbackInputSchema>;

/** Why one record could not be rolled back or verified: ids and field names, never values. */
export const RollbackProblemSchema = z.object({
  phase: z.string(),
  entity: z.string(),
  sourceId: z.string(),
  twentyId: z.string(),
  code: z.enum([
    'NO_MAPPED_RECORD',
    'NO_BEFORE_IMAGE',
    'GONE_BEFORE_RESTORE',
    'STILL_PRESENT',
    'NOT_RESTORED',
  ]),
  fields: z.array(z.string()).optional(),
});
export type RollbackProblem = z.infer<typeof RollbackProblemSchema>;

/** Counters of one rollback (all its ticks together). */
export const RollbackCountsSchema = z.object({
  /** Records the run created that this rollback hard-deleted. */
  destroyed: z.number().int().nonnegative(),
  /** Records the run updated that got their before-image's values back. */
  restored: z.number().int().nonnegative(),
  /** Of the restored: soft-deleted in Twenty since the run, brought back (`PATCH …/restore`) first. */
  undeleted: z.number().int().nonnegative(),
  /** Of the restored: hard-deleted in Twenty since the run, recreated with their id from the before-image. */
  recreated: z.number().int().nonnegative(),
  /** Records the run created that were already gone from Twenty (nothing to delete). */
  alreadyGone: z.number().int().nonnegative(),
  /** Records already undone by an earlier, finished rollback of this run (left alone). */
  skipped: z.number().int().nonnegative(),
});
export type RollbackCounts = z.infer<typeof RollbackCountsSchema>;

/**
 * The persisted cursor of a rollback in progress (work bucket, ids and counts only). The undo
 * progress itself is the ledger: each step appends `destroyed`/`restored` entries, so a tick (or a
 * process started after a kill) re-walks the ledger and skips what is done; the cursor adds the
 * stage, the counters, the problems found and when this rollback started (entries undone before
 * that instant belong to an earlier rollback).
 */
export const RollbackCursorSchema = z.object({
  runId: z.string(),
  startedAt: z.string(),
  stage: z.enum(['undo', 'schema', 'verify', 'done']),
  /** The runs undone, in order: the run's deltas newest first, then the run (fixed when it starts). */
  family: z.array(z.string()).optional(),
  ticks: z.number().int().nonnegative(),
  /** Twenty requests made by this rollback so far (all ticks). */
  requests: z.number().int().nonnegative(),
  counts: RollbackCountsSchema,
  verifiedRecords: z.number().int().nonnegative(),
  /** Attachments destroyed: Twenty deletes their stored files with them. */
  filesDeleted: z.number().int().nonnegative().default(0),
  /** Custom objects, fields and option lists removed (`removeSchema`). */
  schemaRemoved: z.number().int().nonnegative().default(0),
  /** Where `--schema`'s data check stands (the schema stage), so the next tick continues it. */
  schemaCheck: SchemaCheckSchema.optional(),
  /** The step in progress when the cursor was saved (see `StepJournal`): redone, not counted twice, after a kill. */
  inFlight: InFlightSchema.optional(),
  /** Pages of restored records the verify stage has read back (and counted): the next tick goes on after them. */
  verifiedPages: z.number().int().nonnegative().default(0),
  problems: z.array(RollbackProblemSchema),
});
export type RollbackCursor = z.infer<typeof RollbackCursorSchema>;

/** `runs/<runId>/rollback.json`: what the rollback did and what the read-back found. */
export const RollbackReportSchema = RollbackCountsSchema.extend({
  runId: z.string(),
  status: z.enum(['rolled-back', 'failed']),
  verified: z.boolean(),
  /** Records read back (destroyed ids confirmed gone + restored records equal to their before-image). */
  verifiedRecords: z.number().int().nonnegative(),
  /** State-machine ticks (Rollback invocations) the rollback took. */
  ticks: z.number().int().positive(),
  /** Twenty requests the rollback made. */
  requests: z.number().int().nonnegative(),
  problems: z.array(RollbackProblemSchema),
  /** The runs undone, in order: the run's deltas newest first, then the run itself. */
  runs: z.array(z.string()),
  /**
   * Attachment records destroyed; Twenty deletes each one's uploaded file with it (its
   * FileAttachmentListener queues a FileDeletionJob on destroy), so no file of the run stays.
   */
  filesDeleted: z.number().int().nonnegative(),
  /** Custom objects, fields and select-option lists removed or put back (`--schema`). */
  schemaRemoved: z.number().int().nonnegative(),
  /** What this rollback left in place and says so: the custom schema items (without `--schema`). */
  leftBehind: z.object({
    schemaItems: z.number().int().nonnegative(),
  }),
});
export type RollbackReport = z.infer<typeof RollbackReportSchema>;

/**
 * One tick's output — the continuation contract of the rollback machine's loop
 * (Rollback → RollbackDone? → RollbackWait → Rollback): `done:false` asks for another tick after
 * `waitSeconds`; `done:true` carries the final counts. Counts only (Step Functions keeps it).
 */
export const RollbackOutputSchema = RollbackCountsSchema.extend({
  runId: z.string(),
  /** Where the rollback stands: `undo`, `schema`, `verify` or `done` (the persisted cursor's stage). */
  cursor: z.enum(['undo', 'schema', 'verify', 'done']),
  done: z.boolean(),
  /** Seconds the machine waits before the next tick (0: continue at once). */
  waitSeconds: z.number().int().nonnegative(),
  ticks: z.number().int().positive(),
  requests: z.number().int().nonnegative(),
  status: z.enum(['rolling-back', 'rolled-back', 'failed']),
  verified: z.boolean(),
  problems: z.number().int().nonnegative(),
  /** Runs undone: the run plus the deltas tied to it. */
  runs: z.number().int().positive(),
  /** Custom schema items removed (`removeSchema`). */
  schemaRemoved: z.number().int().nonnegative(),
  reportKey: z.string().optional(),
});
export type RollbackOutput = z.infer<typeof RollbackOutputSchema>;

/** The Rollback function's timeout (its manifest entry) and the margin a tick leaves before it. */
export { ROLLBACK_TIMEOUT_SECONDS } from '../manifest.ts';
export const ROLLBACK_DEADLINE_MARGIN_MS = 90_000;
