import type { IdMapRow } from '../ledger/entry.ts';
import type { MappedLine } from './format.ts';

/**
 * What the loader does with one mapped record, decided from the id map before anything is sent:
 * - `unchanged`: Ferry already wrote this exact content to this id (a second run, a delta) → no request;
 * - `updated`: Ferry wrote other content before, or the record is a pre-existing Twenty record that
 *   the source matched (merge target) → read and keep a before-image first, then upsert;
 * - `created`: never written by Ferry → upsert (a retry of the same chunk overwrites itself).
 */
export type LoadDecision = 'created' | 'updated' | 'unchanged';

export function decideLoad(line: Pick<MappedLine, 'id' | 'contentHash' | 'mergeTarget'>, mapped?: IdMapRow) {
  if (mapped !== undefined) {
    if (mapped.twentyId === line.id && mapped.contentHash === line.contentHash) return 'unchanged';
    return 'updated';
  }
  return line.mergeTarget === true ? 'updated' : 'created';
}

/**
 * Splits NDJSON text into parsed lines with their 1-based position. An unparsable line is a bug in
 * the writer (Prepare), not bad source data, so the caller raises it; the callback gets the
 * position only.
 */
export function parseNdjson(text: string, onBadLine: (position: number) => never): unknown[] {
  const out: unknown[] = [];
  let position = 0;
  for (const raw of text.split('\n')) {
    position++;
    if (raw.trim() === '') continue;
    try {
      out.push(JSON.parse(raw));
    } catch {
      onBadLine(position);
    }
  }
  return out;
}

/** The field name at the start of a sanitized Twenty/client reason (`emails.primaryEmail: …`), if any. */
export function reasonField(reason: string): string {
  const match = /^([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*):\s/.exec(reason);
  return match?.[1] ?? '';
}

/** Adds one to a count map (reasons, warning codes). */
export function bump(counts: Record<string, number>, key: string, by = 1): void {
  counts[key] = (counts[key] ?? 0) + by;
}
