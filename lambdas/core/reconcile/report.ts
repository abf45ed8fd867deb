import { z } from 'zod';
import type { ChunkLoadStats, PrepareStats } from '../load/format.ts';
import { PIVOTED } from '../sources/pivot.ts';

const Counts = z.record(z.string(), z.number().int().nonnegative());

/**
 * One entity's balance sheet. Every source row ends in exactly one bucket: loaded (created,
 * updated or unchanged), rejected (segment, prepare or load, by reason) or skipped (by reason).
 * `balanced` says they add up; anything else means rows were lost and the run is failed.
 */
export const EntityReconciliationSchema = z.object({
  entity: z.string(),
  object: z.string(),
  file: z.string().optional(),
  sourceRows: z.number().int().nonnegative(),
  mapped: z.number().int().nonnegative(),
  loaded: z.object({
    created: z.number().int().nonnegative(),
    updated: z.number().int().nonnegative(),
    unchanged: z.number().int().nonnegative(),
  }),
  rejected: Counts,
  skipped: Counts,
  warnings: Counts,
  targets: z.object({ written: z.number().int().nonnegative(), rejected: z.number().int().nonnegative() }),
  balanced: z.boolean(),
  /** A long-format (pivot) file: the entity its rows were merged into (they load with its records). */
  mergedInto: z.string().optional(),
  /** Loaded records read back whose every sent field matches (0 for pivot files: see their target). */
  verified: z.number().int().nonnegative().default(0),
  /** Loaded records read back with at least one field that differs from what Prepare sent. */
  mismatched: z.number().int().nonnegative().default(0),
  /** Loaded records Twenty no longer has. */
  missing: z.number().int().nonnegative().default(0),
});
export type EntityReconciliation = z.infer<typeof EntityReconciliationSchema>;

export const ReadBackSchema = z.object({
  verified: z.number().int().nonnegative(),
  missing: z.number().int().nonnegative(),
});
export type ReadBack = z.infer<typeof ReadBackSchema>;

export const TotalsSchema = z.object({
  sourceRows: z.number().int().nonnegative(),
  loaded: z.number().int().nonnegative(),
  created: z.number().int().nonnegative(),
  updated: z.number().int().nonnegative(),
  unchanged: z.number().int().nonnegative(),
  rejected: z.number().int().nonnegative(),
  skipped: z.number().int().nonnegative(),
  warnings: z.number().int().nonnegative(),
});
export type Totals = z.infer<typeof TotalsSchema>;

/** One mapped field of one entity over the read-back (counts of records). */
export const FieldReconciliationSchema = z.object({
  /** Loaded records read back (the denominator of the population rate). */
  records: z.number().int().nonnegative(),
  /** Records where Prepare sent a non-empty value. */
  populated: z.number().int().nonnegative(),
  /** Records whose value in Twenty equals the value sent (empty sent and empty stored included). */
  matched: z.number().int().nonnegative(),
  /** populated / records, 0..1 (1 when there are no records). */
  populationRate: z.number().min(0).max(1),
  /** matched / records, 0..1 (1 when there are no records). */
  matchRate: z.number().min(0).max(1),
});
export type FieldReconciliation = z.infer<typeof FieldReconciliationSchema>;

/** A field that differs in Twenty from what Ferry sent: names and ids only, never a value. */
export const MismatchSchema = z.object({
  entity: z.string(),
  object: z.string(),
  field: z.string(),
  recordId: z.string(),
});
export type Mismatch = z.infer<typeof MismatchSchema>;

/** Why a run fails reconciliation, as codes (never values). */
export const PROBLEMS = ['UNBALANCED', 'READBACK_MISSING', 'MISMATCHES_OVER_TOLERANCE'] as const;

