import { createHash } from 'node:crypto';
import { basename, extname } from 'node:path';
import type { Readable } from 'node:stream';
import { z } from 'zod';
import { profileEncoding } from '../../core/csv/encoding.ts';
import { type CsvIssue, readCsv } from '../../core/csv/reader.ts';
import { NotFoundError, TransientError, ValidationError } from '../../core/errors.ts';
import { ColumnKeyCollector, type ColumnKeys } from '../../core/inventory/column-keys.ts';
import { estimateDuration } from '../../core/inventory/estimate.ts';
import { ColumnSampler } from '../../core/inventory/infer.ts';
import {
  filesOf,
  type MappingFile,
  type MappingPlan,
  planMapping,
  storableSpec,
} from '../../core/inventory/mapping-plan.ts';
import {
  type Plan,
  type PlanAttachment,
  type PlanFile,
  type PlanIssue,
  PlanSchema,
} from '../../core/inventory/plan.ts';
import { renderPlanReport } from '../../core/inventory/plan-report.ts';
import type { SourceCells } from '../../core/mapping/map-record.ts';
import { parseMappingSpec, parseMappingYaml } from '../../core/mapping/spec.ts';
import { domainKey, emailKey } from '../../core/prepare/inputs.ts';
import { targetModelFrom } from '../../core/prepare/target-model.ts';
import {
  mappingKeyFor,
  mergeCandidatesKey,
  planKeyFor,
  planReportKeyFor,
  targetModelKey,
} from '../../core/run-layout.ts';
import { bindPivots, type EntityPivot } from '../../core/sources/pivot.ts';
import type { StoredObject } from '../../ports/object-store.ts';
import type { TaskDeps } from '../deps.ts';
import {
  type InventoryInput,
  type InventoryOptions,
  InventoryOptionsSchema,
  type InventoryOutput,
} from './schema.ts';
import { schemaDiffOf } from './schema-diff.ts';

/** Extensions read as delimited data; everything else in an export is a document kept as an attachment. */
export const DATA_EXTENSIONS: ReadonlySet<string> = new Set(['.csv', '.tsv', '.txt']);

/** The marker that says a drop folder is complete and carries run options; not part of the export. */
export const MARKER_FILE = 'ferry.json';

/** Per-row rejects copied into the plan as warnings, per file (the rest are counted, not listed). */
const LISTED_REJECTS_PER_FILE = 20;

/** Rows per file kept in memory for the auto-mapper's value checks (never written anywhere). */
const SAMPLE_ROWS = 50;

/** Turns a file name into a unique, key-safe chunk folder name (`Patients List.csv` → `patients-list`). */
export function stemFor(name: string, used: Set<string>): string {
  const base =
    name
      .slice(0, name.length - extname(name).length)
      .toLowerCase()
      .replace(/[^a-z0-9._-]+/g, '-')
      .replace(/^[^a-z0-9]+/, '')
      .replace(/-+$/, '') || 'file';
  let stem = base;
  for (let k = 2; used.has(stem); k++) stem = `${base}-${k}`;
  used.add(stem);
  return stem;
}

async function sha256Of(stream: Readable): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const part of stream) {
    const chunk = typeof part === 'string' ? Buffer.from(part) : (part as Uint8Array);
    bytes += chunk.byteLength;
    hash.update(chunk);
  }
  return { sha256: hash.digest('hex'), bytes };
}

type DataFileOutcome =
  | { kind: 'data'; file: PlanFile; warnings: PlanIssue[]; sample: string[][]; keys: ColumnKeys }
  | { kind: 'attachment'; attachment: PlanAttachment; warnings: PlanIssue[] }
  | { kind: 'error'; error: PlanIssue };

