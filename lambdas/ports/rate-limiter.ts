import type { BucketState } from '../core/rate-limit/token-bucket.ts';

export type { RequestGate } from './twenty.ts';

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
}
