import type { z } from 'zod';
import { ValidationError } from '../../core/errors.ts';
import { type ChunkManifestFile, ChunkManifestSchema } from '../../core/inventory/manifest.ts';
import { PlanSchema } from '../../core/inventory/plan.ts';
import {
  LOAD_PHASES,
  LoadManifestSchema,
  type LoadPhase,
  type MappedLine,
  MappedLineSchema,
  PrepareStatsSchema,
} from '../../core/load/format.ts';
import { type EntitySpec, parseMappingSpec } from '../../core/mapping/spec.ts';
import {
  loadRejectsKey,
  manifestKeyFor,
  mappingKeyFor,
  phaseManifestKey,
  planKeyFor,
  prepareStatsKey,
  readArtifact,
  readArtifactIfPresent,
  sampleChunkKey,
  sampleDiffHtmlKey,
  sampleDiffKey,
  sampleProgressKey,
  waveManifestKey,
} from '../../core/run-layout.ts';
import {
  diffRecord,
  renderSampleDiffHtml,
  type SampleDiff,
  type SampleRecordDiff,
  sampleTotals,
} from '../../core/sample/diff.ts';
import { referencedIds, selectSample } from '../../core/sample/select.ts';
import type { ObjectStore } from '../../ports/object-store.ts';
import { requireDep, type TaskDeps } from '../deps.ts';
import { loadChunk } from '../load-chunk/load-chunk.ts';
import { LoadChunkInputSchema } from '../load-chunk/schema.ts';
import type { SampleLoadContinuation, SampleLoadInputSchema, SampleLoadOutput } from './schema.ts';

/** Ids per read-back request. */
const READ_BACK_PAGE = 60;

/** SampleLoad's saved progress: the sample chunks (in load order) and how many are loaded. */
interface SampleProgress {
  chunks: { phase: LoadPhase; entity: string; key: string; records: number }[];
  loaded: number;
}

async function* linesOf(store: ObjectStore, key: string): AsyncGenerator<MappedLine> {
  const text = await store.getText(key);
  for (const raw of text.split('\n')) {
    if (raw.trim() === '') continue;
    const parsed = MappedLineSchema.safeParse(JSON.parse(raw));
    if (!parsed.success) throw new ValidationError(`${key}: a line is not a mapped record`);
    yield parsed.data;
  }
}