/** Two streaming passes: bytes (encoding decision), then the parse Segment will repeat exactly. */
async function inspectDataFile(
  deps: TaskDeps,
  object: StoredObject,
  name: string,
  stem: string,
  options: InventoryOptions,
): Promise<DataFileOutcome> {
  const extension = extname(name).toLowerCase();
  const profile = await profileEncoding(await deps.drop.getStream(object.key));
  if (profile.problem === 'BINARY_FILE') {
    return {
      kind: 'error',
      error: {
        code: 'BINARY_FILE',
        file: name,
        message: `${name} is not a text file (it holds binary bytes); export it again as CSV or remove it`,
      },
    };
  }
  if (profile.problem === 'UNSUPPORTED_ENCODING') {
    return {
      kind: 'error',
      error: {
        code: 'UNSUPPORTED_ENCODING',
        file: name,
        message: `${name} is UTF-32 encoded, which Ferry does not read; export it again as UTF-8`,
      },
    };
  }
  const warnings: PlanIssue[] = [];
  const encoding = options.encoding ?? profile.encoding;
  if (options.encoding === undefined && profile.fallback) {
    warnings.push({
      code: 'ENCODING_FALLBACK',
      file: name,
      message: `${name} is not valid UTF-8; it is read as Windows-1252 (override with the encoding option)`,
    });
  }

  let sampler: ColumnSampler | null = null;
  let keys: ColumnKeyCollector | null = null;
  let nonEmpty: number[] = [];
  const sample: string[][] = [];
  const listed: CsvIssue[] = [];
  let firstRejectLine: number | null = null;
  const result = await readCsv(
    await deps.drop.getStream(object.key),
    {
      file: name,
      encoding,
      ...(options.delimiter ? { delimiter: options.delimiter } : {}),
      preferTab: extension === '.tsv',
    },
    {
      header(columns) {
        sampler = new ColumnSampler(columns.length);
        keys = new ColumnKeyCollector(columns);
        nonEmpty = columns.map(() => 0);
      },
      row(row) {
        const s = sampler as ColumnSampler | null;
        const sampling = s?.hungry ?? false;
        if (sample.length < SAMPLE_ROWS) {
          const cells: string[] = [];
          for (let c = 0; c < row.width; c++) cells.push(row.isEmpty(c) ? '' : row.cell(c));
          sample.push(cells);
        }
        (keys as ColumnKeyCollector | null)?.offer((c) =>
          c < row.width && !row.isEmpty(c) ? row.cell(c) : '',
        );
        for (let c = 0; c < row.width; c++) {
          if (row.isEmpty(c)) continue;
          nonEmpty[c] = (nonEmpty[c] ?? 0) + 1;
          if (sampling) s?.offer(c, () => row.cell(c));
        }
      },
      reject(reject) {
        firstRejectLine ??= reject.line;
        if (listed.length < LISTED_REJECTS_PER_FILE) {
          listed.push({
            code: reject.reason,
            file: name,
            line: reject.line,
            message: `${name} line ${reject.line}: ${reject.detail}`,
          });
        }
      },
    },
  );

  if (extension === '.txt' && !result.delimiterDetected && result.header.length <= 1) {
    return {
      kind: 'attachment',
      attachment: { key: object.key, name, bytes: result.bytes, sha256: result.sha256 },
      warnings: [
        {
          code: 'TEXT_NOT_TABULAR',
          file: name,
          message: `${name} has no delimited columns; it is kept as a document, not read as data`,
        },
      ],
    };
  }

  warnings.push(...result.warnings);
  if (result.bytes === 0) {
    warnings.push({
      code: 'EMPTY_FILE',
      file: name,
      message: `${name} is empty (0 bytes); it holds no rows`,
    });
  } else if (result.headerLine === null) {
    warnings.push({
      code: 'EMPTY_FILE',
      file: name,
      message: `${name} holds only blank lines; it has no header`,
    });
  } else if (result.rows === 0) {
    warnings.push({
      code: 'HEADER_ONLY',
      file: name,
      line: result.headerLine,
      message: `${name} has a header but no data rows`,
    });
  }
  if (result.rejected > 0) {
    warnings.push({
      code: 'ROWS_REJECTED',
      file: name,
      ...(firstRejectLine !== null ? { line: firstRejectLine } : {}),
      message:
        `${name}: ${result.rejected} of ${result.rows} rows cannot be read and will be rejected ` +
        `(${result.rejectedByReason.MALFORMED_ROW} malformed, ${result.rejectedByReason.ENCODING_ERROR} invalid bytes)`,
    });
    warnings.push(...listed);
  }

  const types = (sampler as ColumnSampler | null)?.types() ?? [];
  return {
    kind: 'data',
    warnings,
    sample,
    keys: (keys as ColumnKeyCollector | null)?.result() ?? {},
    file: {
      key: object.key,
      name,
      stem,
      bytes: result.bytes,
      sha256: result.sha256,
      encoding,
      bom: result.bom ? profile.bom : 'none',
      delimiter: result.delimiter,
      lineEnding: result.lineEnding,
      header: result.header,
      headerLine: result.headerLine,
      rows: result.rows,
      blankLines: result.blankLines,
      malformedRows: result.rejected,
      columns: result.header.map((column, index) => ({
        name: column,
        ...(types[index] ? { inferredType: types[index] } : {}),
        nonEmpty: nonEmpty[index] ?? 0,
      })),
    },
  };
}

