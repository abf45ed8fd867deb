import type { z } from 'zod';
import { AppError, safeMessage, ValidationError } from '../core/errors.ts';
import type { TaskDeps } from './deps.ts';

/** A Task's core with its input parsed: what the registry calls locally and the handler calls in Lambda. */
export type TaskRun<O = unknown> = (input: unknown, deps: TaskDeps) => Promise<O>;

/**
 * Turns a ZodError into a ValidationError that names the fields and the rules broken, never the
 * values (the payload may carry ids a practice considers sensitive; the rule is enough to act on).
 */
export function inputError(task: string, error: z.ZodError): ValidationError {
  const problems = error.issues
    .map((issue) => `${issue.path.join('.') || '(root)'} (${issue.code})`)
    .join(', ');
  return new ValidationError(`${task} input is invalid: ${problems}`, { code: 'INVALID_TASK_INPUT' });
}

/**
 * Makes an error safe to leave the task: Step Functions records a Lambda's errorType and
 * errorMessage in the execution history, so AppErrors (whose messages are written without values)
 * pass unchanged and anything else keeps its name (ASL Retry/Catch match on it) but loses its message.
 */
export function stageError(error: unknown): Error {
  if (error instanceof AppError) return error;
  const safe = new Error(safeMessage(error));
  safe.name = error instanceof Error ? error.name : 'Error';
  return safe;
}

/**
 * Binds a Task's zod input schema to its pure core. The result is the single entry point for both
 * runtimes: the registry's `run` (local runner, in-process) and `makeHandler` (Lambda, `lambdas/runtime/make-handler.ts`).
 */
export function taskRunner<S extends z.ZodType, O>(
  task: string,
  inputSchema: S,
  core: (input: z.infer<S>, deps: TaskDeps) => Promise<O>,
): TaskRun<O> {
  return async (input, deps) => {
    const parsed = inputSchema.safeParse(input);
    if (!parsed.success) throw inputError(task, parsed.error);
    try {
      return await core(parsed.data, deps);
    } catch (error) {
      throw stageError(error);
    }
  };
}

/** What a time-boxed invocation leaves of Lambda's remaining time: room for one slow batch and the progress write. */
export const LAMBDA_DEADLINE_MARGIN_MS = 60_000;
