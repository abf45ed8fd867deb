import { isUtf8 } from 'node:buffer';
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { ValidationError } from '../errors.ts';
import { asBuffer } from './bytes.ts';
import type { TextEncodingName } from './encoding.ts';
import {
  CsvRecordParser,
  type CsvRecordView,
  DEFAULT_MAX_RECORD_BYTES,
  type RecordFault,
} from './record-parser.ts';
import { type Delimiter, type LineEnding, lineEndingOf, sniffDelimiter } from './sniff.ts';

/** Reason codes of a per-row reject; the same codes reach the operator's rejects report. */
export type RejectReason = 'MALFORMED_ROW' | 'ENCODING_ERROR';

/** Reasons a line of any data file can be rejected for: a CSV row's, or a FHIR NDJSON line's. */
export type LineRejectReason =
  | RejectReason
  | 'INVALID_JSON'
  | 'NOT_FHIR_RESOURCE'
  | 'UNEXPECTED_RESOURCE_TYPE';

/** A row that could not be read. `detail` names the rule broken, never a value (PHI). */
export interface CsvReject {
  readonly file: string;
  readonly line: number;
  readonly reason: LineRejectReason;
  readonly detail: string;
}

/** A file-level observation for the plan (warnings and errors share the shape). */
export interface CsvIssue {
  readonly code: string;
  readonly file: string;
  readonly line?: number;
  readonly message: string;
}

/**
 * A readable data row: exactly one cell per header column. Reused between rows, so it is only
 * valid during the `row` call; cells are decoded on demand (Inventory reads few, Segment all).
 */
export interface CsvRowView {
  readonly line: number;
  readonly width: number;
  cell(index: number): string;
  /** True for a zero-length or whitespace-only cell, without decoding it. */
  isEmpty(index: number): boolean;
  cells(): string[];
}

/** Callbacks of {@link readCsv}. Rows, rejects and header are synchronous; `drain` is awaited. */
export interface CsvVisitor {
  header?(columns: readonly string[], line: number): void;
  row?(row: CsvRowView): void;
  reject?(reject: CsvReject): void;
  /** Awaited after each input chunk: the caller writes out what it buffered, keeping memory constant. */
  drain?(): Promise<void>;
}

export interface ReadCsvOptions {
  /** Name used in rejects and messages (the file name inside the drop folder). */
  readonly file: string;
  /** Decided by {@link profileEncoding} in Inventory and read from the plan in Segment. */
  readonly encoding: TextEncodingName;
  /** Sniffed from the first bytes when absent. */
  readonly delimiter?: Delimiter;
  readonly preferTab?: boolean;
  readonly maxRecordBytes?: number;
  /** How much decoded text the delimiter sniffer sees (default 64 KiB). */
  readonly sniffBytes?: number;
}

export interface CsvReadResult {
  readonly bytes: number;
  /** Of the raw bytes, as stored: ties a plan, its chunks and the audit to one exact export file. */
  readonly sha256: string;
  readonly bom: boolean;
  readonly delimiter: Delimiter;
  readonly delimiterDetected: boolean;
  readonly lineEnding: LineEnding;
  readonly header: string[];
  readonly headerLine: number | null;
  /** Data rows after the header, blank lines excluded: always `accepted + rejected`. */
  readonly rows: number;
  readonly accepted: number;
  readonly rejected: number;
  readonly rejectedByReason: Readonly<Record<RejectReason, number>>;
  readonly blankLines: number;
  readonly warnings: CsvIssue[];
}

const FAULT_DETAIL: Record<RecordFault, (max: number) => string> = {
  UNTERMINATED_QUOTE: () =>
    'a quoted field opened on this line is never closed; reading resumed on the next line',
  TEXT_AFTER_QUOTE: () => 'text follows the closing quote of a field',
  RECORD_TOO_LONG: (max) => `row is longer than ${max} bytes`,
};

const REPEATED_HEADER_DETAIL = 'row repeats the header row (files joined together?); it is not a record';

const STRAY_QUOTE_DETAIL =
  'a quoted field opened on this line is not closed on it (stray quote); reading resumed on the next line';

/**
 * Cleans header names so every cell has a distinct key: trims, names empty columns `column_<n>`, and
 * suffixes repeats `_2`, `_3` (case-insensitively) — otherwise two columns would collapse into one
 * key in the chunks and a value would be lost without trace.
 */
