/**
 * A byte-level, push-style CSV record parser with per-record error recovery.
 *
 * Why hand-rolled rather than csv-parse: a practice export with one stray quote must cost one
 * rejected row, not the rest of the file. csv-parse stops (or swallows everything up to EOF into one
 * field) on an unclosed quote; this parser rejects the record where the quote opened and resumes on
 * the next physical line. It works on bytes, not text: delimiters, quotes, CR and LF are ASCII and
 * never occur inside a UTF-8 or Windows-1252 multi-byte character, so structure can be found before
 * the encoding is decided, and each record's bytes can then be checked and decoded on their own.
 *
 * Memory is bounded by one record (at most `maxRecordBytes`) plus the chunk being pushed.
 */

const LF = 10;
const CR = 13;
const QUOTE = 34;

const FIELD_START = 0;
const UNQUOTED = 1;
const QUOTED = 2;
const QUOTE_SEEN = 3;
const AFTER_CR = 4;
const SKIP_LINE = 5;

/** Why a record could not be read structurally. */
export type RecordFault = 'UNTERMINATED_QUOTE' | 'TEXT_AFTER_QUOTE' | 'RECORD_TOO_LONG';

/**
 * One parsed record. The view and its `buffer` are reused: they are only valid during the
 * `onRecord` call. Field `i` is `buffer[starts[i], ends[i])`; `escaped[i]` is 1 when it holds `""`.
 */
export interface CsvRecordView {
  /** Physical line (1-based) on which the record starts. */
  line: number;
  /** Physical line on which it ends (greater than `line` when a quoted field holds line breaks). */
  endLine: number;
  buffer: Buffer;
  /** Byte range of the whole record, line break excluded. */
  start: number;
  end: number;
  fieldCount: number;
  starts: Int32Array;
  ends: Int32Array;
  escaped: Uint8Array;
  fault: RecordFault | null;
}

/** How records were terminated; the plan reports the file's line-ending style from these. */
export interface LineBreakCounts {
  crlf: number;
  lf: number;
  cr: number;
}

export interface CsvRecordParserOptions {
  /** One ASCII byte. */
  readonly delimiter: number;
  /** Longest record accepted before it is rejected (and an open quote is declared unterminated). */
  readonly maxRecordBytes?: number;
  /**
   * Receives each record. Returning true says the record is unusable: when it spans several lines
   * (a stray quote that swallowed the following lines), the parser re-reads from its second line so
   * only the line holding the stray quote is lost.
   */
  readonly onRecord: (record: CsvRecordView) => boolean | undefined;
}

/** Default cap on one record: generous for long clinical notes, small enough to bound memory. */
export const DEFAULT_MAX_RECORD_BYTES = 4 * 1024 * 1024;

export class CsvRecordParser {
  readonly lineBreaks: LineBreakCounts = { crlf: 0, lf: 0, cr: 0 };
  readonly #delimiter: number;
  readonly #maxRecordBytes: number;
  readonly #onRecord: (record: CsvRecordView) => boolean | undefined;
  #buf: Buffer = Buffer.alloc(0);
  #pos = 0;
  #state = FIELD_START;
  #line = 1;
  #recStart = 0;
  #recLine = 1;
  #fieldStart = 0;
  #fieldEscaped = 0;
  #count = 0;
  #fault: RecordFault | null = null;
  #starts = new Int32Array(32);
  #ends = new Int32Array(32);
  #escaped = new Uint8Array(32);
  #ended = false;
  readonly #view: CsvRecordView;

