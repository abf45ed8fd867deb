import { applySchema } from './apply-schema/apply-schema.ts';
import { ApplySchemaInputSchema } from './apply-schema/schema.ts';
import { awaitApproval } from './await-approval/await-approval.ts';
import { AwaitApprovalInputSchema } from './await-approval/schema.ts';
import type { TaskDeps } from './deps.ts';
import { failRun } from './fail-run/fail-run.ts';
import { FailRunInputSchema } from './fail-run/schema.ts';
import { taskRunner } from './handler-kit.ts';
import { inventory } from './inventory/inventory.ts';
import { InventoryInputSchema } from './inventory/schema.ts';
import { linkDeltaStage } from './link-delta/link-delta.ts';
import { LinkDeltaInputSchema } from './link-delta/schema.ts';
import { loadChunk } from './load-chunk/load-chunk.ts';
import { LoadChunkInputSchema } from './load-chunk/schema.ts';
import { prepare } from './prepare/prepare.ts';
import { PrepareInputSchema } from './prepare/schema.ts';
import { propagateDeletesStage } from './propagate-deletes/propagate-deletes.ts';
import { PropagateDeletesInputSchema } from './propagate-deletes/schema.ts';
import { reconcile } from './reconcile/reconcile.ts';
import { ReconcileInputSchema } from './reconcile/schema.ts';
import { resolveOwnersStage } from './resolve-owners/resolve-owners.ts';
import { ResolveOwnersInputSchema } from './resolve-owners/schema.ts';
import { rollback } from './rollback/rollback.ts';
import { ROLLBACK_TIMEOUT_SECONDS, RollbackInputSchema } from './rollback/schema.ts';
import { sampleLoad } from './sample-load/sample-load.ts';
import { SampleLoadInputSchema } from './sample-load/schema.ts';
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

/** What writing records takes (LoadChunk, and SampleLoad through it): attachments from the drop bucket, counters, ledger, tokens. */
const LOADS_RECORDS: TaskAccess = {
  drop: 'read',
  work: 'readwrite',
  runs: 'readwrite',
  ledger: 'readwrite',
  rateLimit: true,
  twenty: true,
};

/**
 * An approval gate (`.waitForTaskToken`): every gate shares the await-approval function, which
 * records the task token on the run and the request in the work bucket.
 */
