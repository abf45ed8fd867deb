/** Where a run is in its life; `ferry status` shows it. */
export type RunStatus =
  | 'running'
  | 'awaiting-approval'
  | 'succeeded'
  | 'failed'
  | 'rolling-back'
  | 'rolled-back'
  | 'cancelled';

/** Ids, stages, counts and hashes only: a run record never holds a record or a field value (PHI). */
export interface RunRecord {
  readonly runId: string;
  /** The drop folder, e.g. `drop/acme/`. */
  readonly folder: string;
  /** Source system id (e.g. `apms`, `pbn`), or `unknown` before detection. */
  readonly source: string;
  /** ISO-8601. */
  readonly startedAt: string;
  readonly updatedAt: string;
  readonly status: RunStatus;
  /** Last ASL state the run reported, e.g. `LoadPhases`. */
  readonly stage?: string;
  readonly planHash?: string;
  /** Error name/code of a failed run (never a message with values). */
  readonly error?: string;
  readonly finishedAt?: string;
  /** Per-counter totals (loaded, rejected, skipped, …), summed across concurrent loaders. */
  readonly counters: Readonly<Record<string, number>>;
  /** Approval task tokens by stage (`plan`, `sample`), for `ferry approve` / SendTaskSuccess. */
  readonly taskTokens: Readonly<Record<string, string>>;
}

export interface NewRun {
  readonly runId: string;
  readonly folder: string;
  readonly source: string;
  readonly startedAt: string;
}

export type RunPatch = Partial<
  Pick<RunRecord, 'status' | 'stage' | 'planHash' | 'error' | 'finishedAt' | 'source'>
>;

/** Who holds a drop folder's lock, until when. */
export interface RunLock {
  readonly folder: string;
  readonly runId: string;
  readonly expiresAt: number;
}

/**
 * Run records and folder locks (DynamoDB `Runs` table). Counters are atomic increments so that
 * every concurrent LoadChunk can add its own counts without reading first.
 */
export interface RunStore {
  /** Creates the run; idempotent for a retried Inventory (returns the existing record). */
  createRun(run: NewRun): Promise<RunRecord>;
  getRun(runId: string): Promise<RunRecord | undefined>;
  /** Most recent first. */
  listRuns(options?: { limit?: number }): Promise<RunRecord[]>;
  /** Throws NotFoundError when the run does not exist. */
  updateRun(runId: string, patch: RunPatch): Promise<void>;
  /** Adds to the run's counters atomically (DynamoDB ADD); negative amounts subtract. */
  addCounters(runId: string, counters: Readonly<Record<string, number>>): Promise<void>;
  recordTaskToken(runId: string, stage: string, token: string): Promise<void>;
  /**
   * Takes the folder's lock for `ttlMs`. Re-entrant for the same run (renews the expiry); takes over a
   * lock whose holder let it expire; otherwise throws RunLockedError naming the holding run.
   */
  acquireLock(folder: string, runId: string, ttlMs: number): Promise<RunLock>;
  /** Releases the lock if this run holds it; a no-op otherwise. */
  releaseLock(folder: string, runId: string): Promise<void>;
}