/** `runs/<runId>/reconciliation.json`: what the CLI prints and `ferry status` points at. */
export const ReconciliationSchema = z.object({
  runId: z.string(),
  generatedAt: z.string(),
  /** Mismatched fields (entity × field × record) allowed before the run fails; default 0. */
  tolerance: z.number().int().nonnegative().default(0),
  entities: z.array(EntityReconciliationSchema),
  totals: TotalsSchema,
  /** Per Twenty object: ids Ferry wrote in this run found (verified) or not (missing) on read-back. */
  readBack: z.record(z.string(), ReadBackSchema),
  verified: z.number().int().nonnegative(),
  missing: z.number().int().nonnegative(),
  requests: z.number().int().nonnegative(),
  throttled: z.number().int().nonnegative(),
  balanced: z.boolean(),
  status: z.enum(['succeeded', 'failed']),
  /** Why the run is failed, as a code (never a value): the first of `problems`. */
  problem: z.enum(PROBLEMS).optional(),
  problems: z.array(z.enum(PROBLEMS)).default([]),
  /** Rejected rows by reason over all entities and stages. */
  rejects: z.record(z.string(), z.number().int().nonnegative()).default({}),
  /** Skipped rows by reason over all entities. */
  skips: z.record(z.string(), z.number().int().nonnegative()).default({}),
  /** Per entity, per mapped field: population and match rates of the read-back. */
  fields: z.record(z.string(), z.record(z.string(), FieldReconciliationSchema)).default({}),
  /** Mismatched fields (entity × field × record) found; `mismatches` lists the first 1,000. */
  mismatchCount: z.number().int().nonnegative().default(0),
  mismatches: z.array(MismatchSchema).default([]),
  /**
   * Per entity: records an earlier run of this source loaded (they are in its id map) that this
   * export does not hold — neither mapped nor rejected now. Reported, never deleted; `sourceIds`
   * lists the first 1,000.
   */
  missingFromExport: z
    .record(z.string(), z.object({ count: z.number().int().nonnegative(), sourceIds: z.array(z.string()) }))
    .default({}),
  /**
   * A delta run's counts against the run it follows (`ferry delta --run`): records new (created),
   * changed (content hash differs: updated), unchanged, missing from this export, conflicts (edited
   * or deleted in Twenty since Ferry's last write: left alone), and — with `--propagate-deletes` —
   * deleted (only records Ferry created) and kept because they pre-existed in the workspace.
   */
  delta: z
    .object({
      baseRunId: z.string(),
      propagateDeletes: z.boolean(),
      new: z.number().int().nonnegative(),
      changed: z.number().int().nonnegative(),
      unchanged: z.number().int().nonnegative(),
      missing: z.number().int().nonnegative(),
      conflicts: z.number().int().nonnegative(),
      deleted: z.number().int().nonnegative(),
      preexistingKept: z.number().int().nonnegative(),
    })
    .optional(),
  reportKey: z.string().optional(),
  rejectsKey: z.string(),
  workflowsKey: z.string().optional(),
});
export type Reconciliation = z.infer<typeof ReconciliationSchema>;

/** Segment rejects counted per source file and reason (they happen before any entity exists). */
export type SegmentRejectCounts = ReadonlyMap<string, Readonly<Record<string, number>>>;

function sum(counts: Readonly<Record<string, number>>): number {
  return Object.values(counts).reduce((total, n) => total + n, 0);
}

function add(into: Record<string, number>, from: Readonly<Record<string, number>>): void {
  for (const [key, n] of Object.entries(from)) into[key] = (into[key] ?? 0) + n;
}

/** Pivot rows merged into records Twenty refused at load, per entity they were merged into. */
export type MergedRefusals = ReadonlyMap<string, number>;

/**
 * Splits `n` rows over the buckets in proportion to `weights` (largest remainder, ties to the
 * earlier bucket), so the parts are whole and add up to `n` exactly.
 */
function apportion<K extends string>(n: number, weights: Readonly<Record<K, number>>): Record<K, number> {
  const keys = Object.keys(weights) as K[];
  const total = keys.reduce((t, k) => t + weights[k], 0);
  const parts = {} as Record<K, number>;
  if (total === 0) {
    for (const k of keys) parts[k] = 0;
    return parts;
  }
  let left = n;
  const remainders = keys.map((k, i) => {
    const exact = (n * weights[k]) / total;
    parts[k] = Math.floor(exact);
    left -= parts[k];
    return { k, i, r: exact - parts[k] };
  });
  remainders.sort((a, b) => b.r - a.r || a.i - b.i);
  for (const { k } of remainders.slice(0, left)) parts[k] += 1;
  return parts;
}

