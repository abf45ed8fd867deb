import type { IdMapRow, LedgerEntry } from './ledger-entry.ts';

export type { IdMapRow, LedgerEntry, LedgerOp } from './ledger-entry.ts';

export interface EntriesForRunOptions {
  /** Newest phase first (reverse key order): the order rollback undoes a run in. */
  readonly reverse?: boolean;
  /** Only this phase's entries. */
  readonly phase?: string;
}

/**
 * The audit ledger and id map (DynamoDB `Ledger` table). Loaders append one entry per record
 * operation, a slice's entries in one call; rollback walks a run's entries backwards; delta runs
 * diff the source against the id map by content hash. Writes are batched because the local DynamoDB
 * manages ~400 single writes a second.
 */
export interface Ledger {
  /**
   * Appends entries, idempotent per run/phase/entity/source id/op: readers see one entry per key, the
   * latest append's, so a retried batch replaces the first attempt's entries even when they differ.
   * How entries are grouped into stored items is the adapter's (DynamoDB packs one call's entries of
   * a phase and entity into one item).
   */
  appendMany(entries: readonly LedgerEntry[]): Promise<void>;
  /** A run's entries in key order (phase, entity, source id, op), or reversed; before-images resolved. */
  entriesForRun(runId: string, options?: EntriesForRunOptions): AsyncIterable<LedgerEntry>;
  putIdMap(sourceInstance: string, entity: string, rows: readonly IdMapRow[]): Promise<void>;
  /** The rows for these source ids; ids never mapped are absent from the result. */
  getIdMap(
    sourceInstance: string,
    entity: string,
    sourceIds: readonly string[],
  ): Promise<Map<string, IdMapRow>>;
  /**
   * Forgets these source ids' rows (ids never mapped are ignored). Rollback calls it for records it
   * destroyed, so the next run sees them as new instead of `unchanged` against a record that is gone.
   */
  deleteIdMap(sourceInstance: string, entity: string, sourceIds: readonly string[]): Promise<void>;
  /** Every row of one entity's id map, in source id order. */
  scanIdMap(sourceInstance: string, entity: string): AsyncIterable<IdMapRow>;
}

/**
 * Where the ledger keeps before-images too large for one of its items (DynamoDB caps an item at
 * 400 KB): the work bucket, under the run's audit folder. The core owns the keys; the adapter only
 * stores the pointer it gets back.
 */
export interface BeforeImageStore {
  /** Stores one entry's before-image (JSON text) and returns the key the ledger item points to. */
  put(
    entry: Pick<LedgerEntry, 'runId' | 'phase' | 'entity' | 'sourceId' | 'op'>,
    json: string,
  ): Promise<string>;
  /** The before-image stored under a key `put` returned. */
  get(key: string): Promise<Record<string, unknown>>;
}
