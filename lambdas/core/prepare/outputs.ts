import type { ObjectStore } from '../../ports/object-store.ts';
import type { Plan } from '../inventory/plan.ts';
import {
  type EntityPrepareStats,
  LOAD_PHASES,
  type LoadManifestItem,
  type LoadPhase,
} from '../load/format.ts';
import type { MappingSpec } from '../mapping/spec.ts';
import { phaseManifestKey, prepareStatsKey, waveManifestKey, workflowsKey } from '../run-layout.ts';
import { buildWorkflowReferenceFromRecords, NOT_MIGRATED_WORKFLOW } from '../sources/workflows.ts';
import type { SourceRow } from '../validation/validate-entity.ts';
import { rowsOf, type SourceFiles } from './read.ts';
import { bump } from './run-state.ts';
import type { NewStats } from './stats.ts';

/** One load manifest Prepare wrote: a phase, or a later wave of it. */
export interface PhaseManifest {
  phase: LoadPhase;
  manifestKey: string;
  chunks: number;
  records: number;
}

/**
 * Reads the profile's reference files (workflow definitions) the export has and writes the
 * workflow rebuild reference (`workflowsKey`) when there is one; their rows are counted as skipped
 * NOT_MIGRATED_WORKFLOW in stats of their own.
 */
export async function writeWorkflowReferences(
  store: ObjectStore,
  run: { runId: string; plan: Plan; mapping: MappingSpec },
  files: SourceFiles,
  stats: Record<string, EntityPrepareStats>,
  newStats: NewStats,
): Promise<void> {
  const { runId, plan, mapping } = run;
  const references: Array<
    { entity: string; file: string } & ReturnType<typeof buildWorkflowReferenceFromRecords>
  > = [];
  for (const ref of files.referenceSpecs) {
    const refFiles = files.filesOf(ref.entity);
    if (refFiles.length === 0) continue;
    const s = newStats(refFiles, {});
    stats[ref.entity] = s;
    for (const file of refFiles) {
      // Workflow definitions are configuration, not patient data; a file is small and read whole.
      const rows: SourceRow[] = [];
      for await (const row of rowsOf(store, file)) rows.push(row);
      const header = plan.files.find((f) => f.key === file.key)?.header ?? Object.keys(rows[0]?.cells ?? {});
      const reference = buildWorkflowReferenceFromRecords(
        rows.map((r) => ({ line: r.line, cells: r.cells ?? {} })),
        header,
      );
      references.push({ entity: ref.entity, file: files.nameOf(file), ...reference });
      bump(s.skipped, NOT_MIGRATED_WORKFLOW, rows.length);
    }
  }
  if (references.length > 0)
    await store.put(
      workflowsKey(runId),
      `${JSON.stringify({ runId, source: mapping.source, files: references }, null, 2)}\n`,
      'application/json',
    );
}

/**
 * Writes one load manifest per phase and wave, in load order: a phase's first wave at
 * `phaseManifestKey`, later ones at `waveManifestKey`.
 */
export async function writePhaseManifests(
  store: ObjectStore,
  runId: string,
  written: ReadonlyArray<{ wave: number; item: LoadManifestItem }>,
): Promise<PhaseManifest[]> {
  const phases: PhaseManifest[] = [];
  for (const phase of LOAD_PHASES) {
    const ofPhase = written.filter((i) => i.item.phase === phase);
    const waves = [...new Set(ofPhase.map((i) => i.wave))].sort((a, b) => a - b);
    for (const [n, wave] of waves.entries()) {
      const items = ofPhase.filter((i) => i.wave === wave).map((i) => i.item);
      const manifestKey = n === 0 ? phaseManifestKey(runId, phase) : waveManifestKey(runId, phase, n + 1);
      await store.put(manifestKey, `${JSON.stringify(items)}\n`, 'application/json');
      phases.push({
        phase,
        manifestKey,
        chunks: items.length,
        records: items.reduce((s, i) => s + i.records, 0),
      });
    }
  }
  return phases;
}

/** Writes the per-entity stats file; returns its key. */
export async function writePrepareStats(
  store: ObjectStore,
  runId: string,
  sourceInstance: string,
  stats: Record<string, EntityPrepareStats>,
): Promise<string> {
  const statsKey = prepareStatsKey(runId);
  await store.put(
    statsKey,
    `${JSON.stringify({ runId, sourceInstance, entities: stats }, null, 2)}\n`,
    'application/json',
  );
  return statsKey;
}
