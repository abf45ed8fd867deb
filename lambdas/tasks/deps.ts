import type { Clock } from '../ports/clock.ts';
import type { Log } from '../ports/log.ts';
import type { ObjectStore } from '../ports/object-store.ts';

/**
 * What a Task's core receives. The Lambda handler builds it from the environment (S3, DynamoDB,
 * Secrets Manager); the local runtime builds it from the embedded servers; unit tests from fakes.
 * Later stages add their ports here (ledger, run store, rate limiter, Twenty client).
 */
export interface TaskDeps {
  readonly drop: ObjectStore;
  readonly work: ObjectStore;
  readonly clock: Clock;
  readonly log: Log;
}