/** Prepare's chunk items in load order (phase by phase, wave by wave). */
async function fullChunks(work: ObjectStore, runId: string) {
  const items: z.infer<typeof LoadManifestSchema> = [];
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

/**
 * Picks the sample from Prepare's chunks and writes it as one chunk per entity (same mapped lines,
 * same ids), in load order. Two passes over the chunks: references first, then the chosen lines.
 */
async function writeSample(work: ObjectStore, runId: string, size: number): Promise<SampleProgress> {
  const items = await fullChunks(work, runId);
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

/** The source cells a field was read from, as `column: value` lines (relations: their column). */
function sourceReader(spec: EntitySpec | undefined, cells: Readonly<Record<string, string>> | undefined) {
  return (field: string): string | null => {
    if (spec === undefined || cells === undefined) return null;
    const fieldSpec = spec.fields[field];
    let columns: string[] = [];
    if (fieldSpec !== undefined) {
      const from = fieldSpec.from;
      columns = typeof from === 'string' ? [from] : Array.isArray(from) ? [...from] : Object.values(from);
    } else {
      const relation = Object.values(spec.relations).find((r) => r.joinColumn === field);
      if (relation !== undefined) columns = [relation.from];
      if (spec.owner?.joinColumn === field) columns = [spec.owner.from];
    }
    if (columns.length === 0) return null;
    return columns.map((c) => `${c}: ${cells[c] ?? ''}`).join('\n');
  };
}

/** The source rows of the given line numbers of a file (Segment's chunks, skipping those out of range). */
async function sourceRows(
  work: ObjectStore,
  file: ChunkManifestFile | undefined,
  lines: ReadonlySet<number>,
) {
  const rows = new Map<number, Record<string, string>>();
  if (file === undefined || lines.size === 0) return rows;
  for (const chunk of file.chunks) {
    if (![...lines].some((l) => l >= chunk.firstLine && l <= chunk.lastLine)) continue;
    for (const raw of (await work.getText(chunk.key)).split('\n')) {
      if (raw === '') continue;
      const row = JSON.parse(raw) as { line: number; cells: Record<string, string> };
      if (lines.has(row.line)) rows.set(row.line, row.cells);
    }
  }
  return rows;
}

/**
 * SampleLoad: before the full load, a representative FK-closed sample (patients with their
 * appointments, notes, claims… and what they point at; `options.sampleSize`, default 300) is loaded
 * through LoadChunk — the same code, ledger and before-images as the full load — then read back and
 * diffed field by field into `sample-diff.json` and `sample-diff.html`; AwaitSampleApproval follows.
 * The full load meets the sampled records again as unchanged; Reconcile counts them as the sample
 * wrote them. Time-boxed like LoadChunk: a tick out of time hands back `{done: false}`.
 */
export async function sampleLoad(
  input: z.infer<typeof SampleLoadInputSchema>,
  deps: TaskDeps,
): Promise<SampleLoadOutput | SampleLoadContinuation> {
  const { runId } = input;
  const size = input.options.sampleSize;
  const empty = {
    runId,
    done: true as const,
    records: 0,
    fields: 0,
    matched: 0,
    mismatched: 0,
    missing: 0,
    rejected: 0,
  };
  if (size === 0) return { ...empty, skipped: true };

  const progressKey = sampleProgressKey(runId);
  const saved = (await deps.work.exists(progressKey))
    ? (JSON.parse(await deps.work.getText(progressKey)) as SampleProgress)
    : undefined;
  const progress = saved ?? (await writeSample(deps.work, runId, size));
  if (saved === undefined) await deps.work.put(progressKey, JSON.stringify(progress), 'application/json');

  // Load the sample chunks in load order, each to its end, until the tick's deadline.
  while (progress.loaded < progress.chunks.length) {
    const chunk = progress.chunks[progress.loaded];
    if (chunk === undefined) break;
    const out = await loadChunk(
      LoadChunkInputSchema.parse({
        runId,
        phase: chunk.phase,
        entity: chunk.entity,
        key: chunk.key,
        records: chunk.records,
        sourceInstance: input.sourceInstance,
        ...(input.options.batchMax === undefined ? {} : { options: { batchMax: input.options.batchMax } }),
      }),
      deps,
    );
    if (!out.done) return { runId, done: false, waitSeconds: out.waitSeconds };
    progress.loaded++;
    await deps.work.put(progressKey, JSON.stringify(progress), 'application/json');
    if (
      deps.deadlineAt !== undefined &&
      deps.clock.now() >= deps.deadlineAt &&
      progress.loaded < progress.chunks.length
    )
      return { runId, done: false, waitSeconds: 0 };
  }

  // Read back and diff every field of every sampled record (the sample is small: one pass).
  const plan = await readArtifact(deps.work, planKeyFor(runId), PlanSchema);
  const spec = parseMappingSpec(JSON.parse(await deps.work.getText(mappingKeyFor(runId))), 'mapping.json');
  const prepared = await readArtifact(deps.work, prepareStatsKey(runId), PrepareStatsSchema);
  const manifest = await readArtifact(deps.work, manifestKeyFor(runId), ChunkManifestSchema);
  const twenty = await requireDep(deps, 'twenty')();
  const records: SampleRecordDiff[] = [];
  for (const chunk of progress.chunks) {
    const lines: MappedLine[] = [];
    for await (const line of linesOf(deps.work, chunk.key)) lines.push(line);
    const refused = new Set<string>();
    const rejectsKey = loadRejectsKey(runId, chunk.phase, chunk.entity, chunk.key);
    if (await deps.work.exists(rejectsKey))
      for (const raw of (await deps.work.getText(rejectsKey)).split('\n'))
        if (raw.trim() !== '') {
          const reject = JSON.parse(raw) as { sourceId?: string; reason?: string };
          if (reject.sourceId !== undefined && reject.reason !== 'TARGET_REJECTED')
            refused.add(reject.sourceId);
        }
    const fileName = prepared.entities[chunk.entity]?.file;
    const file = manifest.files.find((f) => f.key.slice(plan.folder.length) === fileName);
    const cells = await sourceRows(deps.work, file, new Set(lines.map((l) => l.line)));
    const object = lines[0]?.object ?? '';
    for (let start = 0; start < lines.length; start += READ_BACK_PAGE) {
      const page = lines.slice(start, start + READ_BACK_PAGE);
      const found = new Map<string, Record<string, unknown>>();
      for await (const record of twenty.findMany(object, {
        filter: { field: 'id', op: 'in', value: page.map((l) => l.id) },
        limit: READ_BACK_PAGE,
        depth: 0,
      }))
        found.set(record.id, record);
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
            sourceReader(spec.entities[chunk.entity], cells.get(line.line)),
            refused.has(line.sourceId),
          ),
        );
    }
  }
  const diff: SampleDiff = {
    runId,
    generatedAt: new Date(deps.clock.now()).toISOString(),
    records,
    totals: sampleTotals(records),
  };
  await deps.work.put(sampleDiffKey(runId), JSON.stringify(diff, null, 2), 'application/json');
  await deps.work.put(sampleDiffHtmlKey(runId), renderSampleDiffHtml(diff), 'text/html; charset=utf-8');
  const t = diff.totals;
  deps.log.info('sample loaded', {
    runId,
    records: t.records,
    fields: t.fields,
    mismatched: t.mismatched,
    missing: t.missing,
  });
  return {
    runId,
    done: true,
    skipped: false,
    records: t.records,
    fields: t.fields,
    matched: t.matched,
    mismatched: t.mismatched,
    missing: t.missing,
    rejected: t.rejected,
    diffKey: sampleDiffKey(runId),
    htmlKey: sampleDiffHtmlKey(runId),
  };
}
