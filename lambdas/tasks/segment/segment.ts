import { createHash } from 'node:crypto';
import { type CsvReadResult, type CsvRowView, type CsvVisitor, readCsv } from '../../core/csv/reader.ts';
import { AppError, ValidationError } from '../../core/errors.ts';
import { type ChunkManifestFile, type ChunkRef, chunkManifestOf } from '../../core/inventory/manifest.ts';
import type { PlanFile } from '../../core/inventory/plan.ts';
import { NdjsonSink } from '../../core/ndjson-sink.ts';
import {
  chunkKeyFor,
  inlineFileKeyFor,
  manifestKeyFor,
  segmentRejectsKeyFor,
} from '../../core/run-layout.ts';
import { readRunPlan } from '../../core/schema/run-inputs.ts';
import { practitionerEmails } from '../../core/sources/fhir/lookup.ts';
import { FhirPlanSectionSchema } from '../../core/sources/fhir/manifest.ts';
import { readFhirNdjson } from '../../core/sources/fhir/reader.ts';
import type { ObjectStore } from '../../ports/object-store.ts';
import type { TaskDeps } from '../deps.ts';
import { DEFAULT_CHUNK_SIZE, MAX_CHUNK_SIZE, type SegmentInput, type SegmentOutput } from './schema.ts';

/**
 * Buffers at most one chunk of NDJSON lines for one source file and writes each full chunk with a
 * single put — the only place Segment holds rows, which keeps memory flat whatever the file size.
 */
export class ChunkWriter {
  readonly chunks: ChunkRef[] = [];
  readonly #store: ObjectStore;
  readonly #runId: string;
  readonly #stem: string;
  readonly #chunkSize: number;
  readonly #keys: string[];
  #lines: string[] = [];
  #lineNumbers: number[] = [];

  constructor(store: ObjectStore, runId: string, stem: string, header: readonly string[], chunkSize: number) {
    this.#store = store;
    this.#runId = runId;
    this.#stem = stem;
    this.#chunkSize = chunkSize;
    // Header keys are JSON-encoded once; each row then costs one JSON.stringify per cell.
    this.#keys = header.map((name) => `${JSON.stringify(name)}:`);
  }

  get rows(): number {
    return this.chunks.reduce((sum, chunk) => sum + chunk.rows, 0) + this.#lines.length;
  }

  add(row: CsvRowView): void {
    let json = `{"line":${row.line},"cells":{`;
    for (let c = 0; c < row.width; c++) {
      if (c > 0) json += ',';
      json += this.#keys[c] + JSON.stringify(row.cell(c));
    }
    this.#lines.push(`${json}}}`);
    this.#lineNumbers.push(row.line);
  }

