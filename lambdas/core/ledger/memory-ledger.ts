import type { EntriesForRunOptions, Ledger } from '../../ports/ledger.ts';
import {
  type IdMapRow,
  idMapPartitionKey,
  keyPart,
  type LedgerEntry,
  ledgerSortKey,
  parseIdMapRows,
  parseLedgerEntries,
  runPartitionKey,
} from './entry.ts';

/**
 * The Ledger port in memory, with the DynamoDB adapter's key order and overwrite semantics, so unit
 * tests of loading, delta and rollback see what production would.
 */
export class MemoryLedger implements Ledger {
  readonly #items = new Map<string, Map<string, LedgerEntry>>();
  readonly #idMaps = new Map<string, Map<string, IdMapRow>>();

  async appendMany(entries: readonly LedgerEntry[]): Promise<void> {
    for (const entry of parseLedgerEntries(entries)) {
      const pk = runPartitionKey(entry.runId);
      const run = this.#items.get(pk) ?? new Map<string, LedgerEntry>();
      run.set(ledgerSortKey(entry), structuredClone(entry));
      this.#items.set(pk, run);
    }
  }

  async *entriesForRun(runId: string, options: EntriesForRunOptions = {}): AsyncIterable<LedgerEntry> {
    const run = this.#items.get(runPartitionKey(runId)) ?? new Map<string, LedgerEntry>();
    const prefix = options.phase === undefined ? '' : `${keyPart(options.phase)}#`;
    const keys = [...run.keys()].filter((k) => k.startsWith(prefix)).sort(byCodeUnit);
    if (options.reverse === true) keys.reverse();
    for (const key of keys) yield structuredClone(run.get(key)!);
  }

  async putIdMap(sourceInstance: string, entity: string, rows: readonly IdMapRow[]): Promise<void> {
    const pk = idMapPartitionKey(sourceInstance, entity);
    const map = this.#idMaps.get(pk) ?? new Map<string, IdMapRow>();
    for (const row of parseIdMapRows(rows)) map.set(row.sourceId, { ...row });
    this.#idMaps.set(pk, map);
  }

  async getIdMap(
    sourceInstance: string,
    entity: string,
    sourceIds: readonly string[],
  ): Promise<Map<string, IdMapRow>> {
    const map = this.#idMaps.get(idMapPartitionKey(sourceInstance, entity));
    const found = new Map<string, IdMapRow>();
    for (const id of sourceIds) {
      const row = map?.get(id);
      if (row !== undefined) found.set(id, { ...row });
    }
    return found;
  }

  async deleteIdMap(sourceInstance: string, entity: string, sourceIds: readonly string[]): Promise<void> {
    const map = this.#idMaps.get(idMapPartitionKey(sourceInstance, entity));
    for (const id of sourceIds) map?.delete(id);
  }

  async *scanIdMap(sourceInstance: string, entity: string): AsyncIterable<IdMapRow> {
    const map = this.#idMaps.get(idMapPartitionKey(sourceInstance, entity)) ?? new Map<string, IdMapRow>();
    for (const key of [...map.keys()].sort(byCodeUnit)) yield { ...map.get(key)! };
  }
}

/** DynamoDB orders string sort keys by UTF-8 bytes; code-unit order matches it for BMP text. */
function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