/** Why a data file could not be inspected, as a plan error; transient failures propagate for a retry. */
function unreadable(error: unknown, name: string): PlanIssue {
  if (error instanceof TransientError) throw error;
  if (error instanceof ValidationError) return { code: error.code, file: name, message: error.message };
  if (error instanceof NotFoundError) {
    return {
      code: 'FILE_VANISHED',
      file: name,
      message: `${name} disappeared from the drop folder while it was read`,
    };
  }
  const kind = error instanceof Error ? error.name : 'unknown error';
  return { code: 'UNREADABLE_FILE', file: name, message: `${name} could not be read (${kind})` };
}

/** How long a run holds its drop folder: Reconcile or FailRun release it; expiry frees a crashed run's folder. */
export const RUN_LOCK_TTL_MS = 24 * 60 * 60 * 1000;

/** `drop/acme-dental/` → `acme-dental`: the default source instance. */
export function folderName(folder: string): string {
  const parts = folder.split('/').filter((p) => p !== '');
  return parts.at(-1) ?? 'default';
}

/** `ferry.json`: marks a folder complete; may name the source instance and carry run options. */
const MarkerSchema = z.looseObject({
  instance: z
    .string()
    .regex(/^[A-Za-z0-9._-]+$/)
    .optional(),
  options: InventoryOptionsSchema.optional(),
});

async function readMarker(deps: TaskDeps, folder: string): Promise<z.infer<typeof MarkerSchema>> {
  const key = `${folder}${MARKER_FILE}`;
  if (!(await deps.drop.exists(key))) return {};
  let json: unknown;
  try {
    json = JSON.parse(await deps.drop.getText(key));
  } catch {
    throw new ValidationError(`${MARKER_FILE} in ${folder} is not valid JSON`, { code: 'MARKER_INVALID' });
  }
  const parsed = MarkerSchema.safeParse(json);
  if (!parsed.success) {
    const paths = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'} (${i.code})`).join(', ');
    throw new ValidationError(`${MARKER_FILE} in ${folder} is invalid: ${paths}`, { code: 'MARKER_INVALID' });
  }
  return parsed.data;
}

interface TargetFacts {
  readonly schemaDiff: unknown;
  readonly schemaChanges: string[];
  readonly mergeCounts: { people: number; companies: number };
}

/**
 * What Inventory learns from the target workspace: its model (target-model.json for Prepare), the
 * schema changes the mapping needs, and the unique keys that already exist (merge-candidates.json),
 * each paged once with a fields projection.
 */
async function readTarget(deps: TaskDeps, runId: string, mapping: MappingPlan): Promise<TargetFacts> {
  const client = await (deps.twenty as NonNullable<TaskDeps['twenty']>)();
  const model = await client.metadata();
  const targetModel = targetModelFrom(model, mapping.spec);
  await deps.work.put(targetModelKey(runId), `${JSON.stringify(targetModel, null, 2)}\n`, 'application/json');
  const diff = schemaDiffOf(mapping.spec, model);

  const targets = new Set(Object.values(mapping.spec.entities).map((e) => e.target));
  const people: Record<string, string> = {};
  const companies: Record<string, string> = {};
  if (targets.has('person') && model.find('person')) {
    for await (const row of client.findMany('people', { fields: ['emails'], limit: 200 })) {
      const email = stringAt(row, ['emails', 'primaryEmail']);
      if (email !== undefined) people[emailKey(email)] ??= row.id;
    }
  }
  if (targets.has('company') && model.find('company')) {
    for await (const row of client.findMany('companies', { fields: ['domainName'], limit: 200 })) {
      const url = stringAt(row, ['domainName', 'primaryLinkUrl']);
      const key = url === undefined ? null : domainKey(url);
      if (key !== null) companies[key] ??= row.id;
    }
  }
  await deps.work.put(
    mergeCandidatesKey(runId),
    `${JSON.stringify({ version: 1, runId, people, companies })}\n`,
    'application/json',
  );
  return {
    schemaDiff: diff.diff,
    schemaChanges: diff.changes,
    mergeCounts: { people: Object.keys(people).length, companies: Object.keys(companies).length },
  };
}

function stringAt(record: Record<string, unknown>, path: readonly string[]): string | undefined {
  let value: unknown = record;
  for (const part of path) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return typeof value === 'string' && value.trim() !== '' ? value : undefined;
}

/**
 * The Inventory stage: lists the drop folder, reads every data file twice as a stream (encoding,
 * then structure), hashes everything, and writes `runs/<runId>/plan.json` with names, hashes,
 * counts and inferred types — no values. Documents of the export are kept as attachments.
 * Throws ValidationError for a missing or empty folder, and — after writing the plan so the
 * operator can read it — when any data file cannot be read at all.
 */
