import type { ObjectStore } from '../../ports/object-store.ts';
import { ValidationError } from '../errors.ts';
import { type LoadPhase, type MappedLine, MappedLineSchema } from '../load/format.ts';
import { loadManifestItems } from '../load/manifests.ts';
import { sampleChunkKey } from '../run-layout.ts';
import { readSampleCandidates, type SampleCandidatesLine } from './candidates.ts';
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

/** The lines of a chunk whose id is in `ids`, validated; the rest are only parsed for their id. */
async function* chosenLinesOf(
  store: ObjectStore,
  key: string,
  ids: ReadonlySet<string>,
): AsyncGenerator<MappedLine> {
  const text = await store.getText(key);
  for (const raw of text.split('\n')) {
    if (raw.trim() === '') continue;
    const value: unknown = JSON.parse(raw);
    if (!ids.has((value as { id?: unknown } | null)?.id as string)) continue;
    const parsed = MappedLineSchema.safeParse(value);
    if (!parsed.success) throw new ValidationError(`${key}: a line is not a mapped record`);
    yield parsed.data;
  }
}

/**
 * The ids and references of a load chunk's records, in chunk order: from Prepare's sample candidates
 * when it wrote them, else from the chunk's lines (every line validated).
 */
async function* chunkCandidates(
  work: ObjectStore,
  key: string,
  prepared: ReadonlyMap<string, SampleCandidatesLine['records']> | undefined,
): AsyncGenerator<readonly [string, readonly string[]]> {
  const records = prepared?.get(key);
  if (records !== undefined) {
    yield* records;
    return;
  }
  for await (const line of linesOf(work, key))
    yield [line.id, referencedIds(line.id, line.data, line.targets)];
}

/**
 * Picks the sample from Prepare's chunks and writes it as one chunk per entity (same mapped lines,
 * same ids), in load order. References first, from Prepare's sample candidates (or, for a run
 * prepared without them, every line of every chunk, validated); then the chosen lines, validated —
 * only from the chunks that hold one, the others' lines only parsed for their id.
 */
export async function writeSample(work: ObjectStore, runId: string, size: number): Promise<SampleProgress> {
  const items = await loadManifestItems(work, runId);
  const prepared = await readSampleCandidates(work, runId);
  const candidates: { id: string; entity: string; refs: readonly string[] }[] = [];
  /** Which chunk holds each id (an id in several chunks: the others in `alsoIn`). */
  const chunkOf = new Map<string, string>();
  const alsoIn: [string, string][] = [];
  for (const item of items)
    for await (const [id, refs] of chunkCandidates(work, item.key, prepared)) {
      candidates.push({ id, entity: item.entity, refs });
      const seen = chunkOf.get(id);
      if (seen === undefined) chunkOf.set(id, item.key);
      else if (seen !== item.key) alsoIn.push([id, item.key]);
    }
  const chosen = new Set(selectSample(candidates, { size }));
  const holding = new Set([...chosen].map((id) => chunkOf.get(id)));
  for (const [id, key] of alsoIn) if (chosen.has(id)) holding.add(key);
  const chunks: SampleProgress['chunks'] = [];
  const byChunk = new Map<string, { phase: LoadPhase; entity: string; lines: string[] }>();
  for (const item of items) {
    const key = sampleChunkKey(runId, item.phase, item.entity);
    const chunk = byChunk.get(key) ?? { phase: item.phase, entity: item.entity, lines: [] };
    byChunk.set(key, chunk);
    if (!holding.has(item.key)) continue;
    for await (const line of chosenLinesOf(work, item.key, chosen)) chunk.lines.push(JSON.stringify(line));
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
