import { createHash } from 'node:crypto';
import { extname } from 'node:path';
import type { Readable } from 'node:stream';
import type { ObjectStore, StoredObject } from '../../ports/object-store.ts';
import { type EncodingProfile, profileEncoding, type TextEncodingName } from '../csv/encoding.ts';
import { type CsvIssue, type CsvReadResult, type CsvVisitor, readCsv } from '../csv/reader.ts';
import type { Delimiter } from '../csv/sniff.ts';
import { NotFoundError, TransientError, ValidationError } from '../errors.ts';
import { ColumnKeyCollector, type ColumnKeys } from './column-keys.ts';
import { ColumnSampler } from './infer.ts';
import type { PlanAttachment, PlanColumn, PlanFile, PlanIssue } from './plan.ts';

/**
 * Inventory's look at one export file: a data file is read as two streams (bytes for the encoding
 * decision, then the parse Segment will repeat exactly); any other file is hashed as an attachment.
 * The plan entry holds names, hashes, counts and inferred types; the sample rows and key columns
 * are for the auto-mapper and stay in memory.
 */

/** Per-row rejects copied into the plan as warnings, per file (the rest are counted, not listed). */
const LISTED_REJECTS_PER_FILE = 20;

/** Rows per file kept in memory for the auto-mapper's value checks (never written anywhere). */
const SAMPLE_ROWS = 50;

/** The operator's read overrides (the run options' `encoding` and `delimiter`). */
export interface ReadOverrides {
  readonly encoding?: TextEncodingName;
  readonly delimiter?: Delimiter;
}

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

export async function sha256Of(stream: Readable): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const part of stream) {
    const chunk = typeof part === 'string' ? Buffer.from(part) : (part as Uint8Array);
    bytes += chunk.byteLength;
    hash.update(chunk);
  }
  return { sha256: hash.digest('hex'), bytes };
}

export type DataFileOutcome =
  | { kind: 'data'; file: PlanFile; warnings: PlanIssue[]; sample: string[][]; keys: ColumnKeys }
  | { kind: 'attachment'; attachment: PlanAttachment; warnings: PlanIssue[] }
  | { kind: 'error'; error: PlanIssue };

/** The plan error for a file Ferry cannot decode at all (binary bytes or UTF-32); null when readable. */
export function encodingError(profile: EncodingProfile, name: string): PlanIssue | null {
  if (profile.problem === 'BINARY_FILE') {
    return {
      code: 'BINARY_FILE',
      file: name,
      ...(profile.firstBinaryLine === null ? {} : { line: profile.firstBinaryLine }),
      message: `${name} is not a text file (it holds binary bytes${profile.firstBinaryLine === null ? '' : `, the first on line ${profile.firstBinaryLine}`}); export it again as CSV or remove it`,
    };
  }
  if (profile.problem === 'UNSUPPORTED_ENCODING') {
    return {
      code: 'UNSUPPORTED_ENCODING',
      file: name,
      message: `${name} is UTF-32 encoded, which Ferry does not read; export it again as UTF-8`,
    };
  }
  return null;
}

/**
 * What the parse pass of one data file collects per row: column types (sampled), unique-key
 * candidates, non-empty counts, the first rows as an in-memory sample, and the first rejects.
 */
export class DataFileCollector {
  private sampler: ColumnSampler | null = null;
  private keys: ColumnKeyCollector | null = null;
  private nonEmptyCounts: number[] = [];
  readonly sample: string[][] = [];
  readonly listed: CsvIssue[] = [];
  firstRejectLine: number | null = null;
  private readonly name: string;

  constructor(name: string) {
    this.name = name;
  }

  /** The CSV visitor that feeds this collector. */
  visitor(): CsvVisitor {
    return {
      header: (columns) => {
        this.sampler = new ColumnSampler(columns.length);
        this.keys = new ColumnKeyCollector(columns);
        this.nonEmptyCounts = columns.map(() => 0);
      },
      row: (row) => {
        const s = this.sampler;
        const sampling = s?.hungry ?? false;
        if (this.sample.length < SAMPLE_ROWS) {
          const cells: string[] = [];
          for (let c = 0; c < row.width; c++) cells.push(row.isEmpty(c) ? '' : row.cell(c));
          this.sample.push(cells);
        }
        this.keys?.offer((c) => (c < row.width && !row.isEmpty(c) ? row.cell(c) : ''));
        const nonEmpty = this.nonEmptyCounts;
        for (let c = 0; c < row.width; c++) {
          if (row.isEmpty(c)) continue;
          nonEmpty[c] = (nonEmpty[c] ?? 0) + 1;
          if (sampling) s?.offer(c, () => row.cell(c));
        }
      },
      reject: (reject) => {
        this.firstRejectLine ??= reject.line;
        if (this.listed.length < LISTED_REJECTS_PER_FILE) {
          this.listed.push({
            code: reject.reason,
            file: this.name,
            line: reject.line,
            message: `${this.name} line ${reject.line}: ${reject.detail}`,
          });
        }
      },
    };
  }

