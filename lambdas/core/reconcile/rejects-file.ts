import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import type { ObjectStore } from '../../ports/object-store.ts';
import type { PrepareStats } from '../load/format.ts';
import {
  isSampleChunkKey,
  loadRejectsPrefix,
  prepareRejectsKey,
  rejectsCsvKey,
  segmentRejectsKeyFor,
} from '../run-layout.ts';
import { ndjson } from './inputs.ts';
import { normalizeReject, rejectsCsvHeader, rejectsCsvRow } from './rejects-csv.ts';

/** Source file ↔ entity, from Prepare's numbers (segment rejects know only the file). */
export interface SourceNames {
  entityOfFile(file: string): string;
  fileOfEntity(entity: string): string | undefined;
  /** Whether a pivot file's rows are merged into this entity's records. */
  hasMerged(entity: string): boolean;
}

/** The source names of Prepare's entities: each file's first entity, each entity's file, merge targets. */
export function sourceNamesOf(prepare: PrepareStats): SourceNames {
  const fileToEntity = new Map<string, string>();
  const entityToFile = new Map<string, string>();
  const mergeTargets = new Set<string>();
  for (const [entity, stats] of Object.entries(prepare.entities)) {
    if (stats.mergedInto !== undefined) mergeTargets.add(stats.mergedInto);
    if (stats.file === undefined) continue;
    // An entity reading several files (a FHIR type split by the server) lists them joined by ', '.
    for (const file of stats.file.split(', ')) if (!fileToEntity.has(file)) fileToEntity.set(file, entity);
    entityToFile.set(entity, stats.file);
  }
  return {
    entityOfFile: (file) => fileToEntity.get(file) ?? '',
    fileOfEntity: (entity) => entityToFile.get(entity),
    hasMerged: (entity) => mergeTargets.has(entity),
  };
}

/** Records Twenty refused, per load chunk key: source ids whose merged pivot rows did not load. */
export type RefusedRecords = Map<string, { entity: string; sourceIds: Set<string> }>;

/**
 * Pivot rows merged into records Twenty refused, per entity: the refused records' `merged` counts,
 * read from their load chunks (only chunks that had such a refusal are read).
 */
export async function mergedRefusals(
  work: ObjectStore,
  refused: RefusedRecords,
): Promise<Map<string, number>> {
  const result = new Map<string, number>();
  for (const [chunkKey, { entity, sourceIds }] of refused) {
    if (!(await work.exists(chunkKey))) continue;
    for await (const raw of ndjson(work, chunkKey)) {
      const line = raw as { sourceId?: unknown; merged?: unknown };
      if (typeof line.sourceId !== 'string' || !sourceIds.has(line.sourceId)) continue;
      if (typeof line.merged === 'number' && line.merged > 0)
        result.set(entity, (result.get(entity) ?? 0) + line.merged);
    }
  }
  return result;
}

/** The reject files in stage order: Segment's and Prepare's (when present), then the full load's. */
async function rejectSources(work: ObjectStore, runId: string): Promise<string[]> {
  const sources: string[] = [];
  for (const fixed of [segmentRejectsKeyFor(runId), prepareRejectsKey(runId)]) {
    if (await work.exists(fixed)) sources.push(fixed);
  }
  // The sample load's rejects are in sample-diff.json: the full load meets those records again.
  for await (const object of work.list(loadRejectsPrefix(runId)))
    if (!isSampleChunkKey(object.key)) sources.push(object.key);
  return sources;
}

/** What rejects.csv was written from: its key and rows, Segment's rejects per file, refused records. */
export interface RejectsCsv {
  key: string;
  rows: number;
  segment: Map<string, Record<string, number>>;
  refused: RefusedRecords;
}

/** Streams rejects.csv from the three stages' reject files, in stage order. */
export async function writeRejectsCsv(
  work: ObjectStore,
  runId: string,
  names: SourceNames,
): Promise<RejectsCsv> {
  const key = rejectsCsvKey(runId);
  const body = new PassThrough();
  const upload = work.putStream(key, body, 'text/csv');
  const segment = new Map<string, Record<string, number>>();
  const refused: RefusedRecords = new Map();
  let rows = 0;
  const write = async (text: string) => {
    if (!body.write(text)) await Promise.race([once(body, 'drain'), upload]);
  };
  try {
    await write(rejectsCsvHeader());
    for (const source of await rejectSources(work, runId)) {
      const fromSegment = source === segmentRejectsKeyFor(runId);
      for await (const raw of ndjson(work, source)) {
        const reject = normalizeReject(raw, names.entityOfFile);
        if (fromSegment) {
          const counts = segment.get(reject.file) ?? {};
          counts[reject.reason] = (counts[reject.reason] ?? 0) + 1;
          segment.set(reject.file, counts);
        }
        // Load rejects name the chunk; the operator needs the source file the line number refers to.
        if (source.startsWith(loadRejectsPrefix(runId))) {
          // A refused record (not one of its activity targets) takes its merged pivot rows with it.
          if (reject.reason !== 'TARGET_REJECTED' && names.hasMerged(reject.entity)) {
            const chunk = refused.get(reject.file) ?? { entity: reject.entity, sourceIds: new Set() };
            chunk.sourceIds.add(reject.sourceId);
            refused.set(reject.file, chunk);
          }
          const file = names.fileOfEntity(reject.entity);
          if (file !== undefined) reject.file = file;
        }
        await write(rejectsCsvRow(reject));
        rows++;
      }
    }
    body.end();
    await upload;
  } catch (error) {
    body.destroy();
    await upload.catch(() => undefined);
    throw error;
  }
  return { key, rows, segment, refused };
}
