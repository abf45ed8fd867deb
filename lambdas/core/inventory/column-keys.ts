/**
 * Key columns of a file, with every value they hold: the columns whose values are distinct and short
 * (ids, codes, chart numbers). The auto-mapper compares another file's sampled column against them
 * to find references by value ("this column's values are patients' chart numbers"), which header
 * words alone miss. Held in memory during Inventory only, never written anywhere (they may be PHI).
 */

/** Rows whose values decide which columns are key candidates. */
export const KEY_SAMPLE_ROWS = 50;
/** A key column with more distinct values than this is dropped (memory bound). */
export const MAX_KEY_VALUES = 250_000;
const MAX_KEY_LENGTH = 64;

/** Column name → every value of a key column (trimmed, non-blank). */
export type ColumnKeys = Readonly<Record<string, ReadonlySet<string>>>;

/** Collects a file's key columns as its rows stream by. */
export class ColumnKeyCollector {
  readonly #header: readonly string[];
  readonly #first: string[][] = [];
  #sets: Map<number, Set<string>> | null = null;

  constructor(header: readonly string[]) {
    this.#header = header;
  }

  /** One data row, as a cell getter over the header's columns. */
  offer(cell: (index: number) => string): void {
    if (this.#sets === null) {
      const cells: string[] = [];
      for (let i = 0; i < this.#header.length; i++) cells.push(cell(i));
      this.#first.push(cells);
      if (this.#first.length >= KEY_SAMPLE_ROWS) this.#decide();
      return;
    }
    for (const [i, set] of this.#sets) {
      const v = cell(i).trim();
      if (v === '') continue;
      if (set.has(v) || v.length > MAX_KEY_LENGTH || set.size >= MAX_KEY_VALUES) this.#sets.delete(i);
      else set.add(v);
    }
  }

  #decide(): void {
    const sets = new Map<number, Set<string>>();
    this.#header.forEach((_, i) => {
      const set = new Set<string>();
      let ok = true;
      for (const row of this.#first) {
        const v = (row[i] ?? '').trim();
        if (v === '') continue;
        if (set.has(v) || v.length > MAX_KEY_LENGTH) {
          ok = false;
          break;
        }
        set.add(v);
      }
      if (ok && set.size > 0) sets.set(i, set);
    });
    this.#sets = sets;
    this.#first.length = 0;
  }

  /** The key columns and their values. */
  result(): ColumnKeys {
    if (this.#sets === null) this.#decide();
    const out: Record<string, ReadonlySet<string>> = {};
    for (const [i, set] of this.#sets ?? []) {
      const name = this.#header[i];
      if (name !== undefined && !(name in out)) out[name] = set;
    }
    return out;
  }
}

/** The key columns of rows already in memory (tests, the layout corpus). */
export function columnKeysFromRows(
  header: readonly string[],
  rows: readonly (readonly string[])[],
): ColumnKeys {
  const collector = new ColumnKeyCollector(header);
  for (const row of rows) collector.offer((i) => row[i] ?? '');
  return collector.result();
}
