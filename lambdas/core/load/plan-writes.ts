import type { UploadedFile } from '../../ports/twenty.ts';
import type { IdMapRow } from '../ledger/entry.ts';
import { decideLoad } from './decide.ts';
import type { MappedLine } from './format.ts';
import type { IntentOps } from './intent.ts';

/** A record that is written in this invocation, with what the ledger needs about it. */
export interface Pending {
  readonly line: MappedLine;
  op: 'created' | 'updated';
  beforeImage?: Record<string, unknown>;
  /** Decided `updated` now (not by an earlier attempt): its before-image is still to be read. */
  needsImage?: boolean;
  fileColumns?: Record<string, unknown>;
  /** The file this record's attachment points at, once uploaded (by this or an earlier attempt). */
  upload?: UploadedFile;
  /**
   * Twenty accepted it, in this attempt or in an interrupted one (its intent says so): it is not sent
   * again, only its ledger row is written.
   */
  accepted?: boolean;
}

/** A record an earlier attempt of this very chunk already wrote (id map row of this run). */
export interface AlreadyWritten {
  readonly line: MappedLine;
  readonly op: 'created' | 'updated';
}

/** What a slice's records need, decided before anything is sent to Twenty. */
export interface WritePlan {
  readonly pending: Pending[];
  readonly already: AlreadyWritten[];
  readonly unchanged: number;
}

/**
 * Whether a slice's record goes to Twenty in this slice: decided `created`/`updated` now, or written
 * by an interrupted attempt of this very slice (its op is in the slice's intent). Exactly the records
 * {@link planWrites} puts in `pending` or `already`, so a retried attempt counts the same ones.
 */
function sends(line: MappedLine, row: IdMapRow | undefined, earlier: IntentOps, runId: string): boolean {
  if (decideLoad(line, row) !== 'unchanged') return true;
  return row?.runId === runId && earlier.has(line.sourceId);
}

/**
 * How many of `lines` (from a slice's start on) a slice takes so that it sends at most `wanted`
 * records ({@link sends}): it stops right after the `wanted`-th. Records Ferry already wrote with
 * this content (the sample load's, an earlier run's) ride along without filling the batch, so a
 * slice's batch is a full one wherever such records sit in the chunk. The same id map rows and
 * intent give the same cut, so a retried slice covers the same lines as its interrupted attempt.
 */
export function sliceExtent(
  lines: readonly MappedLine[],
  idMap: ReadonlyMap<string, IdMapRow>,
  earlier: IntentOps,
  runId: string,
  wanted: number,
): { readonly taken: number; readonly sent: number } {
  let taken = 0;
  let sent = 0;
  for (const line of lines) {
    if (sent >= wanted) break;
    taken++;
    if (sends(line, idMap.get(line.sourceId), earlier, runId)) sent++;
  }
  return { taken, sent };
}

/**
 * Per record of a slice, from its id map row ({@link decideLoad}) and the intent an earlier attempt
 * of this slice saved: unchanged; already written by that attempt (its op is reported again);
 * accepted by Twenty in that attempt but not in the ledger yet (recorded, not sent again); to be
 * written with the op, before-image and upload that attempt recorded; or to be written as decided
 * now (an `updated` one still needs its before-image).
 */
export function planWrites(
  lines: readonly MappedLine[],
  idMap: ReadonlyMap<string, IdMapRow>,
  earlier: IntentOps,
  runId: string,
): WritePlan {
  let unchanged = 0;
  const pending: Pending[] = [];
  const already: AlreadyWritten[] = [];
  for (const line of lines) {
    const row = idMap.get(line.sourceId);
    const decision = decideLoad(line, row);
    const before = earlier.get(line.sourceId);
    if (decision === 'unchanged') {
      // Written by an interrupted attempt of this chunk: report what that attempt did.
      if (row?.runId === runId && before !== undefined) already.push({ line, op: before.op });
      else unchanged++;
    } else if (before !== undefined) {
      pending.push({
        line,
        op: before.op,
        ...(before.beforeImage ? { beforeImage: before.beforeImage } : {}),
        ...(before.upload ? { upload: before.upload } : {}),
        ...(before.accepted ? { accepted: true } : {}),
      });
    } else {
      pending.push({ line, op: decision, needsImage: decision === 'updated' });
    }
  }
  return { pending, already, unchanged };
}