export function normalizeHeader(
  raw: readonly string[],
  file: string,
  line: number,
): { names: string[]; issues: CsvIssue[] } {
  const issues: CsvIssue[] = [];
  const seen = new Set<string>();
  const names = raw.map((value, index) => {
    let name = value.trim();
    if (name === '') {
      name = `column_${index + 1}`;
      issues.push({
        code: 'EMPTY_HEADER',
        file,
        line,
        message: `${file}: column ${index + 1} has no name; called ${name}`,
      });
    }
    if (seen.has(name.toLowerCase())) {
      let k = 2;
      while (seen.has(`${name}_${k}`.toLowerCase())) k++;
      const renamed = `${name}_${k}`;
      issues.push({
        code: 'DUPLICATE_HEADER',
        file,
        line,
        message: `${file}: column ${index + 1} repeats the name ${name}; called ${renamed}`,
      });
      name = renamed;
    }
    seen.add(name.toLowerCase());
    return name;
  });
  return { names, issues };
}

function isBlankField(buf: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const byte = buf[i];
    if (byte !== 32 && byte !== 9) return false;
  }
  return true;
}

/**
 * Streams one delimited text file: strips the BOM, decodes (transcoding UTF-16 to UTF-8 first),
 * sniffs the delimiter, reads the header, then hands every data row to the visitor as a readable row
 * or a reject with its line and rule. Blank lines are skipped and counted. Never buffers more than
 * one record plus one input chunk. Throws ValidationError only when the header itself is unreadable.
 */
