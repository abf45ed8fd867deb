import { closeSync, openSync, writeSync } from 'node:fs';
import type { Random } from './random.ts';

/**
 * Row-level defect classes the generator injects. Each one is the reason code the validator
 * must give the row it lands on (lambdas/core/validation), so `expected.json` can predict the
 * reconciliation exactly.
 */
export const ROW_DEFECTS = [
  'MISSING_REQUIRED',
  'INVALID_EMAIL',
  'INVALID_PHONE',
  'INVALID_DATE',
  'AMBIGUOUS_DATE',
  'DUPLICATE_SOURCE_ID',
  'ORPHAN_REFERENCE',
  'UNMAPPED_VALUE',
  'VALUE_TOO_LONG',
  'MALFORMED_ROW',
  'ENCODING_ERROR',
  'MISSING_FILE',
] as const;
export type RowDefect = (typeof ROW_DEFECTS)[number];

/** Where each defect class lands in one entity's rows; a class without a site never occurs there. */
export interface DefectSites {
  /** Column(s) blanked together: a FULL_NAME needs both parts blank to be missing. */
  readonly MISSING_REQUIRED?: string | readonly string[];
  readonly INVALID_EMAIL?: string;
  readonly INVALID_PHONE?: string;
  readonly INVALID_DATE?: string;
  /** A column whose profile declares `dateOrder: auto`; its clean values are ISO dates. */
  readonly AMBIGUOUS_DATE?: string;
  readonly DUPLICATE_SOURCE_ID?: true;
  /** Column referencing a parent entity's source id. */
  readonly ORPHAN_REFERENCE?: string;
  readonly UNMAPPED_VALUE?: { readonly column: string; readonly value: string };
  /** Column and a length beyond the profile's `maxLength`. */
  readonly VALUE_TOO_LONG?: { readonly column: string; readonly length: number };
  readonly MALFORMED_ROW?: true;
  readonly ENCODING_ERROR?: string;
  /** Column naming a file under documents/; the file is not written. */
  readonly MISSING_FILE?: string;
}

/** One entity file's layout: the columns as the source system's report names them. */
export interface EntityLayout {
  readonly entity: string;
  readonly file: string;
  readonly columns: readonly string[];
  readonly idColumn: string;
  readonly defects: DefectSites;
}

/** What reconciliation must find for one entity: rows = loaded + rejected + skipped. */
export interface EntityExpectation {
  file: string;
  rows: number;
  loaded: number;
  skipped: number;
  /** `skipped` by reason (NOT_MIGRATED_WORKFLOW for workflow files, PIVOTED for pivot rows of records that do not load). */
  skips: Record<string, number>;
  rejects: Partial<Record<RowDefect, number>>;
  warnings: Record<string, number>;
}

/** Marks a byte that is written as a lone 0xE9 (Latin-1 é): invalid UTF-8 on purpose. */
const BAD_BYTE_MARK = '\uE000';
const BAD_BYTE = Buffer.from([0xe9]);

export interface CsvDialect {
  /** Quote every field (Windows report writers) or only when needed. */
  readonly quoteAll: boolean;
  readonly newline: '\r\n' | '\n';
  /** Prefix the file with a UTF-8 byte-order mark (Excel-style exports). */
  readonly bom: boolean;
}