function approvalGate(stateName: string): TaskEntry {
  return {
    stateName,
    functionId: 'await-approval',
    handlerEntry: 'lambdas/tasks/await-approval/handler.ts',
    access: { work: 'readwrite', runs: 'readwrite' },
    timeoutSeconds: 30,
    memoryMb: 256,
    run: taskRunner(stateName, AwaitApprovalInputSchema, awaitApproval),
  };
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
    // Takes the folder lock and creates the run record; reads the target's metadata and unique keys.
    access: { drop: 'read', work: 'readwrite', runs: 'readwrite', twenty: true, rateLimit: true },
    timeoutSeconds: 900,
    memoryMb: 1024,
    run: taskRunner('Inventory', InventoryInputSchema, inventory),
  },
  approvalGate('AwaitPlanApproval'),
  {
    stateName: 'Segment',
    functionId: 'segment',
    handlerEntry: 'lambdas/tasks/segment/handler.ts',
    access: { drop: 'read', work: 'readwrite' },
    timeoutSeconds: 900,
    memoryMb: 1769,
    run: taskRunner('Segment', SegmentInputSchema, segment),
  },
  {
    stateName: 'ApplySchema',
    functionId: 'apply-schema',
    handlerEntry: 'lambdas/tasks/apply-schema/handler.ts',
    // Reads Segment chunks for select values seen; records what it created in the ledger.
    access: { work: 'readwrite', ledger: 'readwrite', twenty: true, rateLimit: true },
    timeoutSeconds: 900,
    memoryMb: 1024,
    run: taskRunner('ApplySchema', ApplySchemaInputSchema, applySchema),
  },
  {
    stateName: 'ResolveOwners',
    functionId: 'resolve-owners',
    handlerEntry: 'lambdas/tasks/resolve-owners/handler.ts',
    access: { work: 'readwrite', twenty: true, rateLimit: true },
    timeoutSeconds: 900,
    memoryMb: 1024,
    run: taskRunner('ResolveOwners', ResolveOwnersInputSchema, resolveOwnersStage),
  },
  {
    stateName: 'Prepare',
    functionId: 'prepare',
    handlerEntry: 'lambdas/tasks/prepare/handler.ts',
    // Pure S3 in, S3 out: it never calls Twenty (target-model.json and merge candidates are inputs).
    access: { drop: 'read', work: 'readwrite' },
    timeoutSeconds: 900,
    memoryMb: 1769,
    run: taskRunner('Prepare', PrepareInputSchema, prepare),
  },
  {
    stateName: 'LoadChunk',
    functionId: 'load-chunk',
    handlerEntry: 'lambdas/tasks/load-chunk/handler.ts',
    // Attachments come from the drop bucket; counters go to the run record; every request takes a token.
    access: LOADS_RECORDS,
    timeoutSeconds: 900,
    memoryMb: 1024,
    run: taskRunner('LoadChunk', LoadChunkInputSchema, loadChunk),
  },
  {
    stateName: 'SampleLoad',
    functionId: 'sample-load',
    handlerEntry: 'lambdas/tasks/sample-load/handler.ts',
    // Loads the sample through LoadChunk's code (same grants), reads it back, writes the sample diff.
    access: LOADS_RECORDS,
    timeoutSeconds: 900,
    memoryMb: 1024,
    run: taskRunner('SampleLoad', SampleLoadInputSchema, sampleLoad),
  },
  approvalGate('AwaitSampleApproval'),
  {
    stateName: 'LinkDelta',
    functionId: 'link-delta',
    handlerEntry: 'lambdas/tasks/link-delta/handler.ts',
    // Reads the base run's record and Prepare stats; writes the delta's link and the base's marker.
    access: { work: 'readwrite', runs: 'read' },
    timeoutSeconds: 60,
    memoryMb: 256,
    run: taskRunner('LinkDelta', LinkDeltaInputSchema, linkDeltaStage),
  },
  {
    stateName: 'PropagateDeletes',
    functionId: 'propagate-deletes',
    handlerEntry: 'lambdas/tasks/propagate-deletes/handler.ts',
    // Reads the delta's chunks and the family's ledger; appends `deleted` entries with before-images,
    // deletes from Twenty (through the token bucket) and edits the id map; writes deletes.json.
    access: { work: 'readwrite', ledger: 'readwrite', rateLimit: true, twenty: true },
    timeoutSeconds: 900,
    memoryMb: 1024,
    run: taskRunner('PropagateDeletes', PropagateDeletesInputSchema, propagateDeletesStage),
  },
  {
    stateName: 'Reconcile',
    functionId: 'reconcile',
    handlerEntry: 'lambdas/tasks/reconcile/handler.ts',
    // Reads back what was written (findMany by id) and closes the run (status, lock).
    // Reads JSON automation exports in the drop folder for the rebuild reference.
    access: {
      drop: 'read',
      work: 'readwrite',
      runs: 'readwrite',
      ledger: 'read',
      rateLimit: true,
      twenty: true,
    },
    timeoutSeconds: 900,
    memoryMb: 1024,
    run: taskRunner('Reconcile', ReconcileInputSchema, reconcile),
  },
  {
    stateName: 'Rollback',
    functionId: 'rollback',
    handlerEntry: 'lambdas/tasks/rollback/handler.ts',
    // Reads the run's mapped chunks, writes rollback.json; takes the run lock; walks and appends to the
    // ledger and edits the id map; every Twenty request (delete-many, PATCH, read-back) takes a token.
    // Time-boxed: a tick ends before this timeout and the machine's loop calls it again.
    access: { work: 'readwrite', runs: 'readwrite', ledger: 'readwrite', rateLimit: true, twenty: true },
    timeoutSeconds: ROLLBACK_TIMEOUT_SECONDS,
    memoryMb: 1024,
    run: taskRunner('Rollback', RollbackInputSchema, rollback),
  },
  {
    stateName: 'FailRun',
    functionId: 'fail-run',
    handlerEntry: 'lambdas/tasks/fail-run/handler.ts',
    access: { runs: 'readwrite' },
    timeoutSeconds: 60,
    memoryMb: 256,
    run: taskRunner('FailRun', FailRunInputSchema, failRun),
  },
];

/** The entry for a Task state; throws naming the state when the registry has none. */
export function taskByState(stateName: string): TaskEntry {
  const entry = taskRegistry.find((task) => task.stateName === stateName);
  if (!entry) throw new Error(`task registry has no entry for ASL Task state ${stateName}`);
  return entry;
}
