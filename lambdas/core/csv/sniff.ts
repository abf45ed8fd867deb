/** Delimiters seen in practice exports: comma, semicolon (European locales), tab, pipe. */
export const DELIMITERS = [',', ';', '\t', '|'] as const;
export type Delimiter = (typeof DELIMITERS)[number];

export const LINE_ENDINGS = ['crlf', 'lf', 'cr', 'mixed', 'none'] as const;
export type LineEnding = (typeof LINE_ENDINGS)[number];

export interface DelimiterGuess {
  readonly delimiter: Delimiter;
  /** False when no candidate occurs consistently: the file is read as one column. */
  readonly detected: boolean;
}

const QUOTE = 34;
const LF = 10;
const CR = 13;
const MAX_SAMPLE_RECORDS = 200;

/**
 * Guesses the delimiter from the first records of a sample. Counts each candidate per record
 * outside quotes (so a quoted "Smith, John" does not vote for the comma, and a quoted line break
 * does not split a record); the candidate whose count is the same non-zero number on the most
 * records wins, ties going to the larger count, then to the order of {@link DELIMITERS}.
 * `preferTab` (a .tsv file) makes tab win whenever it occurs consistently at all.
 */
export function sniffDelimiter(sample: Uint8Array, options: { preferTab?: boolean } = {}): DelimiterGuess {
  const codes = DELIMITERS.map((d) => d.charCodeAt(0));
  const perRecord: number[][] = DELIMITERS.map(() => []);
  const current = DELIMITERS.map(() => 0);
  let inQuotes = false;
  let nonBlank = false;
  let records = 0;
  const close = (): void => {
    if (nonBlank) {
      for (let c = 0; c < codes.length; c++) perRecord[c]?.push(current[c] ?? 0);
      records++;
    }
    current.fill(0);
    nonBlank = false;
  };
  for (let i = 0; i < sample.length && records < MAX_SAMPLE_RECORDS; i++) {
    const byte = sample[i] as number;
    if (byte === QUOTE) {
      inQuotes = !inQuotes;
      nonBlank = true;
    } else if (!inQuotes && (byte === LF || byte === CR)) close();
    else {
      if (byte !== 32 && byte !== 9) nonBlank = true;
      if (!inQuotes) {
        const c = codes.indexOf(byte);
        if (c >= 0) {
          current[c] = (current[c] ?? 0) + 1;
          nonBlank = true;
        }
      }
    }
  }
  if (!inQuotes) close();

  let best: { index: number; consistency: number; mode: number } | null = null;
  for (let c = 0; c < codes.length; c++) {
    const counts = perRecord[c] ?? [];
    const frequency = new Map<number, number>();
    for (const count of counts) if (count > 0) frequency.set(count, (frequency.get(count) ?? 0) + 1);
    let mode = 0;
    let modeFrequency = 0;
    for (const [count, freq] of frequency) {
      if (freq > modeFrequency || (freq === modeFrequency && count > mode)) {
        mode = count;
        modeFrequency = freq;
      }
    }
    if (mode === 0) continue;
    const consistency = modeFrequency / Math.max(1, counts.length);
    if (options.preferTab && DELIMITERS[c] === '\t' && consistency >= 0.5)
      return { delimiter: '\t', detected: true };
    if (
      best === null ||
      consistency > best.consistency + 1e-9 ||
      (Math.abs(consistency - best.consistency) <= 1e-9 && mode > best.mode)
    ) {
      best = { index: c, consistency, mode };
    }
  }
  if (best === null) return { delimiter: options.preferTab ? '\t' : ',', detected: false };
  return { delimiter: DELIMITERS[best.index] ?? ',', detected: true };
}

/** Names the file's line-ending style from the parser's counts of record terminators. */
export function lineEndingOf(counts: { crlf: number; lf: number; cr: number }): LineEnding {
  const kinds = (['crlf', 'lf', 'cr'] as const).filter((kind) => counts[kind] > 0);
  if (kinds.length === 0) return 'none';
  if (kinds.length > 1) return 'mixed';
  return kinds[0] ?? 'none';
}
