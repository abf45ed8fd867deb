/**
 * Basic column type inference from a bounded sample of values. It only ever stores the resulting
 * type name and counts in the plan — never a value (PHI). The mapping stage refines this; the hook
 * is {@link inferColumnType}, fed by {@link ColumnSampler}.
 */
export const INFERRED_TYPES = [
  'empty',
  'boolean',
  'integer',
  'decimal',
  'date',
  'datetime',
  'email',
  'phone',
  'text',
] as const;
export type InferredType = (typeof INFERRED_TYPES)[number];

const PATTERNS: ReadonlyArray<readonly [InferredType, RegExp]> = [
  ['boolean', /^(true|false|yes|no|y|n|t|f)$/i],
  // Leading zeros mark identifiers (chart numbers, ZIP codes): those stay text.
  ['integer', /^[+-]?(0|[1-9]\d{0,14})$/],
  ['decimal', /^[+-]?\$?((0|[1-9]\d{0,2}(,\d{3})+|[1-9]\d*)(\.\d+)?|\.\d+)$/],
  [
    'datetime',
    /^(\d{4}-\d{2}-\d{2}[T ]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?|\d{1,2}\/\d{1,2}\/\d{2,4} \d{1,2}:\d{2}(:\d{2})?( ?[AP]M)?)$/i,
  ],
  ['date', /^(\d{4}-\d{2}-\d{2}|\d{1,2}\/\d{1,2}\/(\d{2}|\d{4})|\d{1,2}-\d{1,2}-\d{4})$/],
  ['email', /^[^\s@]+@[^\s@]+\.[^\s@]+$/],
  ['phone', /^(?=(?:\D*\d){7,15}\D*$)\+?[\d\s().-]+$/],
];

/** Share of non-empty sample values a type must match to be chosen. */
const MATCH_SHARE = 0.95;

/** The most specific type that (nearly) all non-empty values match; `text` otherwise. */
export function inferColumnType(values: readonly string[]): InferredType {
  const present = values.map((value) => value.trim()).filter((value) => value !== '');
  if (present.length === 0) return 'empty';
  for (const [type, pattern] of PATTERNS) {
    let matches = 0;
    for (const value of present) if (pattern.test(value)) matches++;
    if (matches >= present.length * MATCH_SHARE) return type;
  }
  return 'text';
}

/** Keeps at most `perColumn` non-empty values per column, from the first rows of a file. */
export class ColumnSampler {
  readonly #perColumn: number;
  readonly #samples: string[][];

  constructor(width: number, perColumn = 200) {
    this.#perColumn = perColumn;
    this.#samples = Array.from({ length: width }, () => []);
  }

  /** True while some column still wants values: callers can skip decoding once every column is full. */
  get hungry(): boolean {
    return this.#samples.some((values) => values.length < this.#perColumn);
  }

  offer(column: number, value: () => string): void {
    const values = this.#samples[column];
    if (values && values.length < this.#perColumn) values.push(value());
  }

  /** The inferred type per column; the samples themselves never leave this object. */
  types(): InferredType[] {
    return this.#samples.map((values) => inferColumnType(values));
  }
}
