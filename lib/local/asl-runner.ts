import { ExecutionError, StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { z } from 'zod';
import { ConfigError, safeMessage, ValidationError } from '../../lambdas/core/errors.ts';
import { readArtifactIfPresent } from '../../lambdas/core/run-layout.ts';
import type { ObjectStore } from '../../lambdas/ports/object-store.ts';
import { ApprovalStageSchema } from '../../lambdas/tasks/await-approval/schema.ts';
import type { TaskDeps } from '../../lambdas/tasks/deps.ts';
import { LAMBDA_DEADLINE_MARGIN_MS } from '../../lambdas/tasks/handler-kit.ts';
import type { TaskEntry } from '../../lambdas/tasks/registry.ts';
import type { Approver } from './approvals.ts';
import {
  type AslDefinition,
  type AslState,
  placeholdersIn,
  rewriteDistributedMaps,
  substitutePlaceholders,
  walkStates,
} from './asl-definition.ts';

/** One entry of the execution history, reduced to what tests and the CLI need (no payloads: PHI). */
export interface StateTransition {
  readonly type: string;
  readonly state?: string;
  /** Map iteration index, for states inside a Map. */
  readonly index?: number;
  /** Error name for failed/caught/retried events. */
  readonly error?: string;
  readonly at: number;
}

export interface ExecutionResult {
  readonly status: 'SUCCEEDED' | 'FAILED';
  readonly output?: unknown;
  /** For a failed execution: the error name and its safe cause. */
  readonly error?: { readonly name: string; readonly cause: string };
  readonly transitions: readonly StateTransition[];
}

export interface RunAslOptions {
  readonly definition: AslDefinition;
  /** Name of the machine, for the context object (`$$.StateMachine.Name`). */
  readonly machineName: string;
  /** `$$.Execution.Name`: Ferry's runId. */
  readonly executionName: string;
  readonly input: unknown;
  readonly tasks: readonly TaskEntry[];
  readonly deps: TaskDeps;
  readonly approver: Approver;
  /** Retry pause override in ms for every retrying state (tests); absent = the ASL's own intervals. */
  readonly retryIntervalMs?: number;
  /**
   * Time box of one local Task invocation in ms, as `deps.deadlineAt` (Lambda: remaining time minus
   * a margin). Default {@link DEFAULT_LOCAL_TICK_BUDGET_MS}, never more than the task's own timeout
   * minus the same margin Lambda keeps.
   */
  readonly tickBudgetMs?: number;
  /**
   * Where the outputs of the machine's top-level Task states are saved as they complete (keys and
   * counts only, like every state payload). With `resume`, a top-level Task whose output is saved is
   * not run again — the local counterpart of Step Functions' redrive: an interrupted run continues
   * after its last completed stage, and LoadChunk continues its chunks from their saved progress.
   */
  readonly checkpoints?: { readonly store: ObjectStore; readonly prefix: string; readonly resume: boolean };
  /** Called with each transition as it happens (progress display); never given a payload. */
  readonly onTransition?: (transition: StateTransition) => void;
}

/** Local tick length: short enough that progress counters move every half minute, long enough to amortise a tick. */
export const DEFAULT_LOCAL_TICK_BUDGET_MS = 30_000;

const waitForTaskToken = '.waitForTaskToken';
const lambdaInvoke = 'arn:aws:states:::lambda:invoke';

/** The fake-but-valid Lambda ARN a Task's placeholder resolves to locally. */
function localFunctionArn(functionId: string): string {
  return `arn:aws:lambda:us-east-1:000000000000:function:ferry-${functionId}`;
}

/**
 * Values for every placeholder CDK substitutes in AWS: `${<StateName>FunctionArn}` from the task
 * registry and the bucket names from the local stores.
 */
export function localSubstitutions(tasks: readonly TaskEntry[], deps: TaskDeps): Record<string, string> {
  const values: Record<string, string> = {
    WorkBucketName: deps.work.bucket,
    DropBucketName: deps.drop.bucket,
  };
  for (const task of tasks) values[`${task.stateName}FunctionArn`] = localFunctionArn(task.functionId);
  return values;
}

function storeForBucket(deps: TaskDeps, bucket: unknown): ObjectStore {
  if (bucket === deps.work.bucket) return deps.work;
  if (bucket === deps.drop.bucket) return deps.drop;
  throw new ConfigError('an ItemReader names a bucket that is neither the drop nor the work bucket');
}

function payloadOf(resource: string, input: unknown): unknown {
  if (!resource.startsWith(lambdaInvoke)) return input;
  if (typeof input !== 'object' || input === null || !('Payload' in input)) {
    throw new ConfigError(`a ${lambdaInvoke} Task state must pass a Payload`);
  }
  return (input as { Payload: unknown }).Payload;
}

/** The executor's event type (not exported by the package). */
type EventLog = ReturnType<StateMachine['run']>['eventLogs'] extends AsyncGenerator<infer E> ? E : never;

type LocalHandler = (input: unknown) => Promise<unknown>;

/**
 * Builds the executor's Task overrides: each Task state (by name, as aws-local-stepfunctions keys
 * them) calls its registry entry in process; `.waitForTaskToken` states record the request through
 * their task, then wait for the in-process approver, whose decision is the state's output (what
 * SendTaskSuccess carries in AWS); generated ItemReader Tasks read the JSON array from the store.
 */
function taskHandlers(
  definition: AslDefinition,
  readers: ReturnType<typeof rewriteDistributedMaps>['readers'],
  options: RunAslOptions,
): Record<string, LocalHandler> {
  const handlers: Record<string, LocalHandler> = {};
  const byState = new Map(options.tasks.map((task) => [task.stateName, task]));
  for (const reader of readers) {
    handlers[reader.taskName] = async (input) => {
      const { Bucket, Key } = (input ?? {}) as { Bucket?: unknown; Key?: unknown };
      if (typeof Key !== 'string') throw new ConfigError(`the ItemReader of ${reader.mapName} has no Key`);
      const text = await storeForBucket(options.deps, Bucket).getText(Key);
      let items: unknown;
      try {
        items = JSON.parse(text);
      } catch {
        throw new ValidationError(`the item list ${Key} for Map ${reader.mapName} is not valid JSON`);
      }
      if (!Array.isArray(items))
        throw new ValidationError(`the item list ${Key} for Map ${reader.mapName} is not an array`);
      return reader.maxItems === undefined ? items : items.slice(0, reader.maxItems);
    };
  }
  walkStates(definition, (name: string, state: AslState) => {
    if (state.Type !== 'Task' || handlers[name]) return;
    const task = byState.get(name);
    if (!task) throw new ConfigError(`ASL Task state ${name} has no task registry entry`);
    const resource = String(state.Resource ?? '');
    if (resource.endsWith(waitForTaskToken)) {
      handlers[name] = async (input) => {
        const payload = payloadOf(resource, input);
        await task.run(payload, options.deps);
        const stage = ApprovalStageSchema.safeParse((payload as { stage?: unknown }).stage);
        if (!stage.success)
          throw new ConfigError(`approval state ${name} must pass a stage of plan or sample`);
        return options.approver({ runId: options.executionName, stage: stage.data, stateName: name });
      };
      return;
    }
    handlers[name] = (input) => task.run(payloadOf(resource, input), depsForTick(task, options));
  });
  if (options.checkpoints) {
    const { store, prefix, resume } = options.checkpoints;
    // A failure handler (a Catch target such as FailRun) runs again whenever the run fails again.
    const catchTargets = new Set<string>();
    walkStates(definition, (_name, state) => {
      for (const catcher of (state.Catch ?? []) as { Next?: string }[])
        if (catcher.Next) catchTargets.add(catcher.Next);
    });
    for (const [name, state] of Object.entries(definition.States)) {
      const handler = handlers[name];
      if (state.Type !== 'Task' || handler === undefined || catchTargets.has(name)) continue;
      const key = `${prefix}${name}.json`;
      handlers[name] = async (input) => {
        const saved = resume ? await readArtifactIfPresent(store, key, z.unknown()) : undefined;
        if (saved !== undefined) return saved;
        const output = await handler(input);
        // A continuation (`done: false`, a time-boxed tick that will be called again) is not a
        // completed stage: only the output that ends the loop is saved.
        const continuation =
          typeof output === 'object' && output !== null && (output as { done?: unknown }).done === false;
        if (!continuation) await store.put(key, JSON.stringify(output ?? null), 'application/json');
        return output;
      };
    }
  }
  return handlers;
}

/** The deps of one invocation: the shared ones plus this invocation's deadline. */
function depsForTick(task: TaskEntry, options: RunAslOptions): TaskDeps {
  const ceiling = task.timeoutSeconds * 1000 - LAMBDA_DEADLINE_MARGIN_MS;
  const budget = Math.min(options.tickBudgetMs ?? DEFAULT_LOCAL_TICK_BUDGET_MS, Math.max(1, ceiling));
  return { ...options.deps, deadlineAt: options.deps.clock.now() + budget };
}

function transitionOf(event: EventLog): StateTransition {
  const base: { type: string; at: number; state?: string; index?: number; error?: string } = {
    type: event.type,
    at: event.timestamp,
  };
  if ('state' in event) {
    base.state = event.state.name;
    if (event.index !== undefined) base.index = event.index;
  }
  if ('parentState' in event) {
    base.state = event.parentState.name;
    if ('index' in event) base.index = event.index;
  }
  if ('Error' in event) base.error = event.Error;
  return base;
}

function failureOf(error: unknown): { name: string; cause: string } {
  const cause = error instanceof ExecutionError ? error.cause : error;
  const name = cause instanceof Error ? cause.name : 'Error';
  return { name, cause: cause instanceof Error ? cause.message : safeMessage(cause) };
}

/** Definitions already validated in this process (validation costs ~0.5 s per construction). */
const validated = new Set<string>();

/**
 * The executor for a definition: validated in full (JSONPaths, ARNs) the first time this process
 * sees it, then constructed without re-validating the identical text.
 */
function buildMachine(definition: AslDefinition): StateMachine {
  const text = JSON.stringify(definition);
  const seen = validated.has(text);
  const machine = new StateMachine(definition as unknown as StateMachineDefinition, {
    validationOptions: seen ? { noValidate: true } : { checkPaths: true, checkArn: true },
  });
  validated.add(text);
  return machine;
}

/**
 * Runs one ASL definition locally with aws-local-stepfunctions: substitutes the placeholders CDK
 * substitutes in AWS, rewrites ItemReader Maps, routes every Task to the task registry, and records
 * the transitions. Payloads are not recorded (they stay ids, keys and counts by design anyway).
 */
export async function runAsl(options: RunAslOptions): Promise<ExecutionResult> {
  const values = localSubstitutions(options.tasks, options.deps);
  for (const name of placeholdersIn(options.definition)) {
    if (values[name] === undefined)
      throw new ConfigError(`state machine placeholder \${${name}} has no local value`);
  }
  const { definition, readers } = rewriteDistributedMaps(substitutePlaceholders(options.definition, values));
  const handlers = taskHandlers(definition, readers, options);
  const machine = buildMachine(definition);
  const retryOverrides: Record<string, number> = {};
  if (options.retryIntervalMs !== undefined) {
    walkStates(definition, (name, state) => {
      if (Array.isArray(state.Retry)) retryOverrides[name] = options.retryIntervalMs ?? 0;
    });
  }
  const startTime = new Date().toISOString();
  const execution = machine.run(options.input as never, {
    overrides: {
      taskResourceLocalHandlers: handlers as never,
      retryIntervalOverrides: retryOverrides,
    },
    context: {
      Execution: {
        Id: `arn:aws:states:us-east-1:000000000000:execution:ferry-${options.machineName}:${options.executionName}`,
        Name: options.executionName,
        Input: options.input as never,
        StartTime: startTime,
      },
      StateMachine: { Name: `ferry-${options.machineName}` },
      // One token per execution: the in-process approver is keyed by run and stage, not by token.
      Task: { Token: `local-approval:${options.executionName}` },
    },
  });
  const transitions: StateTransition[] = [];
  const recording = (async () => {
    for await (const event of execution.eventLogs) {
      const transition = transitionOf(event);
      transitions.push(transition);
      options.onTransition?.(transition);
    }
  })();
  try {
    const output = await execution.result;
    await recording;
    return { status: 'SUCCEEDED', output, transitions };
  } catch (error) {
    await recording.catch(() => undefined);
    return { status: 'FAILED', error: failureOf(error), transitions };
  }
}