  columnKeys(): ColumnKeys {
    return this.keys?.result() ?? {};
  }

  /** The plan's columns of the file: each header name with its inferred type and non-empty count. */
  columns(header: readonly string[]): PlanColumn[] {
    const types = this.sampler?.types() ?? [];
    return header.map((name, index) => ({
      name,
      ...(types[index] ? { inferredType: types[index] } : {}),
      nonEmpty: this.nonEmptyCounts[index] ?? 0,
    }));
  }
}

/** A `.txt` file without delimited columns is a document, kept as an attachment; null otherwise. */
export function notTabular(
  object: StoredObject,
  name: string,
  result: CsvReadResult,
): Extract<DataFileOutcome, { kind: 'attachment' }> | null {
  if (extname(name).toLowerCase() !== '.txt' || result.delimiterDetected || result.header.length > 1) {
    return null;
  }
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

/** The plan warnings a parsed data file raises: empty, header only, and rows that will be rejected. */
export function structureWarnings(
  name: string,
  result: CsvReadResult,
  collected: DataFileCollector,
): PlanIssue[] {
  const warnings: PlanIssue[] = [...result.warnings];
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
    const firstRejectLine = collected.firstRejectLine;
    warnings.push({
      code: 'ROWS_REJECTED',
      file: name,
      ...(firstRejectLine !== null ? { line: firstRejectLine } : {}),
      message:
        `${name}: ${result.rejected} of ${result.rows} rows cannot be read and will be rejected ` +
        `(${result.rejectedByReason.MALFORMED_ROW} malformed, ${result.rejectedByReason.ENCODING_ERROR} invalid bytes)`,
    });
    warnings.push(...collected.listed);
  }
  return warnings;
}

/** The plan's entry for one parsed data file: names, hashes, counts and inferred types — no values. */
export function planFileOf(
  file: { object: StoredObject; name: string; stem: string; encoding: TextEncodingName },
  profile: EncodingProfile,
  result: CsvReadResult,
  collected: DataFileCollector,
): PlanFile {
  return {
    key: file.object.key,
    name: file.name,
    stem: file.stem,
    bytes: result.bytes,
    sha256: result.sha256,
    encoding: file.encoding,
    bom: result.bom ? profile.bom : 'none',
    delimiter: result.delimiter,
    lineEnding: result.lineEnding,
    header: result.header,
    headerLine: result.headerLine,
    rows: result.rows,
    blankLines: result.blankLines,
    malformedRows: result.rejected,
    columns: collected.columns(result.header),
  };
}

/** Two streaming passes: bytes (encoding decision), then the parse Segment will repeat exactly. */
export async function inspectDataFile(
  drop: ObjectStore,
  object: StoredObject,
  name: string,
  stem: string,
  overrides: ReadOverrides,
): Promise<DataFileOutcome> {
  const profile = await profileEncoding(await drop.getStream(object.key));
  const error = encodingError(profile, name);
  if (error !== null) return { kind: 'error', error };
  const warnings: PlanIssue[] = [];
  const encoding = overrides.encoding ?? profile.encoding;
  if (overrides.encoding === undefined && profile.fallback) {
    warnings.push({
      code: 'ENCODING_FALLBACK',
      file: name,
      message: `${name} is not valid UTF-8; it is read as Windows-1252 (override with the encoding option)`,
    });
  }

  const collected = new DataFileCollector(name);
  const result = await readCsv(
    await drop.getStream(object.key),
    {
      file: name,
      encoding,
      ...(overrides.delimiter ? { delimiter: overrides.delimiter } : {}),
      preferTab: extname(name).toLowerCase() === '.tsv',
    },
    collected.visitor(),
  );
  const document = notTabular(object, name, result);
  if (document !== null) return document;

  warnings.push(...structureWarnings(name, result, collected));
  return {
    kind: 'data',
    warnings,
    sample: collected.sample,
    keys: collected.columnKeys(),
    file: planFileOf({ object, name, stem, encoding }, profile, result, collected),
  };
}

/** Why a file could not be inspected, as a plan error; transient failures propagate for a retry. */
export function unreadable(error: unknown, name: string): PlanIssue {
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
