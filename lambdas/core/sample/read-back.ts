import type { ObjectStore } from '../../ports/object-store.ts';
import type { TwentyApi } from '../../ports/twenty.ts';
import { type ChunkManifest, type ChunkManifestFile, ChunkManifestSchema } from '../inventory/manifest.ts';
import { type Plan, PlanSchema } from '../inventory/plan.ts';
import { type MappedLine, type PrepareStats, PrepareStatsSchema } from '../load/format.ts';
import { columnsOf } from '../mapping/map-record.ts';
import { type EntitySpec, type MappingSpec, parseMappingSpec } from '../mapping/spec.ts';
import { fetchPage, READ_BACK_PAGE, refusedSourceIds } from '../reconcile/read-back.ts';
import { manifestKeyFor, mappingKeyFor, planKeyFor, prepareStatsKey, readArtifact } from '../run-layout.ts';
import type { SampleProgress } from './chunks.ts';
import { linesOf } from './chunks.ts';
import { diffRecord, type SampleDiff, type SampleRecordDiff, sampleTotals } from './diff.ts';

/** What the diff reads besides the sample chunks: the plan, the mapping, Prepare's stats, Segment's manifest. */
export interface SampleSources {
  plan: Plan;
  spec: MappingSpec;
  prepared: PrepareStats;
  manifest: ChunkManifest;
}

/** The run's plan, mapping, Prepare's stats and Segment's manifest, read in that order. */
export async function readSampleSources(work: ObjectStore, runId: string): Promise<SampleSources> {
  const plan = await readArtifact(work, planKeyFor(runId), PlanSchema);
  const spec = parseMappingSpec(JSON.parse(await work.getText(mappingKeyFor(runId))), 'mapping.json');
  const prepared = await readArtifact(work, prepareStatsKey(runId), PrepareStatsSchema);
  const manifest = await readArtifact(work, manifestKeyFor(runId), ChunkManifestSchema);
  return { plan, spec, prepared, manifest };
}

/** The source cells a field was read from, as `column: value` lines (relations: their column). */
function sourceReader(spec: EntitySpec | undefined, cells: Readonly<Record<string, string>> | undefined) {
  return (field: string): string | null => {
    if (spec === undefined || cells === undefined) return null;
    const fieldSpec = spec.fields[field];
    let columns: string[] = [];
    if (fieldSpec !== undefined) {
      columns = columnsOf(fieldSpec.from);
    } else {
      const relation = Object.values(spec.relations).find((r) => r.joinColumn === field);
      if (relation !== undefined) columns = [relation.from];
      if (spec.owner?.joinColumn === field) columns = [spec.owner.from];
    }
    if (columns.length === 0) return null;
    return columns.map((c) => `${c}: ${cells[c] ?? ''}`).join('\n');
  };
}

/** The line number Segment writes first on each of its lines (`{"line":12,"cells":…}`). */
const SEGMENT_LINE_PREFIX = /^\{"line":(\d+),/;

/**
 * The source rows of the given line numbers of a file (Segment's chunks, skipping those out of
 * range). Only the rows asked for are parsed: a sample takes a few rows of chunks of thousands, and
 * Segment's lines name their line number first (a line that does not is parsed to find it).
 */
async function sourceRows(
  work: ObjectStore,
  file: ChunkManifestFile | undefined,
  lines: ReadonlySet<number>,
) {
  const rows = new Map<number, Record<string, string>>();
  if (file === undefined || lines.size === 0) return rows;
  const wanted = [...lines];
  for (const chunk of file.chunks) {
    if (!wanted.some((l) => l >= chunk.firstLine && l <= chunk.lastLine)) continue;
    for (const raw of (await work.getText(chunk.key)).split('\n')) {
      if (raw === '') continue;
      const prefix = SEGMENT_LINE_PREFIX.exec(raw);
      if (prefix !== null && !lines.has(Number(prefix[1]))) continue;
      const row = JSON.parse(raw) as { line: number; cells: Record<string, string> };
      if (lines.has(row.line)) rows.set(row.line, row.cells);
    }
  }
  return rows;
}

/** One sample chunk's records read back page by page and diffed field by field, added to `records`. */
async function diffChunk(
  work: ObjectStore,
  twenty: TwentyApi,
  runId: string,
  sources: SampleSources,
  chunk: SampleProgress['chunks'][number],
  records: SampleRecordDiff[],
): Promise<void> {
  const lines: MappedLine[] = [];
  for await (const line of linesOf(work, chunk.key)) lines.push(line);
  const refused = await refusedSourceIds(work, runId, chunk);
  const fileName = sources.prepared.entities[chunk.entity]?.file;
  const file = sources.manifest.files.find((f) => f.key.slice(sources.plan.folder.length) === fileName);
  const cells = await sourceRows(work, file, new Set(lines.map((l) => l.line)));
  const object = lines[0]?.object ?? '';
  for (let start = 0; start < lines.length; start += READ_BACK_PAGE) {
    const page = lines.slice(start, start + READ_BACK_PAGE);
    const found = await fetchPage(twenty, object, page);
    for (const line of page)
      records.push(
        diffRecord(
          {
            entity: chunk.entity,
            object,
            id: line.id,
            sourceId: line.sourceId,
            line: line.line,
            ...(fileName === undefined ? {} : { file: fileName }),
            data: line.data,
          },
          found.get(line.id),
          sourceReader(sources.spec.entities[chunk.entity], cells.get(line.line)),
          refused.has(line.sourceId),
        ),
      );
  }
}

/**
 * Reads back and diffs every field of every sampled record, chunk by chunk in load order (the sample
 * is small: one pass), into the sample diff with its totals.
 */
export async function diffSample(
  work: ObjectStore,
  twenty: TwentyApi,
  runId: string,
  sources: SampleSources,
  chunks: SampleProgress['chunks'],
  now: () => number,
): Promise<SampleDiff> {
  const records: SampleRecordDiff[] = [];
  for (const chunk of chunks) await diffChunk(work, twenty, runId, sources, chunk, records);
  return { runId, generatedAt: new Date(now()).toISOString(), records, totals: sampleTotals(records) };
}
