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
 * Per record of a slice, from its id map row ({@link decideLoad}) and the intent an earlier attempt
 * of this slice saved: unchanged; already written by that attempt (its op is reported again); to be
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
      });
    } else {
      pending.push({ line, op: decision, needsImage: decision === 'updated' });
    }
  }
  return { pending, already, unchanged };
}
