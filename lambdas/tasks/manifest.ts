/**
 * The task manifest: every ASL Task state as data (state name, function id, handler path, access,
 * timeout, memory), with no import of task code. CDK (`bin/app.ts`, `lib/infra`) builds the functions,
 * their grants and the definition substitutions from it; `registry.ts` joins it with the runnable
 * map (state → core) for the local runner. Adding a Task state adds one entry here.
 */

/** The Rollback function's timeout: its tick leaves {@link ROLLBACK_TIMEOUT_SECONDS} minus a margin. */
export const ROLLBACK_TIMEOUT_SECONDS = 900;

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
 * One ASL Task state as CDK deploys it: its function, what it may touch and its sizing. State names
 * are an API: the ASL files, Retry/Catch, CDK's definition substitutions (`${<StateName>FunctionArn}`)
 * and the local runner all key on them.
 */
export interface TaskManifestEntry {
  /** ASL Task state name, e.g. 'Inventory'. */
  readonly stateName: string;
  /** kebab-case Lambda id = folder under lambdas/tasks; several states may share one function. */
  readonly functionId: string;
  /** Repo-relative path of the module exporting `handler`. */
  readonly handlerEntry: string;
  readonly access: TaskAccess;
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
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
function approvalGate(stateName: string): TaskManifestEntry {
  return {
    stateName,
    functionId: 'await-approval',
    handlerEntry: 'lambdas/tasks/await-approval/handler.ts',
    access: { work: 'readwrite', runs: 'readwrite' },
    timeoutSeconds: 30,
    memoryMb: 256,
  };
}

/**
 * Every Task state of every state machine, as data. The registry test fails when an ASL Task state has
 * no entry here or an entry matches no state, so the AWS and local runtimes cannot drift apart.
 */
export const taskManifest: readonly TaskManifestEntry[] = [
  {
    stateName: 'Inventory',
    functionId: 'inventory',
    handlerEntry: 'lambdas/tasks/inventory/handler.ts',
    // Takes the folder lock and creates the run record; reads the target's metadata and unique keys.
    access: { drop: 'read', work: 'readwrite', runs: 'readwrite', twenty: true, rateLimit: true },
    timeoutSeconds: 900,
    memoryMb: 1024,
  },
  approvalGate('AwaitPlanApproval'),
  {
    stateName: 'Segment',
    functionId: 'segment',
    handlerEntry: 'lambdas/tasks/segment/handler.ts',
    access: { drop: 'read', work: 'readwrite' },
    timeoutSeconds: 900,
    memoryMb: 1769,
  },
  {
    stateName: 'ApplySchema',
    functionId: 'apply-schema',
    handlerEntry: 'lambdas/tasks/apply-schema/handler.ts',
    // Reads Segment chunks for select values seen; records what it created in the ledger.
    access: { work: 'readwrite', ledger: 'readwrite', twenty: true, rateLimit: true },
    timeoutSeconds: 900,
    memoryMb: 1024,
  },
  {
    stateName: 'ResolveOwners',
    functionId: 'resolve-owners',
    handlerEntry: 'lambdas/tasks/resolve-owners/handler.ts',
    access: { work: 'readwrite', twenty: true, rateLimit: true },
    timeoutSeconds: 900,
    memoryMb: 1024,
  },
  {
    stateName: 'Prepare',
    functionId: 'prepare',
    handlerEntry: 'lambdas/tasks/prepare/handler.ts',
    // S3 in, S3 out: it never calls Twenty (target-model.json and merge candidates are inputs). It
    // reads the id map for an incremental FHIR export (references to records earlier runs loaded).
    access: { drop: 'read', work: 'readwrite', ledger: 'read' },
    timeoutSeconds: 900,
    memoryMb: 1769,
  },
  {
    stateName: 'LoadChunk',
    functionId: 'load-chunk',
    handlerEntry: 'lambdas/tasks/load-chunk/handler.ts',
    // Attachments come from the drop bucket; counters go to the run record; every request takes a token.
    access: LOADS_RECORDS,
    timeoutSeconds: 900,
    memoryMb: 1024,
  },
  {
    stateName: 'SampleLoad',
    functionId: 'sample-load',
    handlerEntry: 'lambdas/tasks/sample-load/handler.ts',
    // Loads the sample through LoadChunk's code (same grants), reads it back, writes the sample diff.
    access: LOADS_RECORDS,
    timeoutSeconds: 900,
    memoryMb: 1024,
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
  },
  {
    stateName: 'PropagateDeletes',
    functionId: 'propagate-deletes',
    handlerEntry: 'lambdas/tasks/propagate-deletes/handler.ts',
    // Reads the delta's chunks and the family's ledger; appends `deleted` entries with before-images,
    // deletes from Twenty (through the token bucket) and edits the id map; writes deletes.json. Reads
    // an incremental FHIR export's `deleted[]` files in the drop folder (only those are missing).
    access: { drop: 'read', work: 'readwrite', ledger: 'readwrite', rateLimit: true, twenty: true },
    timeoutSeconds: 900,
    memoryMb: 1024,
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
  },
  {
    stateName: 'FailRun',
    functionId: 'fail-run',
    handlerEntry: 'lambdas/tasks/fail-run/handler.ts',
    access: { runs: 'readwrite' },
    timeoutSeconds: 60,
    memoryMb: 256,
  },
];
