import type { MemoryObjectStore } from '../../lambdas/adapters/memory-object-store.ts';
import { MemoryLedger } from '../../lambdas/core/ledger/memory-ledger.ts';
import { MemoryRunStore } from '../../lambdas/core/ledger/memory-run-store.ts';
import type { Clock } from '../../lambdas/ports/clock.ts';
import { type Log, silentLog } from '../../lambdas/ports/log.ts';
import { NO_TWENTY_TARGET, type TaskDeps } from '../../lambdas/tasks/deps.ts';

/**
 * TaskDeps for a stage test over memory stores: a memory run store and ledger, and no Twenty target
 * (a stage that calls Twenty fails naming it; pass `{ ...deps, twenty }` to give it one).
 */
export function memoryDeps(
  drop: MemoryObjectStore,
  work: MemoryObjectStore,
  clock: Clock,
  log: Log = silentLog,
): TaskDeps & { drop: MemoryObjectStore; work: MemoryObjectStore } {
  return {
    drop,
    work,
    clock,
    log,
    runStore: new MemoryRunStore(clock),
    ledger: new MemoryLedger(),
    twenty: NO_TWENTY_TARGET,
  };
}
