import { expect } from 'vitest';
import { MemoryObjectStore } from '../../../lambdas/adapters/memory-object-store.ts';
import { ChunkManifestSchema, ChunkRowSchema } from '../../../lambdas/core/inventory/manifest.ts';
import { type Plan, PlanSchema } from '../../../lambdas/core/inventory/plan.ts';
import type { Clock } from '../../../lambdas/ports/clock.ts';
import type { TaskDeps } from '../../../lambdas/tasks/deps.ts';
import { memoryDeps } from '../memory-deps.ts';

/** Synthetic drop + work stores for stage tests; every file is built in the test, never real data. */
export function makeDeps(files: Record<string, string | Uint8Array> = {}): TaskDeps & {
  drop: MemoryObjectStore;
  work: MemoryObjectStore;
} {
  const drop = new MemoryObjectStore('drop');
  const work = new MemoryObjectStore('work');
  for (const [key, body] of Object.entries(files)) {
    drop.objects.set(key, typeof body === 'string' ? Buffer.from(body, 'utf8') : Buffer.from(body));
  }
  const clock: Clock = { now: () => Date.parse('2026-01-02T03:04:05.000Z'), sleep: async () => {} };
  return memoryDeps(drop, work, clock);
}

export async function readPlan(work: MemoryObjectStore, runId: string): Promise<Plan> {
  return PlanSchema.parse(JSON.parse(await work.getText(`runs/${runId}/plan.json`)));
}

/**
 * The invariant of the two stages, checked from the stored artefacts themselves: for every file,
 * the rows actually present in its chunks plus its lines in the rejects file equal the rows
 * Inventory counted, and no chunk exceeds the chunk size.
 */
export async function expectRowsConserved(work: MemoryObjectStore, runId: string): Promise<void> {
  const plan = await readPlan(work, runId);
  const manifest = ChunkManifestSchema.parse(
    JSON.parse(await work.getText(`runs/${runId}/chunks/manifest.json`)),
  );
  const rejectLines = (await work.getText(`runs/${runId}/rejects/segment.ndjson`))
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as { file: string; line: number });
  for (const file of plan.files) {
    const entry = manifest.files.find((f) => f.stem === file.stem);
    expect(entry, `manifest entry for ${file.name}`).toBeDefined();
    let chunkRows = 0;
    for (const chunk of entry?.chunks ?? []) {
      const lines = (await work.getText(chunk.key)).split('\n').filter((line) => line !== '');
      for (const line of lines) ChunkRowSchema.parse(JSON.parse(line));
      expect(lines.length).toBe(chunk.rows);
      expect(chunk.rows).toBeLessThanOrEqual(manifest.chunkSize);
      chunkRows += lines.length;
    }
    const rejected = rejectLines.filter((r) => r.file === file.name).length;
    expect(chunkRows).toBe(entry?.rows);
    expect(rejected).toBe(entry?.rejected);
    expect(chunkRows + rejected).toBe(file.rows);
    expect(rejected).toBe(file.malformedRows);
  }
}