export async function readCsv(
  source: Readable,
  options: ReadCsvOptions,
  visitor: CsvVisitor = {},
): Promise<CsvReadResult> {
  const { file, encoding } = options;
  const maxRecordBytes = options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
  const sniffBytes = options.sniffBytes ?? 64 * 1024;
  const hash = createHash('sha256');
  const cp1252 = encoding === 'windows-1252' ? new TextDecoder('windows-1252') : null;
  const utf16 = encoding === 'utf-16le' || encoding === 'utf-16be' ? new TextDecoder(encoding) : null;
  const checkUtf8 = encoding === 'utf-8';

  let bytes = 0;
  let head: Buffer | null = Buffer.alloc(0);
  let bom = false;
  let sniffed: Buffer[] | null = [];
  let sniffedBytes = 0;
  let parser: CsvRecordParser | null = null;
  let delimiter: Delimiter = options.delimiter ?? ',';
  let delimiterDetected = options.delimiter !== undefined;
  let header: string[] | null = null;
  let headerLine: number | null = null;
  /** The header's own cells and the raw bytes of its first one, to spot a data row repeating it. */
  let headerCells: string[] = [];
  let headerFirst: Buffer = Buffer.alloc(0);
  const warnings: CsvIssue[] = [];
  let accepted = 0;
  const rejectedByReason: Record<RejectReason, number> = { MALFORMED_ROW: 0, ENCODING_ERROR: 0 };
  let blankLines = 0;

  let record: CsvRecordView | null = null;
  const decode = (start: number, end: number, escaped: number): string => {
    const buf = (record as CsvRecordView).buffer;
    const text = cp1252 ? cp1252.decode(buf.subarray(start, end)) : buf.toString('utf8', start, end);
    return escaped ? text.replaceAll('""', '"') : text;
  };
  const rowView: { line: number; width: number } & Omit<CsvRowView, 'line' | 'width'> = {
    line: 0,
    width: 0,
    cell(index) {
      const r = record as CsvRecordView;
      return decode(r.starts[index] ?? 0, r.ends[index] ?? 0, r.escaped[index] ?? 0);
    },
    isEmpty(index) {
      const r = record as CsvRecordView;
      return isBlankField(r.buffer, r.starts[index] ?? 0, r.ends[index] ?? 0);
    },
    cells() {
      const out = new Array<string>(this.width);
      for (let i = 0; i < this.width; i++) out[i] = this.cell(i);
      return out;
    },
  };
  const reject = (line: number, reason: RejectReason, detail: string): void => {
    rejectedByReason[reason]++;
    visitor.reject?.({ file, line, reason, detail });
  };

  // Files joined together repeat their header as a data row; read as data it would become a record
  // named after the columns. Fast path: only a row whose first cell has the header's first bytes is compared.
  const repeatsHeader = (view: CsvRecordView): boolean => {
    const start = view.starts[0] ?? 0;
    const end = view.ends[0] ?? 0;
    if (
      end - start !== headerFirst.length ||
      view.buffer.compare(headerFirst, 0, headerFirst.length, start, end) !== 0
    )
      return false;
    for (let f = 0; f < headerCells.length; f++) {
      if (decode(view.starts[f] ?? 0, view.ends[f] ?? 0, view.escaped[f] ?? 0) !== headerCells[f])
        return false;
    }
    return true;
  };

  const onRecord = (view: CsvRecordView): boolean => {
    record = view;
    if (view.fault === null) {
      let blank = true;
      for (let f = 0; f < view.fieldCount && blank; f++) {
        blank = isBlankField(view.buffer, view.starts[f] ?? 0, view.ends[f] ?? 0);
      }
      if (blank) {
        blankLines++;
        return false;
      }
    }
    if (header === null) {
      if (view.fault !== null) {
        throw new ValidationError(
          `${file}: the header row on line ${view.line} cannot be read (${FAULT_DETAIL[view.fault](maxRecordBytes)})`,
          { code: 'UNREADABLE_HEADER' },
        );
      }
      if (checkUtf8 && !isUtf8(view.buffer.subarray(view.start, view.end))) {
        warnings.push({
          code: 'HEADER_ENCODING',
          file,
          line: view.line,
          message: `${file}: the header row holds bytes that are not valid UTF-8; they were replaced`,
        });
      }
      const raw: string[] = [];
      for (let f = 0; f < view.fieldCount; f++) {
        raw.push(decode(view.starts[f] ?? 0, view.ends[f] ?? 0, view.escaped[f] ?? 0));
      }
      headerCells = raw;
      headerFirst = Buffer.from(view.buffer.subarray(view.starts[0] ?? 0, view.ends[0] ?? 0));
      const normalized = normalizeHeader(raw, file, view.line);
      header = normalized.names;
      headerLine = view.line;
      warnings.push(...normalized.issues);
      visitor.header?.(header, view.line);
      return false;
    }
    if (view.fault !== null || view.fieldCount !== header.length) {
      if (view.endLine > view.line && view.fault !== 'UNTERMINATED_QUOTE') {
        // A stray quote swallowed the following lines: lose this line only, re-read the others.
        reject(view.line, 'MALFORMED_ROW', STRAY_QUOTE_DETAIL);
        return true;
      }
      const detail =
        view.fault !== null
          ? FAULT_DETAIL[view.fault](maxRecordBytes)
          : `row has ${view.fieldCount} cells but the header has ${header.length}`;
      reject(view.line, 'MALFORMED_ROW', detail);
      // An unterminated quote's record is re-read from its second line too.
      return view.fault === 'UNTERMINATED_QUOTE';
    }
    if (checkUtf8 && !isUtf8(view.buffer.subarray(view.start, view.end))) {
      reject(
        view.line,
        'ENCODING_ERROR',
        'row holds bytes that are not valid UTF-8 (the file is read as UTF-8)',
      );
      return false;
    }
    if (repeatsHeader(view)) {
      reject(view.line, 'MALFORMED_ROW', REPEATED_HEADER_DETAIL);
      return false;
    }
    accepted++;
    rowView.line = view.line;
    rowView.width = header.length;
    visitor.row?.(rowView);
    return false;
  };

  const startParser = (final: boolean): void => {
    if (parser !== null || sniffed === null || (!final && sniffedBytes < sniffBytes)) return;
    const sample = Buffer.concat(sniffed);
    sniffed = null;
    if (options.delimiter === undefined) {
      const guess = sniffDelimiter(sample, { preferTab: options.preferTab ?? false });
      delimiter = guess.delimiter;
      delimiterDetected = guess.detected;
    }
    parser = new CsvRecordParser({ delimiter: delimiter.charCodeAt(0), maxRecordBytes, onRecord });
    parser.push(sample);
  };

  const feedText = async (text: Buffer, final: boolean): Promise<void> => {
    if (parser === null && sniffed !== null) {
      if (text.length > 0) sniffed.push(text);
      sniffedBytes += text.length;
      startParser(final);
    } else if (text.length > 0) parser?.push(text);
    if (visitor.drain) await visitor.drain();
  };

  const feedRaw = async (chunk: Buffer, final: boolean): Promise<void> => {
    let raw = chunk;
    if (head !== null) {
      head = Buffer.concat([head, chunk]);
      if (!final && head.length < 4) return;
      raw = head;
      head = null;
      if (utf16) bom = (raw[0] === 0xff && raw[1] === 0xfe) || (raw[0] === 0xfe && raw[1] === 0xff);
      else if (raw[0] === 0xef && raw[1] === 0xbb && raw[2] === 0xbf) {
        bom = true;
        raw = raw.subarray(3);
      }
    }
    const text = utf16 ? Buffer.from(utf16.decode(raw, { stream: !final }), 'utf8') : raw;
    await feedText(text, final);
  };

  for await (const part of source) {
    const chunk = asBuffer(part);
    bytes += chunk.length;
    hash.update(chunk);
    await feedRaw(chunk, false);
  }
  await feedRaw(Buffer.alloc(0), true);
  const finalParser = parser as CsvRecordParser | null;
  finalParser?.end();
  if (visitor.drain) await visitor.drain();

  const rejected = rejectedByReason.MALFORMED_ROW + rejectedByReason.ENCODING_ERROR;
  return {
    bytes,
    sha256: hash.digest('hex'),
    bom,
    delimiter,
    delimiterDetected,
    lineEnding: finalParser ? lineEndingOf(finalParser.lineBreaks) : 'none',
    header: header ?? [],
    headerLine,
    rows: accepted + rejected,
    accepted,
    rejected,
    rejectedByReason,
    blankLines,
    warnings,
  };
}
