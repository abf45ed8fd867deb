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
 * Later stages add their ports here (ledger, run store, rate limiter, Twenty client).
 */
export interface TaskDeps {
  readonly drop: ObjectStore;
  readonly work: ObjectStore;
  readonly clock: Clock;
  readonly log: Log;
  /** Runs table (run records, approval task tokens, folder locks); optional until every builder wires it. */
  readonly runStore?: RunStore;
  /** Ledger table: audit entries and the source→Twenty id map. */
  readonly ledger?: Ledger;
  /**
   * The run's Twenty workspace, with the shared rate-limit gate already attached. A factory because
   * the API key is read at run time (Secrets Manager in AWS, the CLI locally) and only by stages that write.
   */
  readonly twenty?: () => Promise<TwentyApi>;
  /**
   * When this invocation should hand back a continuation (epoch ms): Lambda's remaining time minus a
   * margin, locally the runner's tick budget. Absent = no time box (unit tests, one-shot calls).
   */
  readonly deadlineAt?: number;
}

/** The optional port a stage needs, or a ConfigError naming it (a wiring bug, not bad input). */
export function requireDep<K extends keyof TaskDeps>(deps: TaskDeps, key: K): NonNullable<TaskDeps[K]> {
  const value = deps[key];
  if (value === undefined || value === null) {
    throw new ConfigError(`this stage needs the ${String(key)} port, which the runtime did not provide`);
  }
  return value as NonNullable<TaskDeps[K]>;
}
