import { ConfigError } from '../core/errors.ts';
import type { Clock } from '../ports/clock.ts';
import type { Ledger } from '../ports/ledger.ts';
import type { Log } from '../ports/log.ts';
import type { ObjectStore } from '../ports/object-store.ts';
import type { RunStore } from '../ports/run-store.ts';
import type { TwentyApi } from '../ports/twenty.ts';

/**
 * What a Task's core receives. The Lambda handler builds it from the environment (S3, DynamoDB,
 * Secrets Manager); the local runtime builds it from the embedded servers; unit tests from fakes.
 */
export interface TaskDeps {
  readonly drop: ObjectStore;
  readonly work: ObjectStore;
  readonly clock: Clock;
  readonly log: Log;
  /** Runs table (run records, approval task tokens, folder locks). */
  readonly runStore: RunStore;
  /** Ledger table: audit entries and the source→Twenty id map. */
  readonly ledger: Ledger;
  /**
   * The run's Twenty workspace, with the shared rate-limit gate already attached. A factory because
   * the API key is read at run time (Secrets Manager in AWS, the CLI locally) and only by stages that write.
   */
  readonly twenty: () => Promise<TwentyApi>;
  /**
   * When this invocation should hand back a continuation (epoch ms): Lambda's remaining time minus a
   * margin, locally the runner's tick budget. Absent = no time box (unit tests, one-shot calls).
   */
  readonly deadlineAt?: number;
}

/**
 * The Twenty factory of a runtime that has no Twenty target (`ferry plan` without `--twenty-url`):
 * Inventory then plans without the schema diff and merge candidates, and any stage that calls it
 * fails with a ConfigError naming what is missing.
 */
export const NO_TWENTY_TARGET: TaskDeps['twenty'] = async () => {
  throw new ConfigError('this stage needs a Twenty target, and the runtime was started without one');
};

/** Whether the runtime names a Twenty target (every deployed stage does; `ferry plan` may not). */
export function hasTwentyTarget(deps: TaskDeps): boolean {
  return deps.twenty !== NO_TWENTY_TARGET;
}
