import type { z } from 'zod';
import { linkDelta, resolveBaseRun } from '../../core/delta/link.ts';
import { ValidationError } from '../../core/errors.ts';
import type { TaskDeps } from '../deps.ts';
import type { LinkDeltaInputSchema, LinkDeltaOutput } from './schema.ts';

/**
 * LinkDelta: the first stage of a delta. Finds the run the delta follows, ties the two together in
 * the work bucket (the delta's `delta.json`, a marker under the base that rollback reads) and hands
 * the options back with the base's source instance, so every id the delta computes and every id-map
 * row it reads are the base run's. A delta naming another instance is refused: its ids would not
 * match a single record of the base.
 */
export async function linkDeltaStage(
  input: z.infer<typeof LinkDeltaInputSchema>,
  deps: TaskDeps,
): Promise<LinkDeltaOutput> {
  const runs = deps.runStore;
  const { options } = input;
  const base = await resolveBaseRun(runs, deps.work, input.folder, options.baseRunId);
  const link = await linkDelta(deps.work, input.runId, base, new Date(deps.clock.now()).toISOString());
  if (options.instance !== undefined && options.instance !== link.sourceInstance)
    throw new ValidationError(
      `Delta options.instance: it must be the source instance of run ${base.runId} (or absent)`,
      { code: 'DELTA_INSTANCE_MISMATCH' },
    );
  deps.log.info('delta linked', { runId: input.runId, baseRunId: base.runId });
  return {
    ...options,
    baseRunId: base.runId,
    instance: link.sourceInstance,
    propagateDeletes: options.propagateDeletes === true,
  };
}
