import type { ObjectStore } from '../../ports/object-store.ts';
import { phaseManifestKey, readArtifactIfPresent, waveManifestKey } from '../run-layout.ts';
import { LOAD_PHASES, type LoadManifestItem, LoadManifestSchema } from './format.ts';

/**
 * Every chunk item of Prepare's load manifests, in load order: phase by phase, wave by wave (waves
 * are numbered without gaps). Read by SampleLoad (to pick the sample) and the CLI's progress (the
 * records each phase holds).
 */
export async function loadManifestItems(work: ObjectStore, runId: string): Promise<LoadManifestItem[]> {
  const items: LoadManifestItem[] = [];
  for (const phase of LOAD_PHASES) {
    for (let n = 1; ; n++) {
      const key = n === 1 ? phaseManifestKey(runId, phase) : waveManifestKey(runId, phase, n);
      const manifest = await readArtifactIfPresent(work, key, LoadManifestSchema);
      if (manifest === undefined) break;
      items.push(...manifest);
    }
  }
  return items;
}
