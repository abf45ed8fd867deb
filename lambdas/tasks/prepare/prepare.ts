import type { ChunkManifestFile } from '../../core/inventory/manifest.ts';
import type { EntityPrepareStats } from '../../core/load/format.ts';
import { NdjsonSink } from '../../core/ndjson-sink.ts';
import { prepareEntity, readPivot } from '../../core/prepare/entity.ts';
import type { OrderedEntity } from '../../core/prepare/order.ts';
import {
  writePhaseManifests,
  writePrepareStats,
  writeWorkflowReferences,
} from '../../core/prepare/outputs.ts';
import { assignFiles, readPrepareInputs, segmentRejectCounts } from '../../core/prepare/read.ts';
import { newRunState, type RunState, sum } from '../../core/prepare/run-state.ts';
import { countUnmappedFiles, initialStats, statsFactory, totalsOf } from '../../core/prepare/stats.ts';
import { prepareRejectsKey, sampleCandidatesKey, waveManifestKey } from '../../core/run-layout.ts';
import {
  fhirSectionOf,
  isIncrementalExport,
  priorRecords,
  referencedEntities,
} from '../../core/sources/fhir/incremental.ts';
import { fhirSkipReason } from '../../core/sources/fhir/skips.ts';
import { NOT_MIGRATED_WORKFLOW } from '../../core/sources/workflows.ts';
import type { TaskDeps } from '../deps.ts';
import { DEFAULT_LOAD_CHUNK_SIZE, type PrepareInput, type PrepareOutput } from './schema.ts';

export { NOT_MAPPED } from '../../core/prepare/stats.ts';
export { NOT_MIGRATED_WORKFLOW };

/**
 * The Prepare stage: turns the approved mapping and Segment's raw chunks into records in Twenty's
 * REST shape, ready to send — ids computed (deterministic, or a pre-existing record's id for merge
 * candidates), foreign keys and activity targets resolved against the records that will really be
 * loaded (a child of a rejected parent is an ORPHAN_REFERENCE), family emails de-duplicated,
 * owners resolved, attachment files located. It writes load chunks and one manifest per phase
 * (split into waves where entities of one phase reference each other), rejects, per-entity stats
 * where source rows = mapped + rejected + skipped, and the workflow rebuild reference. It needs no
 * Twenty access: the workspace facts it needs come from `target-model.json`.
 */
export async function prepare(input: PrepareInput, deps: TaskDeps): Promise<PrepareOutput> {
  const { runId } = input;
  const started = deps.clock.now();
  const inputs = await readPrepareInputs(deps.work, runId, input.planKey, input.sourceInstance);
  const { plan, mapping, manifest, sourceInstance } = inputs;
  const files = assignFiles(plan, manifest, mapping, inputs.ordered);
  const newStats = statsFactory(await segmentRejectCounts(deps.work, runId), files.nameOf);
  const stats = initialStats(inputs, files, newStats);
  const rejects = new NdjsonSink(deps.work, prepareRejectsKey(runId));
  const candidates = new NdjsonSink(deps.work, sampleCandidatesKey(runId));
  const prior = isIncrementalExport(fhirSectionOf(plan))
    ? await priorRecords(deps.ledger, sourceInstance, referencedEntities(mapping))
    : undefined;
  const state = newRunState({
    runId,
    sourceInstance,
    mapping,
    model: inputs.model,
    plan,
    owners: inputs.owners,
    merges: inputs.merges,
    now: started,
    chunkSize: input.chunkSize ?? DEFAULT_LOAD_CHUNK_SIZE,
    maxFileBytes: input.maxFileBytes,
    store: deps.work,
    rejects,
    candidates,
    stats,
    ...(prior === undefined ? {} : { prior }),
  });
  try {
    for (const entity of inputs.ordered)
      await prepareAndLog(state, entity, files.filesOf, files.pivotFilesOf, deps);
    await writeWorkflowReferences(deps.work, { runId, plan, mapping }, files, stats, newStats);
    countUnmappedFiles(manifest, files, stats, newStats, fhirSkipReason(plan, files.nameOf));
    await rejects.close();
    await candidates.close();
  } catch (error) {
    await rejects.abort();
    await candidates.abort();
    throw error;
  }
  const phases = await writePhaseManifests(deps.work, runId, state.items);
  const statsKey = await writePrepareStats(deps.work, runId, sourceInstance, stats);
  const totals = totalsOf(stats);
  deps.log.info('prepare written', {
    runId,
    phases: phases.length,
    chunks: phases.reduce((s, p) => s + p.chunks, 0),
    ...totals,
    durationMs: deps.clock.now() - started,
  });
  return { runId, sourceInstance, phases, ...totals, statsKey, rejectsKey: prepareRejectsKey(runId) };
}

/** Reads an entity's pivot, prepares the entity and logs its counts. */
async function prepareAndLog(
  state: RunState,
  entity: OrderedEntity,
  filesOf: (entity: string) => ChunkManifestFile[],
  pivotFilesOf: (entity: string) => ChunkManifestFile[],
  deps: TaskDeps,
): Promise<void> {
  const t0 = deps.clock.now();
  const pivot = await readPivot(state, entity.name, pivotFilesOf(entity.name));
  await prepareEntity(state, entity, filesOf(entity.name), pivot);
  const s = state.stats[entity.name] as EntityPrepareStats;
  deps.log.info('entity prepared', {
    runId: state.runId,
    entity: entity.name,
    phase: entity.phase,
    mapped: s.mapped,
    rejected: sum(s.rejected),
    durationMs: deps.clock.now() - t0,
  });
}

// The key lives in run-layout.ts; this name stays here for the tests.
export { waveManifestKey };
