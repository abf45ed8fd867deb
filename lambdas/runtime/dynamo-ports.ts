import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoLedger } from '../adapters/dynamo-ledger.ts';
import { DynamoRunStore } from '../adapters/dynamo-run-store.ts';
import { workBucketBeforeImages } from '../core/ledger/before-image-store.ts';
import type { RateSpec } from '../core/rate-limit/rate-spec.ts';
import type { SharedBucketGate } from '../core/rate-limit/shared-bucket-gate.ts';
import type { BucketTuning } from '../core/rate-limit/token-bucket.ts';
import { type Clock, systemClock } from '../ports/clock.ts';
import type { Ledger } from '../ports/ledger.ts';
import type { Log } from '../ports/log.ts';
import type { ObjectStore } from '../ports/object-store.ts';
import type { RunStore } from '../ports/run-store.ts';
import { createDynamoRateLimiter } from './rate-limiter.ts';

export interface DynamoPortsOptions {
  readonly client: DynamoDBClient;
  /** Table names: FERRY_RUNS_TABLE / FERRY_LEDGER_TABLE / FERRY_RATE_LIMIT_TABLE, or the embedded server's. */
  readonly tables: { readonly runs: string; readonly ledger: string; readonly rateLimit: string };
  /** Work bucket, where oversized before-images go. */
  readonly work: ObjectStore;
  readonly clock?: Clock;
  readonly log?: Log;
}

export interface DynamoPorts {
  readonly ledger: Ledger;
  readonly runStore: RunStore;
  /** The shared bucket of the workspace at `twentyUrl` (one gate per loader process). */
  rateLimiter(twentyUrl: string, rate: string | RateSpec, tuning?: BucketTuning): SharedBucketGate;
}

/**
 * The three DynamoDB-backed ports from one client, so the Lambda deps builder and the local runtime
 * wire them identically (only the endpoint and table names differ).
 */
export function createDynamoPorts(options: DynamoPortsOptions): DynamoPorts {
  const clock = options.clock ?? systemClock;
  return {
    ledger: new DynamoLedger({
      client: options.client,
      tableName: options.tables.ledger,
      beforeImages: workBucketBeforeImages(options.work),
      clock,
    }),
    runStore: new DynamoRunStore({ client: options.client, tableName: options.tables.runs, clock }),
    rateLimiter: (twentyUrl, rate, tuning) =>
      createDynamoRateLimiter({
        client: options.client,
        tableName: options.tables.rateLimit,
        twentyUrl,
        rate,
        clock,
        ...(options.log === undefined ? {} : { log: options.log }),
        ...(tuning === undefined ? {} : { tuning }),
      }),
  };
}
