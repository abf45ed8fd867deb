export type { RequestGate } from './twenty.ts';

/**
 * The shared state of one workspace's bucket, as stored (one DynamoDB item per workspace).
 * `tokens` may be negative: those are slots already reserved by loaders waiting for them.
 */
export interface BucketState {
  /** Tokens per window, same order as the policy's windows. */
  readonly tokens: readonly number[];
  /** The instant `tokens` is valid for; in the future while a Retry-After block lasts. */
  readonly at: number;
  /** Effective rate as a fraction of the configured rate (1 = configured). */
  readonly factor: number;
  /** Recovery has been applied up to this instant. */
  readonly factorAt: number;
  readonly blockedUntil: number;
  readonly lastDecreaseAt: number;
}

/** A bucket state with the version its conditional write is checked against. */
export interface VersionedBucket {
  readonly state: BucketState;
  readonly version: number;
}

/**
 * Where the shared token buckets live. DynamoDB in both runtimes (the `RateLimit` table); memory in
 * unit tests. Only optimistic concurrency is required: a versioned read and a conditional write,
 * because the local DynamoDB has no transactions.
 */
export interface RateLimitStore {
  /** The bucket of a workspace, or undefined when no loader has used it yet. */
  load(workspaceKey: string): Promise<VersionedBucket | undefined>;
  /**
   * Writes `state` as version `expectedVersion + 1` (or version 1 when `expectedVersion` is
   * undefined and the bucket does not exist). False when another loader wrote first.
   */
  save(workspaceKey: string, state: BucketState, expectedVersion: number | undefined): Promise<boolean>;
  /** What the workspace announced about itself (its batch cap), kept beside its bucket; {} when nothing yet. */
  loadCaps(workspaceKey: string): Promise<WorkspaceCaps>;
  /** Records a cap (the lowest one announced wins). */
  saveCaps(workspaceKey: string, caps: WorkspaceCaps): Promise<void>;
}

/** Limits a Twenty workspace announced in its errors, remembered per workspace. */
export interface WorkspaceCaps {
  /** Records per batch request (Twenty's QUERY_MAX_RECORDS, named in its 400). */
  readonly batchMax?: number;
}
