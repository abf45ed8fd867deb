import { createInterface } from 'node:readline';
import type { ObjectStore } from '../../ports/object-store.ts';
import { ValidationError } from '../errors.ts';
import {
  type ChunkLoadStats,
  ChunkLoadStatsSchema,
  type PrepareStats,
  PrepareStatsSchema,
} from '../load/format.ts';
import { isSampleChunkKey, loadStatsPrefix, prepareStatsKey, readArtifact } from '../run-layout.ts';

/** Each NDJSON line of an object, parsed, streamed (reject files can be as large as the export). */
export async function* ndjson(store: ObjectStore, key: string): AsyncIterable<unknown> {
  const lines = createInterface({ input: await store.getStream(key), crlfDelay: Number.POSITIVE_INFINITY });
  for await (const line of lines) {
    if (line.trim() === '') continue;
    try {
      yield JSON.parse(line);
    } catch {
      throw new ValidationError(`${key}: a line is not JSON`);
    }
  }
}

/** Prepare's stats; a ValidationError when Prepare did not finish. */
export async function readPrepare(work: ObjectStore, runId: string): Promise<PrepareStats> {
  return readArtifact(work, prepareStatsKey(runId), PrepareStatsSchema);
}

/** The run's load chunks (their stats), in key order: all of them, the full load's, the sample's. */
export interface RunChunks {
  all: ChunkLoadStats[];
  full: ChunkLoadStats[];
  sample: ChunkLoadStats[];
}

/** Every load chunk's stats of the run, sorted by chunk key and split into full load and sample. */
export async function readLoadStats(work: ObjectStore, runId: string): Promise<RunChunks> {
  const stats: ChunkLoadStats[] = [];
  for await (const object of work.list(loadStatsPrefix(runId))) {
    if (!object.key.endsWith('.json')) continue;
    stats.push(await readArtifact(work, object.key, ChunkLoadStatsSchema));
  }
  const all = stats.sort((a, b) => a.key.localeCompare(b.key));
  return {
    all,
    full: all.filter((c) => !isSampleChunkKey(c.key)),
    sample: all.filter((c) => isSampleChunkKey(c.key)),
  };
}