function quote(value: string, quoteAll: boolean): string {
  if (quoteAll || /[",\r\n]/.test(value) || value.startsWith(' ') || value.endsWith(' ')) {
    return `"${value.replaceAll('"', '""')}"`;
  }
  return value;
}

/** Buffered synchronous file writer: the generator streams millions of rows in constant memory. */
class FileSink {
  readonly #fd: number;
  #parts: Buffer[] = [];
  #size = 0;

  constructor(path: string) {
    this.#fd = openSync(path, 'w');
  }

  write(chunk: Buffer): void {
    this.#parts.push(chunk);
    this.#size += chunk.length;
    if (this.#size >= 1 << 20) this.flush();
  }

  flush(): void {
    if (this.#size === 0) return;
    writeSync(this.#fd, Buffer.concat(this.#parts, this.#size));
    this.#parts = [];
    this.#size = 0;
  }

  close(): void {
    this.flush();
    closeSync(this.#fd);
  }
}

/**
 * Writes one entity's CSV and keeps its expectation. Defects are scheduled deterministically:
 * every applicable class accrues `rate` per row and fires when its credit reaches 1, so each
 * class lands on about rate × rows rows (at least one row in a small export once the credit
 * adds up) and a row never carries two defects.
 */
export class EntityWriter {
  readonly layout: EntityLayout;
  readonly expectation: EntityExpectation;
  readonly #sink: FileSink;
  readonly #dialect: CsvDialect;
  readonly #classes: RowDefect[];
  readonly #credit: number[];
  readonly #rate: number;
  #turn = 0;
  readonly #seenIds = new Set<string>();

  constructor(layout: EntityLayout, path: string, dialect: CsvDialect, rng: Random, rate: number) {
    this.layout = layout;
    this.#dialect = dialect;
    this.#rate = rate;
    this.#sink = new FileSink(path);
    this.#classes = ROW_DEFECTS.filter((c) => layout.defects[c] !== undefined);
    this.#credit = this.#classes.map(() => rng.next());
    this.expectation = {
      file: layout.file,
      rows: 0,
      loaded: 0,
      skipped: 0,
      skips: {},
      rejects: {},
      warnings: {},
    };
    const header = layout.columns.map((c) => quote(c, dialect.quoteAll)).join(',') + dialect.newline;
    this.#sink.write(Buffer.concat([Buffer.from(dialect.bom ? '\uFEFF' : ''), Buffer.from(header)]));
  }

  /**
   * Decides the next row's defect before the caller builds its children: a row that will be
   * rejected must have none (otherwise its children would turn into orphans and the expected
   * counts would depend on cascade semantics). DUPLICATE_SOURCE_ID keeps the row itself valid.
   */
  nextDefect(options: { allowRejecting?: boolean } = {}): RowDefect | null {
    if (this.#rate <= 0 || this.#classes.length === 0) return null;
    for (let i = 0; i < this.#credit.length; i++) this.#credit[i] = (this.#credit[i] as number) + this.#rate;
    const n = this.#classes.length;
    for (let k = 0; k < n; k++) {
      const i = (this.#turn + k) % n;
      const cls = this.#classes[i] as RowDefect;
      if ((this.#credit[i] as number) < 1) continue;
      if (options.allowRejecting === false && cls !== 'DUPLICATE_SOURCE_ID') continue;
      this.#credit[i] = (this.#credit[i] as number) - 1;
      this.#turn = (i + 1) % n;
      return cls;
    }
    return null;
  }

  /** Ids of rows written so far (loaded or not): a parent must exist before children point at it. */
  hasId(id: string): boolean {
    return this.#seenIds.has(id);
  }

  /**
   * Writes a clean row, or the row with `defect` applied. `warnings` are counted only when the
   * row loads. A DUPLICATE_SOURCE_ID defect writes the clean row, then a second row with the
   * same source id that the validator must reject (first occurrence wins).
   */
  write(row: Record<string, string>, defect: RowDefect | null, warnings: readonly string[] = []): void {
    const values = this.layout.columns.map((c) => row[c] ?? '');
    const id = row[this.layout.idColumn] ?? '';
    this.#seenIds.add(id);
    if (defect === null || defect === 'DUPLICATE_SOURCE_ID') {
      this.#emit(values);
      this.expectation.rows++;
      this.expectation.loaded++;
      for (const w of warnings) this.expectation.warnings[w] = (this.expectation.warnings[w] ?? 0) + 1;
      if (defect === 'DUPLICATE_SOURCE_ID') this.#reject([...values], 'DUPLICATE_SOURCE_ID');
      return;
    }
    this.#reject(this.#corrupt(values, defect), defect);
  }

  /**
   * A clean row the pipeline reads but does not load, with the skip reason it must report (a
   * workflow definition: NOT_MIGRATED_WORKFLOW; a property of a patient that is not loaded: PIVOTED).
   */
  writeSkipped(row: Record<string, string>, reason: string): void {
    this.#seenIds.add(row[this.layout.idColumn] ?? '');
    this.#emit(this.layout.columns.map((c) => row[c] ?? ''));
    this.expectation.rows++;
    this.expectation.skipped++;
    this.expectation.skips[reason] = (this.expectation.skips[reason] ?? 0) + 1;
  }

  close(): void {
    this.#sink.close();
  }

  #reject(values: string[], defect: RowDefect): void {
    this.#emit(values);
    this.expectation.rows++;
    this.expectation.rejects[defect] = (this.expectation.rejects[defect] ?? 0) + 1;
  }

  #col(column: string): number {
    const i = this.layout.columns.indexOf(column);
    if (i < 0) throw new RangeError(`layout ${this.layout.entity}: defect column ${column} is not a column`);
    return i;
  }

  #corrupt(values: string[], defect: RowDefect): string[] {
    const sites = this.layout.defects;
    const set = (column: string, value: string): string[] => {
      values[this.#col(column)] = value;
      return values;
    };
    switch (defect) {
      case 'MISSING_REQUIRED': {
        const site = sites.MISSING_REQUIRED as string | readonly string[];
        for (const c of typeof site === 'string' ? [site] : site) set(c, '');
        return values;
      }
      case 'INVALID_EMAIL': {
        const c = sites.INVALID_EMAIL as string;
        const current = values[this.#col(c)] || 'front.desk@example.com';
        return set(c, current.replace('@', '.at.').replace(/\.at\.$/, ''));
      }
      case 'INVALID_PHONE':
        return set(sites.INVALID_PHONE as string, '(212) 555-01');
      case 'INVALID_DATE':
        return set(sites.INVALID_DATE as string, '02/30/2021');
      case 'AMBIGUOUS_DATE':
        return set(sites.AMBIGUOUS_DATE as string, '03/04/2021');
      case 'ORPHAN_REFERENCE':
        return set(sites.ORPHAN_REFERENCE as string, '99999999');
      case 'UNMAPPED_VALUE': {
        const site = sites.UNMAPPED_VALUE as { column: string; value: string };
        return set(site.column, site.value);
      }
      case 'VALUE_TOO_LONG': {
        const site = sites.VALUE_TOO_LONG as { column: string; length: number };
        const seed = values[this.#col(site.column)] || 'Pasted text';
        let long = seed;
        while (long.length < site.length) long = `${long} ${seed}`;
        return set(site.column, long);
      }
      case 'MALFORMED_ROW':
        // Single-line on purpose: a multi-line ragged record is indistinguishable from a stray
        // quote, and the CSV core then rejects each of its lines (more rows than the export has).
        return values.slice(0, Math.max(1, values.length - 2)).map((v) => v.replace(/\r?\n/g, ' '));
      case 'ENCODING_ERROR': {
        const c = sites.ENCODING_ERROR as string;
        const current = values[this.#col(c)] || 'Note';
        const replaced = current.replace(/[éèáíóúñçöüëÉ]/, BAD_BYTE_MARK);
        return set(c, replaced === current ? `${current}${BAD_BYTE_MARK}` : replaced);
      }
      case 'MISSING_FILE':
        // The row stays as written; the caller skips writing the file itself.
        return values;
      case 'DUPLICATE_SOURCE_ID':
        return values;
    }
  }

  #emit(values: string[]): void {
    const line = values.map((v) => quote(v, this.#dialect.quoteAll)).join(',') + this.#dialect.newline;
    if (!line.includes(BAD_BYTE_MARK)) {
      this.#sink.write(Buffer.from(line, 'utf8'));
      return;
    }
    const parts = line.split(BAD_BYTE_MARK);
    const buffers: Buffer[] = [];
    parts.forEach((p, i) => {
      if (i > 0) buffers.push(BAD_BYTE);
      buffers.push(Buffer.from(p, 'utf8'));
    });
    this.#sink.write(Buffer.concat(buffers));
  }
}
