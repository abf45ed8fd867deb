import type { Ledger } from '../../ports/ledger.ts';
import type { IdMapRow, LedgerEntry } from '../ledger/entry.ts';
import type { LoadPhase } from './format.ts';
import type { Pending } from './plan-writes.ts';

/** Which run, phase and entity the written records belong to, and when they were written. */
export interface WriteContext {
  readonly runId: string;
  readonly phase: LoadPhase;
  readonly sourceInstance: string;
  readonly entity: string;
  /** ISO time of the write, the ledger entries' `at` and the id map rows' `writtenAt`. */
  readonly at: string;
}

/** One ledger entry per written record: its op, content hash and before-image (if it had one). */
export function ledgerEntries(written: readonly Pending[], ctx: WriteContext): LedgerEntry[] {
  return written.map((item) => ({
    runId: ctx.runId,
    phase: ctx.phase,
    entity: ctx.entity,
    sourceId: item.line.sourceId,
    twentyId: item.line.id,
    op: item.op,
    contentHash: item.line.contentHash,
    ...(item.beforeImage ? { beforeImage: item.beforeImage } : {}),
    at: ctx.at,
  }));
}

/** One id map row per written record: its Twenty id, content hash, this run and `writtenAt`. */
export function idMapRows(written: readonly Pending[], ctx: WriteContext): IdMapRow[] {
  return written.map((item) => ({
    sourceId: item.line.sourceId,
    twentyId: item.line.id,
    contentHash: item.line.contentHash,
    runId: ctx.runId,
    writtenAt: ctx.at,
  }));
}

/**
 * Audit trail, then the id map: a retry that finds the id map written knows the ledger is too.
 * Nothing is sent for an empty list.
 */
export async function recordWrites(
  ledger: Ledger,
  written: readonly Pending[],
  ctx: WriteContext,
): Promise<void> {
  const entries = ledgerEntries(written, ctx);
  if (entries.length > 0) await ledger.appendMany(entries);
  const rows = idMapRows(written, ctx);
  if (rows.length > 0) await ledger.putIdMap(ctx.sourceInstance, ctx.entity, rows);
}
