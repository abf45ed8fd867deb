import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoRateLimitStore } from '../adapters/dynamo-rate-limiter.ts';
import { parseRate, type RateSpec } from '../core/rate-limit/rate-spec.ts';
import { SharedBucketGate } from '../core/rate-limit/shared-bucket-gate.ts';
import { type BucketTuning, bucketPolicy } from '../core/rate-limit/token-bucket.ts';
import { workspaceKey } from '../core/rate-limit/workspace-key.ts';
import { type Clock, systemClock } from '../ports/clock.ts';
import type { Log } from '../ports/log.ts';

export interface DynamoRateLimiterOptions {
  readonly client: DynamoDBClient;
  /** The RateLimit table (FERRY_RATE_LIMIT_TABLE). */
  readonly tableName: string;
  /** The Twenty base URL: hashed into the bucket key so every loader of a workspace shares it. */
  readonly twentyUrl: string;
  /** A preset name, an `N/<duration>` spec (FERRY_RATE_PRESET / `--rate`), or a parsed spec. */
  readonly rate: string | RateSpec;
  readonly clock?: Clock;
  readonly log?: Log;
  readonly tuning?: BucketTuning;
  readonly random?: () => number;
}

/**
 * The RequestGate a loader hands to the Twenty client, in AWS and locally alike: one shared
 * DynamoDB token bucket per Twenty workspace.
 */
export function createDynamoRateLimiter(options: DynamoRateLimiterOptions): SharedBucketGate {
  const spec = typeof options.rate === 'string' ? parseRate(options.rate) : options.rate;
  return new SharedBucketGate({
    store: new DynamoRateLimitStore(options.client, options.tableName),
    workspaceKey: workspaceKey(options.twentyUrl),
    policy: bucketPolicy(spec, options.tuning),
    clock: options.clock ?? systemClock,
    ...(options.log === undefined ? {} : { log: options.log }),
    ...(options.random === undefined ? {} : { random: options.random }),
  });
}
