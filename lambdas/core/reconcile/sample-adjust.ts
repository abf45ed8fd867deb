import type { ChunkLoadStats } from '../load/format.ts';
import type { EntityReconciliation } from './report.ts';

/**
 * Records the sample load wrote were met again by the full load as unchanged (same id, same content):
 * they count as what the sample did to them. Adjusts `entities` in place.
 */
export function addSampleWrites(
  entities: EntityReconciliation[],
  sampleChunks: readonly ChunkLoadStats[],
): void {
  for (const sampled of sampleChunks) {
    const e = entities.find((x) => x.entity === sampled.entity);
    if (e === undefined) continue;
    const written = sampled.created + sampled.updated;
    e.loaded.created += sampled.created;
    e.loaded.updated += sampled.updated;
    e.loaded.unchanged = Math.max(0, e.loaded.unchanged - written);
  }
}
