import { awaitApproval } from './await-approval/await-approval.ts';
import { AwaitApprovalInputSchema } from './await-approval/schema.ts';
import type { TaskDeps } from './deps.ts';
import { taskRunner } from './handler-kit.ts';
import { inventory } from './inventory/inventory.ts';
import { InventoryInputSchema } from './inventory/schema.ts';
import { SegmentInputSchema } from './segment/schema.ts';
import { segment } from './segment/segment.ts';

/**
 * What a task may touch. CDK turns it into IAM grants and the environment variables that go with
 * them (least privilege); the local runtime ignores it because every local server is the process's own.
 */
export interface TaskAccess {
  /** Drop bucket (operator exports). */
  readonly drop?: 'read' | 'readwrite';
  /** Work bucket (`runs/<runId>/...`). */
  readonly work?: 'read' | 'readwrite';
  /** Runs table. */
  readonly runs?: 'read' | 'readwrite';
  /** Ledger table. */
  readonly ledger?: 'read' | 'readwrite';
  /** RateLimit table read/write. */
  readonly rateLimit?: boolean;
  /** Reads the Twenty API secret at run time. */
  readonly twenty?: boolean;
  /** states:SendTaskSuccess/Failure. */
  readonly sendTaskResult?: boolean;
}

/**
 * One ASL Task state and the code behind it. State names are an API: the ASL files, Retry/Catch,
 * CDK's definition substitutions (`${<StateName>FunctionArn}`) and the local runner all key on them.
 */
export interface TaskEntry {
  /** ASL Task state name, e.g. 'Inventory'. */
  readonly stateName: string;
  /** kebab-case Lambda id = folder under lambdas/tasks; several states may share one function. */
  readonly functionId: string;
  /** Repo-relative path of the module exporting `handler`. */
  readonly handlerEntry: string;
  readonly access: TaskAccess;
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
  /** In-process call used by the local runner: parses the input with the task's zod schema, calls the core. */
  readonly run: (input: unknown, deps: TaskDeps) => Promise<unknown>;
}

/**
 * Every Task state of every state machine. The registry test fails when an ASL Task state has no
 * entry here or an entry matches no state, so the AWS and local runtimes cannot drift apart.
 */
export const taskRegistry: readonly TaskEntry[] = [
  {
    stateName: 'Inventory',
    functionId: 'inventory',
    handlerEntry: 'lambdas/tasks/inventory/handler.ts',
    access: { drop: 'read', work: 'readwrite' },
    timeoutSeconds: 900,
    memoryMb: 1024,
    run: taskRunner('Inventory', InventoryInputSchema, inventory),
  },
  {
    stateName: 'AwaitPlanApproval',
    functionId: 'await-approval',
    handlerEntry: 'lambdas/tasks/await-approval/handler.ts',
    access: { work: 'readwrite', runs: 'readwrite' },
    timeoutSeconds: 30,
    memoryMb: 256,
    run: taskRunner('AwaitPlanApproval', AwaitApprovalInputSchema, awaitApproval),
  },
  {
    stateName: 'Segment',
    functionId: 'segment',
    handlerEntry: 'lambdas/tasks/segment/handler.ts',
    access: { drop: 'read', work: 'readwrite' },
    timeoutSeconds: 900,
    memoryMb: 1769,
    run: taskRunner('Segment', SegmentInputSchema, segment),
  },
];

/** The entry for a Task state; throws naming the state when the registry has none. */
export function taskByState(stateName: string): TaskEntry {
  const entry = taskRegistry.find((task) => task.stateName === stateName);
  if (!entry) throw new Error(`task registry has no entry for ASL Task state ${stateName}`);
  return entry;
}