/**
 * Adds the custom fields of long-format (pivot) files to the mapping: each entity with a `pivot`
 * gets one typed field per property name found in its pivot file (lambdas/core/sources/pivot.ts),
 * so ApplySchema creates them and Prepare maps them like any column. Values stay in memory only.
 */
async function withPivotFields(
  deps: TaskDeps,
  mapping: MappingPlan,
  files: readonly PlanFile[],
): Promise<MappingPlan> {
  if (!Object.values(mapping.spec.entities).some((e) => e.pivot !== undefined)) return mapping;
  const readRows = async (_entity: string, pivot: EntityPivot): Promise<SourceCells[]> => {
    const rows: SourceCells[] = [];
    for (const file of files.filter(
      (f) =>
        filesOf({ files: pivot.files }, [{ stem: f.stem, name: f.name, header: f.header, sample: [] }])
          .length > 0,
    )) {
      await readCsv(
        await deps.drop.getStream(file.key),
        { file: file.name, encoding: file.encoding, delimiter: file.delimiter },
        {
          row(row) {
            const cells: Record<string, string> = {};
            file.header.forEach((h, c) => {
              cells[h] = c < row.width && !row.isEmpty(c) ? row.cell(c) : '';
            });
            rows.push(cells);
          },
          reject() {},
        },
      );
    }
    return rows;
  };
  const spec = parseMappingSpec(
    await bindPivots(storableSpec(mapping.spec), readRows),
    'mapping with pivots',
  );
  return { ...mapping, spec };
}

