import type { ChunkManifest, ChunkManifestFile } from '../inventory/manifest.ts';
import type { EntityPrepareStats } from '../load/format.ts';
import type { PrepareInputs, SourceFiles } from './read.ts';
import { bump, pivotStatsName, sum } from './run-state.ts';

/** Skip reason of rows of a file no entity of the mapping reads. */
export const NOT_MAPPED = 'NOT_MAPPED';

/** Fresh stats of a set of source files, with `extra` fields (object, phase) merged in. */
export type NewStats = (
  files: readonly ChunkManifestFile[],
  extra: Partial<EntityPrepareStats>,
) => EntityPrepareStats;

/**
 * Stats of source files before any row is mapped: source rows (Segment's rejects included) and
 * Segment's rejects by reason.
 */
export function statsFactory(
  segmentRejects: ReadonlyMap<string, Record<string, number>>,
  nameOf: (file: ChunkManifestFile) => string,
): NewStats {
  return (files, extra) => {
    const rejected: Record<string, number> = {};
    for (const f of files)
      for (const [reason, n] of Object.entries(segmentRejects.get(nameOf(f)) ?? {}))
        bump(rejected, reason, n);
    return {
      sourceRows: files.reduce((s, f) => s + f.rows + f.rejected, 0),
      mapped: 0,
      rejected,
      skipped: {},
      warnings: {},
      ...(files.length > 0 ? { file: files.map(nameOf).join(', ') } : {}),
      ...extra,
    };
  };
}

/** Stats of every entity (with its object and phase) and of every pivot (with the entity it merges into). */
export function initialStats(
  inputs: PrepareInputs,
  files: SourceFiles,
  newStats: NewStats,
): Record<string, EntityPrepareStats> {
  const { mapping, model, ordered } = inputs;
  const stats: Record<string, EntityPrepareStats> = {};
  for (const e of ordered)
    stats[e.name] = newStats(files.filesOf(e.name), {
      object: model.plural[e.spec.target] as string,
      phase: e.phase,
    });
  for (const e of files.pivotEntities) {
    const entry: EntityPrepareStats & { mergedInto: string } = {
      // No phase: the pivot's rows travel inside the records of `mergedInto`, not in chunks of their own.
      ...newStats(files.pivotFilesOf(e.name), { object: model.plural[e.spec.target] as string }),
      mergedInto: e.name,
    };
    stats[pivotStatsName(mapping, e.name)] = entry;
  }
  return stats;
}

/** Adds stats for each file nothing reads, keyed by its stem: all its rows are skipped NOT_MAPPED. */
export function countUnmappedFiles(
  manifest: ChunkManifest,
  files: SourceFiles,
  stats: Record<string, EntityPrepareStats>,
  newStats: NewStats,
  reasonOf: (file: ChunkManifestFile) => string = () => NOT_MAPPED,
): void {
  for (const file of manifest.files) {
    if (files.isRead(file)) continue;
    const s = newStats([file], {});
    bump(s.skipped, reasonOf(file), file.rows);
    stats[file.stem] = s;
  }
}

/** Mapped, rejected and skipped rows over all entities. */
export function totalsOf(stats: Record<string, EntityPrepareStats>): {
  mapped: number;
  rejected: number;
  skipped: number;
} {
  return Object.values(stats).reduce(
    (t, s) => ({
      mapped: t.mapped + s.mapped,
      rejected: t.rejected + sum(s.rejected),
      skipped: t.skipped + sum(s.skipped),
    }),
    { mapped: 0, rejected: 0, skipped: 0 },
  );
}
