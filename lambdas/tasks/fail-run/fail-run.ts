import type { z } from 'zod';
import { NotFoundError } from '../../core/errors.ts';
import type { TaskDeps } from '../deps.ts';
import type { FailRunInputSchema, FailRunOutput } from './schema.ts';

const ERROR_NAME = /^[A-Za-z][A-Za-z0-9_.:-]{0,99}$/;

/**
 * The error's name as the run record may keep it: an identifier such as `ValidationError` or
 * `States.Timeout`. Anything else (a message, a value) becomes `Error`.
 */
export function safeErrorName(error: unknown): string {
  return typeof error === 'string' && ERROR_NAME.test(error) ? error : 'Error';
}

/**
 * FailRun: the one Catch target of every state. Marks the run failed with the error's NAME only
 * (the Cause can carry values) and releases the drop folder's lock so the operator can fix the
 * export and start again. Never throws for a missing run record: a failure before Inventory created
 * it still has to end the execution cleanly (the lock is then released from the input's folder).
 */
export async function failRun(
  input: z.infer<typeof FailRunInputSchema>,
  deps: TaskDeps,
): Promise<FailRunOutput> {
  const runs = deps.runStore;
  const error = safeErrorName(input.error?.Error);
  const now = new Date(deps.clock.now()).toISOString();
  const run = await runs.getRun(input.runId);
  if (run) {
    try {
      await runs.updateRun(input.runId, { status: 'failed', error, stage: 'FailRun', finishedAt: now });
    } catch (cause) {
      if (!(cause instanceof NotFoundError)) throw cause;
    }
  }
  const folder = run?.folder ?? input.folder;
  if (folder !== undefined) await runs.releaseLock(folder, input.runId);
  deps.log.error('run failed', { runId: input.runId, error });
  return { runId: input.runId, status: 'failed', error };
}