export async function inventory(input: InventoryInput, deps: TaskDeps): Promise<InventoryOutput> {
  const { runId, folder } = input;
  const marker = await readMarker(deps, folder);
  const options: InventoryOptions = { ...marker.options, ...(input.options ?? {}) };
  const sourceInstance = options.instance ?? marker.instance ?? folderName(folder);
  const startedAt = new Date(deps.clock.now()).toISOString();
  if (deps.runStore) {
    // Lock first: a second run on the same folder must stop before it writes anything.
    await deps.runStore.acquireLock(folder, runId, RUN_LOCK_TTL_MS);
    await deps.runStore.createRun({ runId, folder, source: 'unknown', startedAt });
  }
  const objects: StoredObject[] = [];
  for await (const object of deps.drop.list(folder)) if (!object.key.endsWith('/')) objects.push(object);
  if (objects.length === 0) {
    throw new ValidationError(`drop folder ${folder} has no files`, { code: 'DROP_FOLDER_MISSING' });
  }

  const dataObjects: Array<{ object: StoredObject; name: string }> = [];
  const otherObjects: Array<{ object: StoredObject; name: string }> = [];
  for (const object of objects) {
    const name = object.key.slice(folder.length);
    if (name === MARKER_FILE || object.key === options.mappingKey) continue;
    (DATA_EXTENSIONS.has(extname(name).toLowerCase()) ? dataObjects : otherObjects).push({ object, name });
  }
  if (dataObjects.length === 0 && otherObjects.length === 0) {
    throw new ValidationError(`drop folder ${folder} is empty: it holds no export files`, {
      code: 'DROP_FOLDER_EMPTY',
    });
  }
  if (dataObjects.length === 0) {
    throw new ValidationError(`drop folder ${folder} holds no data files (.csv, .tsv or .txt)`, {
      code: 'NO_DATA_FILES',
    });
  }

  const files: PlanFile[] = [];
  const attachments: PlanAttachment[] = [];
  const warnings: PlanIssue[] = [];
  const errors: PlanIssue[] = [];
  const stems = new Set<string>();
  const mappingFiles: MappingFile[] = [];
  for (const { object, name } of dataObjects) {
    let outcome: DataFileOutcome;
    try {
      outcome = await inspectDataFile(deps, object, name, stemFor(name, stems), options);
    } catch (error) {
      outcome = { kind: 'error', error: unreadable(error, name) };
    }
    if (outcome.kind === 'error') errors.push(outcome.error);
    else if (outcome.kind === 'data') {
      files.push(outcome.file);
      mappingFiles.push({
        stem: outcome.file.stem,
        name,
        header: outcome.file.header,
        sample: outcome.sample,
        keys: outcome.keys,
      });
      warnings.push(...outcome.warnings);
    } else {
      attachments.push(outcome.attachment);
      warnings.push(...outcome.warnings);
    }
  }
  for (const { object, name } of otherObjects) {
    try {
      const { sha256, bytes } = await sha256Of(await deps.drop.getStream(object.key));
      attachments.push({ key: object.key, name, bytes, sha256 });
      if (bytes === 0)
        warnings.push({ code: 'EMPTY_ATTACHMENT', file: name, message: `${name} is empty (0 bytes)` });
    } catch (error) {
      errors.push(unreadable(error, name));
    }
  }

  const operatorSpec =
    options.mappingKey === undefined
      ? undefined
      : parseMappingYaml(await deps.drop.getText(options.mappingKey), basename(options.mappingKey));
  const mapping = await withPivotFields(
    deps,
    planMapping(mappingFiles, {
      ...(options.source === undefined ? {} : { source: options.source }),
      ...(operatorSpec === undefined ? {} : { operatorSpec }),
    }),
    files,
  );
  const target = errors.length === 0 && deps.twenty ? await readTarget(deps, runId, mapping) : null;
  const batchMax = options.batchMax ?? 200;
  const estimate = estimateDuration(
    Object.entries(mapping.spec.entities).map(([entity, spec]) => {
      const rows = filesOf(spec, mappingFiles).reduce(
        (sum, f) => sum + (files.find((p) => p.name === f.name)?.rows ?? 0),
        0,
      );
      return {
        entity,
        rows,
        targetsPerRecord: spec.targets.length,
        uploads: spec.target === 'attachment' ? rows : 0,
      };
    }),
    options.rate ?? 'cloud',
    batchMax,
  );

  const plan: Plan = PlanSchema.parse({
    version: 1,
    runId,
    folder,
    createdAt: startedAt,
    files,
    attachments,
    totals: {
      dataFiles: files.length,
      attachments: attachments.length,
      bytes: files.reduce((sum, f) => sum + f.bytes, 0) + attachments.reduce((sum, a) => sum + a.bytes, 0),
      rows: files.reduce((sum, f) => sum + f.rows, 0),
      malformedRows: files.reduce((sum, f) => sum + f.malformedRows, 0),
      blankLines: files.reduce((sum, f) => sum + f.blankLines, 0),
    },
    warnings,
    errors,
    source: mapping.source,
    sourceInstance,
    /** The run's operator options (CLI flags merged over ferry.json): later stages read theirs here. */
    options,
    mapping: {
      origin: mapping.origin,
      detection: mapping.detection,
      key: mappingKeyFor(runId),
      spec: storableSpec(mapping.spec),
      confidence: mapping.confidence,
      unmappedColumns: mapping.unmappedColumns,
      unmappedFiles: mapping.unmappedFiles,
      auxiliaryFiles: mapping.auxiliaryFiles,
      excluded: mapping.excluded,
      blocking: mapping.blocking,
    },
    schemaDiff: target?.schemaDiff ?? null,
    mergeCandidates: target?.mergeCounts ?? null,
    estimate,
  });
  const planKey = planKeyFor(runId);
  const planText = `${JSON.stringify(plan, null, 2)}\n`;
  await deps.work.put(planKey, planText, 'application/json');
  await deps.work.put(
    mappingKeyFor(runId),
    `${JSON.stringify(storableSpec(mapping.spec), null, 2)}\n`,
    'application/json',
  );
  await deps.work.put(
    planReportKeyFor(runId),
    renderPlanReport(plan, {
      mapping,
      estimate,
      sourceInstance,
      schemaChanges: target?.schemaChanges ?? null,
      mergeCandidates: target?.mergeCounts ?? null,
    }),
    'text/markdown',
  );
  if (deps.runStore) {
    await deps.runStore.updateRun(runId, {
      source: mapping.source,
      stage: 'Inventory',
      planHash: createHash('sha256').update(planText).digest('hex'),
    });
  }
  deps.log.info('inventory written', {
    runId,
    source: mapping.source,
    files: files.length,
    attachments: attachments.length,
    rows: plan.totals.rows,
    entities: Object.keys(mapping.spec.entities).length,
    warnings: warnings.length,
    errors: errors.length,
  });

  const [first] = errors;
  if (first) {
    const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : '';
    throw new ValidationError(
      `drop folder ${folder} has unreadable files: ${first.message}${more}; see ${planKey}`,
      {
        code: 'DROP_FOLDER_INVALID',
      },
    );
  }
  return {
    runId,
    folder,
    planKey,
    files: files.length,
    rows: plan.totals.rows,
    bytes: plan.totals.bytes,
    warnings: warnings.length,
    source: mapping.source,
    sourceInstance,
    mappingKey: mappingKeyFor(runId),
    entities: Object.keys(mapping.spec.entities).length,
  };
}
