import { z } from 'zod';
import { ValidationError } from './errors.ts';

/**
 * What Ferry did to one Twenty record (or schema item); rollback inverts it. `deleted`: a delta's
 * `--propagate-deletes` hard-deleted a record Ferry had created (its before-image is kept, so a
 * rollback recreates it); `destroyed`/`restored` mark a rollback's own undoing.
 */
export const LedgerOpSchema = z.enum([
  'created',
  'updated',
  'restored',
  'destroyed',
  'schema-created',
  'deleted',
]);
export type LedgerOp = z.infer<typeof LedgerOpSchema>;

/**
 * One record operation of a run: the audit trail and the rollback source. `beforeImage` is the Twenty
 * record as it was before an update (so rollback can restore it); it is PHI and lives only in the
 * Ledger table or the work bucket, never in logs or state payloads.
 *
 * `phase` orders rollback: entries are keyed `<phase>#<entity>#<sourceId>#<op>` and walked in
 * reverse key order, so phase names must sort in load order — give them a zero-padded ordinal
 * prefix (see {@link ledgerPhase}).
 */
export const LedgerEntrySchema = z.object({
  runId: z.string().min(1),
  phase: z.string().min(1),
  entity: z.string().min(1),
  sourceId: z.string().min(1),
  twentyId: z.string().min(1),
  op: LedgerOpSchema,
  contentHash: z.string(),
  beforeImage: z.record(z.string(), z.unknown()).optional(),
  /** The Twenty object (plural) of a `deleted` record: its rollback recreates it there. */
  object: z.string().min(1).optional(),
  /** ISO-8601 instant of the operation. */
  at: z.string().min(1),
});
export type LedgerEntry = z.infer<typeof LedgerEntrySchema>;

/** One row of the source → Twenty id map that delta runs diff against. */
export const IdMapRowSchema = z.object({
  sourceId: z.string().min(1),
  twentyId: z.string().min(1),
  contentHash: z.string(),
  /** The run that last wrote this record. */
  runId: z.string().min(1),
  /** When Ferry last wrote it (ISO-8601): a later `updatedAt` in Twenty means someone edited it there. */
  writtenAt: z.string().min(1).optional(),
});
export type IdMapRow = z.infer<typeof IdMapRowSchema>;

/**
 * Ledger phase of the task/note targets a delta's `--propagate-deletes` takes with a record (Twenty's
 * ON DELETE CASCADE): they have no ledger entry of their own, so their before-images are kept under
 * this phase, which sorts after every record phase — a rollback recreates them last, once their task
 * or note and their target are back.
 */
export const CASCADE_LEDGER_PHASE = '99-cascade';

/** A phase name that sorts in load order: `ledgerPhase(2, 'people')` → `02-people`. */
export function ledgerPhase(ordinal: number, name: string): string {
  return `${String(ordinal).padStart(2, '0')}-${name}`;
}

/** Escapes the key separator (and the escape character) so a source id can never split a key. */
export function keyPart(value: string): string {
  return value.replaceAll('%', '%25').replaceAll('#', '%23');
}

export function unkeyPart(value: string): string {
  return value.replaceAll('%23', '#').replaceAll('%25', '%');
}

/** Ledger sort key (contracts §4). One key per (phase, entity, record, op): a retried batch overwrites. */
export function ledgerSortKey(entry: Pick<LedgerEntry, 'phase' | 'entity' | 'sourceId' | 'op'>): string {
  return [entry.phase, entry.entity, entry.sourceId, entry.op].map(keyPart).join('#');
}

export function runPartitionKey(runId: string): string {
  return `RUN#${runId}`;
}

export function idMapPartitionKey(sourceInstance: string, entity: string): string {
  return `MAP#${keyPart(sourceInstance)}#${keyPart(entity)}`;
}

/**
 * DynamoDB caps an item at 400 KB; a before-image larger than this many UTF-8 bytes goes to the work
 * bucket instead and the entry keeps a pointer (the rest of the item stays well under the cap).
 */
export const MAX_INLINE_BEFORE_IMAGE_BYTES = 300 * 1024;

/**
 * Validates entries at the ledger's edge. The message names the entry's position and the field,
 * never a value (source ids can be PHI-adjacent).
 */
export function parseLedgerEntries(entries: readonly unknown[]): LedgerEntry[] {
  return entries.map((entry, index) => {
    const parsed = LedgerEntrySchema.safeParse(entry);
    if (!parsed.success) {
      const fields = [...new Set(parsed.error.issues.map((i) => i.path.join('.') || '(entry)'))].join(', ');
      throw new ValidationError(`ledger entry ${index}: invalid ${fields}`);
    }
    return parsed.data;
  });
}

export function parseIdMapRows(rows: readonly unknown[]): IdMapRow[] {
  return rows.map((row, index) => {
    const parsed = IdMapRowSchema.safeParse(row);
    if (!parsed.success) {
      const fields = [...new Set(parsed.error.issues.map((i) => i.path.join('.') || '(row)'))].join(', ');
      throw new ValidationError(`id map row ${index}: invalid ${fields}`);
    }
    return parsed.data;
  });
}

/** Splits into consecutive chunks of at most `size` (BatchWriteItem takes 25, BatchGetItem 100). */
export function chunked<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}
