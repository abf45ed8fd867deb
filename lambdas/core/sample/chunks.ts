import type { ObjectStore } from '../../ports/object-store.ts';
import { ValidationError } from '../errors.ts';
import { type LoadPhase, type MappedLine, MappedLineSchema } from '../load/format.ts';
import { loadManifestItems } from '../load/manifests.ts';
import { sampleChunkKey } from '../run-layout.ts';
import { referencedIds, selectSample } from './select.ts';

/** SampleLoad's saved progress: the sample chunks (in load order) and how many are loaded. */
export interface SampleProgress {
  chunks: { phase: LoadPhase; entity: string; key: string; records: number }[];
  loaded: number;
}

/** The mapped lines of a chunk, validated. */
export async function* linesOf(store: ObjectStore, key: string): AsyncGenerator<MappedLine> {
  const text = await store.getText(key);
  for (const raw of text.split('\n')) {
    if (raw.trim() === '') continue;
    const parsed = MappedLineSchema.safeParse(JSON.parse(raw));
    if (!parsed.success) throw new ValidationError(`${key}: a line is not a mapped record`);
    yield parsed.data;
  }
}

/**
 * Picks the sample from Prepare's chunks and writes it as one chunk per entity (same mapped lines,
 * same ids), in load order. Two passes over the chunks: references first, then the chosen lines.
 */
export async function writeSample(work: ObjectStore, runId: string, size: number): Promise<SampleProgress> {
  const items = await loadManifestItems(work, runId);
  const candidates: { id: string; entity: string; refs: string[] }[] = [];
  for (const item of items)
    for await (const line of linesOf(work, item.key))
      candidates.push({
        id: line.id,
        entity: item.entity,
        refs: referencedIds(line.id, line.data, line.targets),
      });
  const chosen = new Set(selectSample(candidates, { size }));
  const chunks: SampleProgress['chunks'] = [];
  const byChunk = new Map<string, { phase: LoadPhase; entity: string; lines: string[] }>();
  for (const item of items) {
    const key = sampleChunkKey(runId, item.phase, item.entity);
    const chunk = byChunk.get(key) ?? { phase: item.phase, entity: item.entity, lines: [] };
    byChunk.set(key, chunk);
    for await (const line of linesOf(work, item.key))
      if (chosen.has(line.id)) chunk.lines.push(JSON.stringify(line));
  }
  for (const [key, chunk] of byChunk) {
    if (chunk.lines.length === 0) continue;
    await work.put(key, `${chunk.lines.join('\n')}\n`, 'application/x-ndjson');
    chunks.push({ phase: chunk.phase, entity: chunk.entity, key, records: chunk.lines.length });
  }
  return { chunks, loaded: 0 };
}

/**
 * The progress saved under `progressKey`; on the first tick, the sample written
 * ({@link writeSample}) and its fresh progress saved.
 */
export async function sampleProgress(
  work: ObjectStore,
  runId: string,
  size: number,
  progressKey: string,
): Promise<SampleProgress> {
  const saved = (await work.exists(progressKey))
    ? (JSON.parse(await work.getText(progressKey)) as SampleProgress)
    : undefined;
  const progress = saved ?? (await writeSample(work, runId, size));
  if (saved === undefined) await work.put(progressKey, JSON.stringify(progress), 'application/json');
  return progress;
}