  /** Writes every full chunk buffered so far. */
  async flushFull(): Promise<void> {
    while (this.#lines.length >= this.#chunkSize) await this.#write(this.#chunkSize);
  }

  /** Writes the last, partial chunk. */
  async finish(): Promise<void> {
    await this.flushFull();
    if (this.#lines.length > 0) await this.#write(this.#lines.length);
  }

  async #write(count: number): Promise<void> {
    // Encoded once: the same bytes are hashed and stored.
    const body = Buffer.from(`${this.#lines.slice(0, count).join('\n')}\n`, 'utf8');
    const firstLine = this.#lineNumbers[0] ?? 1;
    const lastLine = this.#lineNumbers[count - 1] ?? firstLine;
    this.#lines = this.#lines.slice(count);
    this.#lineNumbers = this.#lineNumbers.slice(count);
    const key = chunkKeyFor(this.#runId, this.#stem, this.chunks.length + 1);
    const sha256 = createHash('sha256').update(body).digest('hex');
    await this.#store.put(key, body, 'application/x-ndjson');
    this.chunks.push({ key, rows: count, firstLine, lastLine, sha256 });
  }
}

/**
 * Reads a data file through the visitor: a CSV, or — for a FHIR bulk export's NDJSON file (its
 * resource type in the plan's `fhir` section) — its resources as canonical rows, an inline
 * attachment's bytes decoded into the work bucket.
 */
async function readDataFile(
  deps: TaskDeps,
  runId: string,
  file: PlanFile,
  fhir:
    | { readonly resourceType: string; readonly practitionerEmails: ReadonlyMap<string, string> }
    | undefined,
  visitor: CsvVisitor,
): Promise<CsvReadResult> {
  const stream = await deps.drop.getStream(file.key);
  if (fhir === undefined)
    return readCsv(stream, { file: file.name, encoding: file.encoding, delimiter: file.delimiter }, visitor);
  return readFhirNdjson(
    stream,
    {
      file: file.name,
      resourceType: fhir.resourceType,
      practitionerEmails: fhir.practitionerEmails,
      async storeInline(_line, bytes) {
        const key = inlineFileKeyFor(runId, file.stem, createHash('sha256').update(bytes).digest('hex'));
        await deps.work.put(key, bytes, 'application/octet-stream');
        return key;
      },
    },
    visitor,
  );
}

async function segmentFile(
  deps: TaskDeps,
  runId: string,
  file: PlanFile,
  fhir: Parameters<typeof readDataFile>[3],
  chunkSize: number,
  rejects: NdjsonSink,
): Promise<ChunkManifestFile> {
  let writer: ChunkWriter | null = null;
  let rejected = 0;
  const result = await readDataFile(deps, runId, file, fhir, {
    header(columns) {
      writer = new ChunkWriter(deps.work, runId, file.stem, columns, chunkSize);
    },
    row(row) {
      (writer as ChunkWriter | null)?.add(row);
    },
    reject(reject) {
      rejected++;
      rejects.write({ file: reject.file, line: reject.line, reason: reject.reason, detail: reject.detail });
    },
    async drain() {
      await (writer as ChunkWriter | null)?.flushFull();
      await rejects.drained();
    },
  });
  const finished = writer as ChunkWriter | null;
  await finished?.finish();
  if (result.sha256 !== file.sha256) {
    throw new ValidationError(
      `${file.name} changed since Inventory (its sha256 differs from the plan); run Inventory again`,
      { code: 'SOURCE_CHANGED' },
    );
  }
  const rows = finished?.rows ?? 0;
  if (rows + rejected !== file.rows || rejected !== file.malformedRows) {
    throw new AppError(
      `${file.name}: Segment read ${rows + rejected} rows where Inventory counted ${file.rows}`,
      {
        code: 'ROW_COUNT_MISMATCH',
      },
    );
  }
  return { stem: file.stem, key: file.key, rows, rejected, chunks: finished?.chunks ?? [] };
}

/**
 * The Segment stage: streams every data file of an approved plan into NDJSON chunks of at most
 * `chunkSize` rows (`runs/<runId>/chunks/<stem>/00001.ndjson`, each line `{line, cells}` with raw
 * strings), streams unreadable rows to `runs/<runId>/rejects/segment.ndjson`, and writes the chunk
 * manifest. For every file, chunk rows + rejects equal the rows Inventory counted — checked here,
 * together with the file's sha256, so a file replaced after approval cannot slip through.
 */
export async function segment(input: SegmentInput, deps: TaskDeps): Promise<SegmentOutput> {
  const { runId, planKey } = input;
  const chunkSize = input.chunkSize ?? DEFAULT_CHUNK_SIZE;
  if (!Number.isInteger(chunkSize) || chunkSize < 1 || chunkSize > MAX_CHUNK_SIZE) {
    throw new ValidationError(`chunkSize must be an integer from 1 to ${MAX_CHUNK_SIZE}`, {
      code: 'INVALID_CHUNK_SIZE',
    });
  }
  const plan = await readRunPlan(deps.work, runId, planKey);
  if (plan.errors.length > 0) {
    throw new ValidationError(
      `plan ${planKey} lists ${plan.errors.length} unreadable file(s); fix the drop folder and run Inventory again`,
      { code: 'INVALID_PLAN' },
    );
  }

  const fhir = plan.fhir === undefined ? undefined : FhirPlanSectionSchema.parse(plan.fhir);
  const emails =
    fhir === undefined ? new Map<string, string>() : await practitionerEmails(deps.drop, plan.files, fhir);
  const rejects = new NdjsonSink(deps.work, segmentRejectsKeyFor(runId));
  const files: ChunkManifestFile[] = [];
  try {
    for (const file of plan.files) {
      const started = deps.clock.now();
      const resourceType = fhir?.files[file.name]?.type;
      const entry = await segmentFile(
        deps,
        runId,
        file,
        resourceType === undefined ? undefined : { resourceType, practitionerEmails: emails },
        chunkSize,
        rejects,
      );
      files.push(entry);
      deps.log.info('file segmented', {
        runId,
        stem: file.stem,
        rows: entry.rows,
        rejected: entry.rejected,
        chunks: entry.chunks.length,
        durationMs: deps.clock.now() - started,
      });
    }
    await rejects.close();
  } catch (error) {
    await rejects.abort();
    throw error;
  }

  const manifest = chunkManifestOf(runId, chunkSize, files);
  const manifestKey = manifestKeyFor(runId);
  await deps.work.put(manifestKey, `${JSON.stringify(manifest)}\n`, 'application/json');
  return {
    runId,
    manifestKey,
    chunks: manifest.totals.chunks,
    rows: manifest.totals.rows,
    rejects: manifest.totals.rejected,
  };
}
