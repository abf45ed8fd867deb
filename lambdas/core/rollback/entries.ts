import { z } from 'zod';
import type { Ledger } from '../../ports/ledger.ts';
import type { ObjectStore } from '../../ports/object-store.ts';
import type { LedgerEntry } from '../ledger/entry.ts';
import { prepareStatsKey, readArtifactIfPresent } from '../run-layout.ts';

/** The one field of Prepare's stats file Rollback reads; the rest of the file is not checked here. */
const SourceInstanceSchema = z.looseObject({ sourceInstance: z.unknown().optional() });

/** The id-map namespace the run wrote under (Prepare's stats file), if the run got that far. */
export async function sourceInstanceOf(work: ObjectStore, runId: string): Promise<string | undefined> {
  const stats = await readArtifactIfPresent(work, prepareStatsKey(runId), SourceInstanceSchema);
  return typeof stats?.sourceInstance === 'string' && stats.sourceInstance !== ''
    ? stats.sourceInstance
    : undefined;
}

/**
 * Groups the run's entries (reverse key order: newest phase first, children before parents) by
 * (phase, entity). Generic over whatever entries the run family wrote; schema entries are not records.
 */
export async function* groups(ledger: Ledger, runId: string): AsyncIterable<LedgerEntry[]> {
  let group: LedgerEntry[] = [];
  for await (const entry of ledger.entriesForRun(runId, { reverse: true })) {
    if (entry.op === 'schema-created') continue;
    const first = group[0];
    if (first && (first.phase !== entry.phase || first.entity !== entry.entity)) {
      yield group;
      group = [];
    }
    group.push(entry);
  }
  if (group.length > 0) yield group;
}

/** The `destroyed`/`restored` entry that marks `entry` undone, stamped `at` (no before-image copied). */
export function undoneEntry(entry: LedgerEntry, op: 'destroyed' | 'restored', at: string): LedgerEntry {
  const { beforeImage: _image, ...rest } = entry;
  return { ...rest, op, at };
}

/**
 * A restored record no longer holds what this run wrote: its id-map row keeps the id but loses the
 * content hash, so the next run treats it as changed (reads a fresh before-image, op `updated`)
 * instead of `unchanged`. Rows a later run wrote are left to that run.
 */
export async function markRestored(
  ledger: Ledger,
  sourceInstance: string,
  entity: string,
  runId: string,
  sourceIds: readonly string[],
): Promise<void> {
  const rows = await ledger.getIdMap(sourceInstance, entity, sourceIds);
  const mine = [...rows.values()]
    .filter((row) => row.runId === runId)
    .map((row) => ({ ...row, contentHash: '' }));
  if (mine.length > 0) await ledger.putIdMap(sourceInstance, entity, mine);
}
