import type { Ledger } from '../../ports/ledger.ts';
import type { ObjectStore } from '../../ports/object-store.ts';
import type { TwentyApi } from '../../ports/twenty.ts';
import type { LedgerEntry } from '../ledger/entry.ts';
import type { StepJournal } from './tick.ts';

/** Why one record could not be rolled back or verified (the task's `RollbackProblem` codes). */
export type UndoProblemCode =
  | 'NO_MAPPED_RECORD'
  | 'NO_BEFORE_IMAGE'
  | 'GONE_BEFORE_RESTORE'
  | 'STILL_PRESENT'
  | 'NOT_RESTORED';

/** One record's problem: ids and field names, never values (the shape of the task's `RollbackProblem`). */
export interface UndoProblem {
  phase: string;
  entity: string;
  sourceId: string;
  twentyId: string;
  code: UndoProblemCode;
  fields?: string[];
}

/**
 * The part of the rollback cursor the undo and verify steps update: the counters, the records read
 * back, the attachments destroyed (their files go with them) and the problems found. `startedAt` tells this
 * rollback's `destroyed`/`restored` entries from an earlier rollback's.
 */
export interface UndoProgress {
  readonly startedAt: string;
  readonly counts: {
    destroyed: number;
    restored: number;
    undeleted: number;
    recreated: number;
    alreadyGone: number;
    skipped: number;
  };
  verifiedRecords: number;
  /** Attachments destroyed: Twenty deletes each one's stored file with it (FileDeletionJob). */
  filesDeleted: number;
  readonly problems: UndoProblem[];
}

/** What the undo and verify steps work with during one tick. */
export interface UndoContext {
  readonly runId: string;
  readonly work: ObjectStore;
  readonly ledger: Ledger;
  readonly twenty: TwentyApi;
  /** The `at` stamped on a `destroyed`/`restored` entry (ISO-8601), read once per entry. */
  readonly at: () => string;
  /** Called before a Twenty request is started; throws when the tick's deadline has passed. */
  readonly beforeRequest: () => void;
  /** Called once a request has been sent (the tick has advanced). */
  readonly onProgress: () => void;
  /** Frames each step that writes, so the counters stay exact across a kill. */
  readonly journal: StepJournal;
}

/** The id a step names in the journal: the record's Twenty id, lower-case. */
export function stepId(entry: LedgerEntry): string {
  return entry.twentyId.toLowerCase();
}

export function problemOf(entry: LedgerEntry, code: UndoProblemCode, fields?: string[]): UndoProblem {
  return {
    phase: entry.phase,
    entity: entry.entity,
    sourceId: entry.sourceId,
    twentyId: entry.twentyId,
    code,
    ...(fields ? { fields } : {}),
  };
}
