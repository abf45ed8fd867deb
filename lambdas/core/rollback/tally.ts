import type { Ledger } from '../../ports/ledger.ts';

/**
 * From the ledger, at the end: records an earlier, finished rollback had already undone (their
 * `destroyed`/`restored` entry predates this rollback), and the schema items the run created.
 */
export async function tally(
  runId: string,
  ledger: Ledger,
  startedAt: string,
): Promise<{ skipped: number; schemaItems: number }> {
  let skipped = 0;
  let schemaItems = 0;
  for await (const entry of ledger.entriesForRun(runId)) {
    if (entry.op === 'schema-created') schemaItems++;
    else if ((entry.op === 'destroyed' || entry.op === 'restored') && entry.at < startedAt) skipped++;
  }
  return { skipped, schemaItems };
}
