import type { Ledger, LedgerEntry } from '../../ports/ledger.ts';
import { SCHEMA_LEDGER_PHASE } from '../schema/apply.ts';

/**
 * From the ledger, at the end, over the runs rolled back (a run and its deltas): records an earlier,
 * finished rollback had already undone (their `destroyed`/`restored` entry predates this rollback),
 * and the schema items the runs created that are still in place (not removed by `--schema`).
 */
export async function tally(
  runs: readonly string[],
  ledger: Ledger,
  startedAt: string,
): Promise<{ skipped: number; schemaItems: number }> {
  let skipped = 0;
  let schemaItems = 0;
  const key = (entry: LedgerEntry) => `${entry.entity}\u0000${entry.sourceId}`;
  for (const runId of runs) {
    const created = new Set<string>();
    const removed = new Set<string>();
    for await (const entry of ledger.entriesForRun(runId)) {
      if (entry.op === 'schema-created') created.add(key(entry));
      else if (entry.phase === SCHEMA_LEDGER_PHASE) {
        if (entry.op === 'destroyed') removed.add(key(entry));
      } else if ((entry.op === 'destroyed' || entry.op === 'restored') && entry.at < startedAt) skipped++;
    }
    for (const item of created) if (!removed.has(item)) schemaItems++;
  }
  return { skipped, schemaItems };
}
