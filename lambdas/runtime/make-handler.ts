import middy from '@middy/core';
import type { z } from 'zod';
import type { TaskDeps } from '../tasks/deps.ts';
import { LAMBDA_DEADLINE_MARGIN_MS, taskRunner } from '../tasks/handler-kit.ts';
import { awsDeps } from './aws-deps.ts';

/**
 * The Lambda handler for a Task: middy around the same parse-then-core call the local runner makes,
 * with TaskDeps built once per container from `lambdas/config.ts`. A handler file is then one line:
 * `export const handler = makeHandler('Inventory', InventoryInputSchema, inventory);`
 */
export function makeHandler<S extends z.ZodType, O>(
  task: string,
  inputSchema: S,
  core: (input: z.infer<S>, deps: TaskDeps) => Promise<O>,
  deps: () => Promise<TaskDeps> = () => awsDeps(),
) {
  const run = taskRunner(task, inputSchema, core);
  return middy().handler(async (event: unknown, context?: { getRemainingTimeInMillis?: () => number }) => {
    const shared = await deps();
    const started = Date.now();
    const remaining = context?.getRemainingTimeInMillis?.();
    // Time-boxed tasks hand back a continuation before Lambda's timeout (margin: one slow batch).
    const taskDeps: TaskDeps =
      remaining === undefined
        ? shared
        : { ...shared, deadlineAt: started + remaining - LAMBDA_DEADLINE_MARGIN_MS };
    try {
      const output = await run(event, taskDeps);
      taskDeps.log.info('task finished', { task, durationMs: Date.now() - started });
      return output;
    } catch (error) {
      taskDeps.log.error('task failed', {
        task,
        durationMs: Date.now() - started,
        error: error instanceof Error ? error.name : 'unknown',
      });
      throw error;
    }
  });
}
