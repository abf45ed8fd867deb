import type { TaskAccess, TaskManifestEntry } from '../../lambdas/tasks/manifest.ts';

/**
 * The task manifest entry the infrastructure reads (`lambdas/tasks/manifest.ts`, data only): `lib/infra`
 * depends on the manifest's shape, not on the task code, and tests can build the stack from a
 * small table of their own.
 */
export type StageTaskAccess = TaskAccess;

export type StageTask = Pick<
  TaskManifestEntry,
  'stateName' | 'functionId' | 'handlerEntry' | 'access' | 'timeoutSeconds' | 'memoryMb'
>;

/** One Lambda function: the states sharing a `functionId`, with their access merged. */
export interface StageFunctionSpec {
  readonly functionId: string;
  readonly handlerEntry: string;
  readonly stateNames: readonly string[];
  readonly access: StageTaskAccess;
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
}

function widest(a: 'read' | 'readwrite' | undefined, b: 'read' | 'readwrite' | undefined) {
  if (a === 'readwrite' || b === 'readwrite') return 'readwrite';
  return a ?? b;
}

/**
 * Groups registry entries into functions. Several states may share one function (contract (1)):
 * the function then gets the union of their access and the largest timeout and memory. Throws
 * when two states sharing a function disagree on its handler, since one function has one bundle.
 */
export function groupStageFunctions(tasks: readonly StageTask[]): StageFunctionSpec[] {
  const byId = new Map<string, StageFunctionSpec>();
  for (const task of tasks) {
    if (!/^[a-z][a-z0-9-]*$/.test(task.functionId)) {
      throw new Error(`task registry: functionId of state ${task.stateName} must be kebab-case`);
    }
    const seen = byId.get(task.functionId);
    if (seen === undefined) {
      byId.set(task.functionId, {
        functionId: task.functionId,
        handlerEntry: task.handlerEntry,
        stateNames: [task.stateName],
        access: { ...task.access },
        timeoutSeconds: task.timeoutSeconds,
        memoryMb: task.memoryMb,
      });
      continue;
    }
    if (seen.handlerEntry !== task.handlerEntry) {
      throw new Error(`task registry: states of function ${task.functionId} must share one handlerEntry`);
    }
    const a = seen.access;
    const b = task.access;
    byId.set(task.functionId, {
      ...seen,
      stateNames: [...seen.stateNames, task.stateName],
      access: {
        drop: widest(a.drop, b.drop),
        work: widest(a.work, b.work),
        runs: widest(a.runs, b.runs),
        ledger: widest(a.ledger, b.ledger),
        rateLimit: Boolean(a.rateLimit || b.rateLimit),
        twenty: Boolean(a.twenty || b.twenty),
        sendTaskResult: Boolean(a.sendTaskResult || b.sendTaskResult),
      },
      timeoutSeconds: Math.max(seen.timeoutSeconds, task.timeoutSeconds),
      memoryMb: Math.max(seen.memoryMb, task.memoryMb),
    });
  }
  return [...byId.values()];
}

/** PascalCase construct id for a kebab-case function id (`load-chunk` → `LoadChunk`). */
export function constructIdOf(functionId: string): string {
  return functionId
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}