  constructor(options: CsvRecordParserOptions) {
    this.#delimiter = options.delimiter;
    this.#maxRecordBytes = options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
    this.#onRecord = options.onRecord;
    this.#view = {
      line: 0,
      endLine: 0,
      buffer: this.#buf,
      start: 0,
      end: 0,
      fieldCount: 0,
      starts: this.#starts,
      ends: this.#ends,
      escaped: this.#escaped,
      fault: null,
    };
  }

  /** Physical lines seen so far (the line the parser is on). */
  get line(): number {
    return this.#line;
  }

  /** Parses as much of `chunk` as forms complete records; keeps the unfinished record for later. */
  push(chunk: Uint8Array): void {
    if (this.#ended) throw new Error('CsvRecordParser: push after end');
    if (chunk.byteLength === 0) return;
    const incoming = Buffer.isBuffer(chunk)
      ? chunk
      : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    // Everything before the current record is done; a record being skipped is discarded entirely.
    const keep = this.#state === SKIP_LINE ? this.#buf.length : this.#recStart;
    this.#buf = keep >= this.#buf.length ? incoming : Buffer.concat([this.#buf.subarray(keep), incoming]);
    this.#shift(keep);
    this.#scan();
  }

  /** Flushes the last record (a file need not end with a line break) and recovers from an open quote. */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    const n = this.#buf.length;
    for (;;) {
      switch (this.#state) {
        case FIELD_START:
          if (this.#count === 0) return;
          this.#addField(n, n, 0);
          break;
        case UNQUOTED:
          this.#addField(this.#fieldStart, n, this.#fieldEscaped);
          break;
        case QUOTE_SEEN:
          this.#addField(this.#fieldStart, n - 1, this.#fieldEscaped);
          break;
        case QUOTED:
          this.#fault = 'UNTERMINATED_QUOTE';
          this.#emit(n, this.#line);
          if (!this.#resumeAfterFirstLineBreak()) return;
          this.#scan();
          continue;
        case AFTER_CR:
          this.lineBreaks.cr++;
          return;
        default:
          return;
      }
      // The file ended inside a record that has no line break after it.
      if (!this.#emit(n, this.#line) || !this.#resumeAfterFirstLineBreak()) return;
      this.#scan();
    }
  }

  /** Moves every stored offset back by `by` after the buffer was compacted. */
  #shift(by: number): void {
    if (by === 0) return;
    this.#pos -= by;
    this.#recStart -= by;
    this.#fieldStart -= by;
    for (let f = 0; f < this.#count; f++) {
      this.#starts[f] = (this.#starts[f] ?? 0) - by;
      this.#ends[f] = (this.#ends[f] ?? 0) - by;
    }
  }

  #addField(start: number, end: number, escaped: number): void {
    const f = this.#count;
    if (f === this.#starts.length) {
      const starts = new Int32Array(f * 2);
      const ends = new Int32Array(f * 2);
      const esc = new Uint8Array(f * 2);
      starts.set(this.#starts);
      ends.set(this.#ends);
      esc.set(this.#escaped);
      this.#starts = starts;
      this.#ends = ends;
      this.#escaped = esc;
      this.#view.starts = starts;
      this.#view.ends = ends;
      this.#view.escaped = esc;
    }
    this.#starts[f] = start;
    this.#ends[f] = end;
    this.#escaped[f] = escaped;
    this.#count = f + 1;
  }

  /** Hands the record out; true when the caller asked to re-read from the record's second line. */
  #emit(end: number, endLine: number): boolean {
    const view = this.#view;
    view.line = this.#recLine;
    view.endLine = endLine;
    view.buffer = this.#buf;
    view.start = this.#recStart;
    view.end = end;
    view.fieldCount = this.#count;
    view.fault = this.#fault;
    const rewind = this.#onRecord(view) === true && endLine > this.#recLine;
    this.#count = 0;
    this.#fault = null;
    return rewind;
  }

  /**
   * After an unterminated quote: restart at the physical line after the one the record began on,
   * so only that record is lost. Returns false when the record has no line break after its start.
   */
  #resumeAfterFirstLineBreak(): boolean {
    const next = this.#firstBreakEnd(this.#buf, this.#recStart, this.#buf.length);
    if (next < 0) return false;
    this.#pos = next;
    this.#line = this.#recLine + 1;
    this.#recStart = this.#pos;
    this.#recLine = this.#line;
    this.#state = FIELD_START;
    this.#count = 0;
    this.#fault = null;
    return true;
  }

  /** Index just after the first line break at or after `from`; -1 when there is none. */
  #firstBreakEnd(buf: Buffer, from: number, n: number): number {
    let j = from;
    while (j < n && buf[j] !== LF && buf[j] !== CR) j++;
    if (j >= n) return -1;
    if (buf[j] === CR && j + 1 < n && buf[j + 1] === LF) j++;
    return j + 1;
  }

  #scan(): void {
    for (;;) {
      this.#scanOnce();
      const n = this.#buf.length;
      if (this.#state === SKIP_LINE || n - this.#recStart <= this.#maxRecordBytes) return;
      if (this.#state === QUOTED || this.#state === QUOTE_SEEN) {
        this.#fault = 'UNTERMINATED_QUOTE';
        this.#emit(n, this.#line);
        if (this.#resumeAfterFirstLineBreak()) continue;
      } else {
        this.#fault = 'RECORD_TOO_LONG';
        this.#emit(n, this.#line);
      }
      this.#state = SKIP_LINE;
      this.#recStart = n;
      this.#pos = n;
      return;
    }
  }

  #scanOnce(): void {
    const buf = this.#buf;
    const n = buf.length;
    const d = this.#delimiter;
    let i = this.#pos;
    let state = this.#state;
    let line = this.#line;
    while (i < n) {
      if (state === UNQUOTED) {
        let c = buf[i] as number;
        while (c !== d && c !== LF && c !== CR) {
          if (++i === n) break;
          c = buf[i] as number;
        }
        if (i === n) break;
        this.#addField(this.#fieldStart, i, this.#fieldEscaped);
        if (c === d) {
          i++;
          state = FIELD_START;
          continue;
        }
      } else if (state === FIELD_START) {
        this.#fieldEscaped = 0;
        if (buf[i] === QUOTE) {
          state = QUOTED;
          this.#fieldStart = ++i;
        } else {
          state = UNQUOTED;
          this.#fieldStart = i;
        }
        continue;
      } else if (state === QUOTED) {
        let c = buf[i] as number;
        while (c !== QUOTE) {
          if (c === LF) {
            if (buf[i - 1] !== CR) line++;
          } else if (c === CR) line++;
          if (++i === n) break;
          c = buf[i] as number;
        }
        if (i === n) break;
        i++;
        state = QUOTE_SEEN;
        continue;
      } else if (state === QUOTE_SEEN) {
        const c = buf[i] as number;
        if (c === QUOTE) {
          this.#fieldEscaped = 1;
          state = QUOTED;
          i++;
          continue;
        }
        if (c === d) {
          this.#addField(this.#fieldStart, i - 1, this.#fieldEscaped);
          state = FIELD_START;
          i++;
          continue;
        }
        if (c !== LF && c !== CR) {
          this.#fault ??= 'TEXT_AFTER_QUOTE';
          state = UNQUOTED;
          continue;
        }
        this.#addField(this.#fieldStart, i - 1, this.#fieldEscaped);
      } else if (state === AFTER_CR) {
        if (buf[i] === LF) {
          this.lineBreaks.crlf++;
          i++;
        } else this.lineBreaks.cr++;
        state = FIELD_START;
        this.#recStart = i;
        this.#recLine = line;
        continue;
      } else {
        // SKIP_LINE: discard the rest of an over-long record up to its line break.
        let c = buf[i] as number;
        while (c !== LF && c !== CR) {
          if (++i === n) break;
          c = buf[i] as number;
        }
        if (i === n) break;
        line++;
        i = this.#afterBreak(buf, i, n);
        if (i < 0) {
          state = AFTER_CR;
          i = n;
          this.#recStart = n;
          this.#recLine = line;
          break;
        }
        state = FIELD_START;
        this.#recStart = i;
        this.#recLine = line;
        continue;
      }
      // A record ends at buf[i] (CR or LF).
      if (this.#emit(i, line)) {
        const resume = this.#firstBreakEnd(buf, this.#recStart, n);
        line = this.#recLine + 1;
        i = resume;
        state = FIELD_START;
        this.#recStart = i;
        this.#recLine = line;
        continue;
      }
      line++;
      const next = this.#afterBreak(buf, i, n);
      if (next < 0) {
        state = AFTER_CR;
        i = n;
        this.#recStart = n;
        this.#recLine = line;
        break;
      }
      i = next;
      state = FIELD_START;
      this.#recStart = i;
      this.#recLine = line;
    }
    this.#pos = i;
    this.#state = state;
    this.#line = line;
  }

  /** Index after the line break at `i`; -1 when a CR ends the buffer and an LF may follow. */
  #afterBreak(buf: Buffer, i: number, n: number): number {
    if (buf[i] === LF) {
      this.lineBreaks.lf++;
      return i + 1;
    }
    if (i + 1 === n) return -1;
    if (buf[i + 1] === LF) {
      this.lineBreaks.crlf++;
      return i + 2;
    }
    this.lineBreaks.cr++;
    return i + 1;
  }
}
