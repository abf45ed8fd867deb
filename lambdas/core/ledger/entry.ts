import { type LedgerEntry, ledgerSortKey } from '../../ports/ledger-entry.ts';
import { beforeImageKey } from '../run-layout.ts';

/**
 * The ledger's entries and id-map rows are the Ledger port's contract (`lambdas/ports/ledger-entry.ts`,
 * which the DynamoDB adapter implements without importing the core); the core imports them from here,
 * with the one key the run layout owns.
 */
export * from '../../ports/ledger-entry.ts';

/** Where a large before-image is stored: under the run's audit folder, one object per entry. */
export function beforeImageObjectKey(
  entry: Pick<LedgerEntry, 'runId' | 'phase' | 'entity' | 'sourceId' | 'op'>,
) {
  return beforeImageKey(entry.runId, ledgerSortKey(entry));
}