/**
 * Builds every entity's balance from Prepare's numbers, the segment rejects of its source file and
 * the load stats of its chunks. Segment reasons Prepare already counted are not added twice. An
 * entity that only appears in load stats (no Prepare numbers) has 0 source rows and is unbalanced.
 *
 * A long-format (pivot) file (`mergedInto` in prepare.json) has no chunks: its mapped rows travel
 * inside the records of the entity they were merged into, so they are loaded when those records
 * are. Rows merged into a record Twenty refused (`mergedRefusals`) move to skipped PIVOTED, the
 * bucket Prepare uses for rows whose record does not load. The loaded rest is split over created /
 * updated / unchanged in proportion to that entity's own outcome (exact whenever the outcome is
 * uniform, as on a first run or a re-run); if that entity loaded nothing, the rows stay unaccounted
 * and the run does not balance rather than being guessed into a bucket.
 */
export function reconcileEntities(
  prepare: PrepareStats,
  segmentRejects: SegmentRejectCounts,
  chunks: readonly ChunkLoadStats[],
  mergedRefusals: MergedRefusals = new Map(),
): EntityReconciliation[] {
  const names = [...Object.keys(prepare.entities)];
  for (const chunk of chunks) if (!names.includes(chunk.entity)) names.push(chunk.entity);
  const own = names.map((entity) => {
    const prepared = prepare.entities[entity];
    const own = chunks.filter((chunk) => chunk.entity === entity);
    const rejected: Record<string, number> = { ...(prepared?.rejected ?? {}) };
    const fromSegment = prepared?.file === undefined ? undefined : segmentRejects.get(prepared.file);
    for (const [reason, n] of Object.entries(fromSegment ?? {})) {
      if (prepared?.rejected[reason] === undefined) rejected[reason] = n;
    }
    const loaded = { created: 0, updated: 0, unchanged: 0 };
    const targets = { written: 0, rejected: 0 };
    for (const chunk of own) {
      loaded.created += chunk.created;
      loaded.updated += chunk.updated;
      loaded.unchanged += chunk.unchanged;
      targets.written += chunk.targets.written;
      targets.rejected += chunk.targets.rejected;
      add(rejected, chunk.rejected);
    }
    return {
      entity,
      object: prepared?.object ?? own[0]?.object ?? '',
      ...(prepared?.file !== undefined ? { file: prepared.file } : {}),
      sourceRows: prepared?.sourceRows ?? 0,
      mapped: prepared?.mapped ?? 0,
      loaded,
      rejected,
      skipped: { ...(prepared?.skipped ?? {}) },
      warnings: { ...(prepared?.warnings ?? {}) },
      targets,
      verified: 0,
      mismatched: 0,
      missing: 0,
      ...(prepared?.mergedInto !== undefined ? { mergedInto: prepared.mergedInto } : {}),
    };
  });
  const byName = new Map(own.map((e) => [e.entity, e]));
  return own.map((e) => {
    if (e.mergedInto !== undefined) {
      const into = byName.get(e.mergedInto)?.loaded ?? { created: 0, updated: 0, unchanged: 0 };
      const refused = Math.min(mergedRefusals.get(e.mergedInto) ?? 0, e.mapped);
      if (refused > 0) e.skipped[PIVOTED] = (e.skipped[PIVOTED] ?? 0) + refused;
      e.loaded = apportion(e.mapped - refused, into);
    }
    const accounted =
      e.loaded.created + e.loaded.updated + e.loaded.unchanged + sum(e.rejected) + sum(e.skipped);
    return { ...e, balanced: e.sourceRows === accounted };
  });
}

/** Run-wide totals of the entity balances. */
export function totalsOf(entities: readonly EntityReconciliation[]): Totals {
  const totals: Totals = {
    sourceRows: 0,
    loaded: 0,
    created: 0,
    updated: 0,
    unchanged: 0,
    rejected: 0,
    skipped: 0,
    warnings: 0,
  };
  for (const e of entities) {
    totals.sourceRows += e.sourceRows;
    totals.created += e.loaded.created;
    totals.updated += e.loaded.updated;
    totals.unchanged += e.loaded.unchanged;
    totals.rejected += sum(e.rejected);
    totals.skipped += sum(e.skipped);
    totals.warnings += sum(e.warnings);
  }
  totals.loaded = totals.created + totals.updated + totals.unchanged;
  return totals;
}
