/**
 * Reason and warning codes: the vocabulary every reject, report and reconciliation speaks.
 * Rejects drop a row (it is counted, never lost); warnings keep the row and say what Ferry
 * changed. They are counted separately so "source = loaded + rejected + skipped" stays exact.
 */

/** Why a row was rejected. Stable strings: reports, expected.json and tests compare them. */
export const REASON_CODES = [
  'MISSING_REQUIRED',
  'INVALID_EMAIL',
  'INVALID_PHONE',
  'INVALID_DATE',
  'AMBIGUOUS_DATE',
  'INVALID_NUMBER',
  'INVALID_BOOLEAN',
  'DUPLICATE_SOURCE_ID',
  'DUPLICATE_EMAIL',
  'ORPHAN_REFERENCE',
  'UNMAPPED_VALUE',
  'VALUE_TOO_LONG',
  'MALFORMED_ROW',
  'ENCODING_ERROR',
  'MISSING_FILE',
  'FILE_TOO_LARGE',
  'PHI_FORBIDDEN',
  // A FHIR bulk export's NDJSON line that is not JSON, not a FHIR resource, or of another type than its file's.
  'INVALID_JSON',
  'NOT_FHIR_RESOURCE',
  'UNEXPECTED_RESOURCE_TYPE',
] as const;
export type ReasonCode = (typeof REASON_CODES)[number];

/** What Ferry changed or noticed on a row it still loads. */
export const WARNING_CODES = [
  'SHARED_EMAIL',
  'SHARED_DOMAIN',
  'PHONE_NORMALIZED',
  'PHONE_EXTENSION',
  'ZIP_RESTORED',
  'ZIP_UNRECOGNIZED',
  'STATE_UNRECOGNIZED',
  'NAME_SPLIT',
  'VALUE_DEFAULTED',
  'OPTION_ADDED',
  'LINK_DROPPED',
  'REFERENCE_DROPPED',
  'TWO_DIGIT_YEAR',
] as const;
export type WarningCode = (typeof WARNING_CODES)[number];

/**
 * One rejected row problem, as written to `runs/<runId>/rejects/*.ndjson`. It locates the value
 * (file, line, entity, source id, field) and names the rule, but never carries the value (PHI).
 */
export interface Reject {
  readonly file: string;
  readonly line: number;
  readonly entity: string;
  /** Source id of the row, or null when the id itself is missing. Ids are not clinical values. */
  readonly sourceId: string | null;
  /** Target field, relation or column the problem is on; `(row)` for whole-row problems. */
  readonly field: string;
  readonly reason: ReasonCode;
  readonly rule: string;
}

/** A reject before it is located in a file (what transforms and mapRow produce). */
export interface FieldReject {
  readonly field: string;
  readonly reason: ReasonCode;
  readonly rule: string;
}

/**
 * Counters for one entity. `rejectsByReason` counts each rejected row once, by its first
 * (primary) reason, so its sum equals `rejected`; warnings count every occurrence.
 */
export interface ValidationCounters {
  rows: number;
  accepted: number;
  rejected: number;
  rejectsByReason: Partial<Record<ReasonCode, number>>;
  warningsByCode: Partial<Record<WarningCode, number>>;
}

/** Fresh zeroed counters. */
export function emptyCounters(): ValidationCounters {
  return { rows: 0, accepted: 0, rejected: 0, rejectsByReason: {}, warningsByCode: {} };
}

/** Adds `b` into `a` (chunk counters → entity counters → run counters). */
export function mergeCounters(a: ValidationCounters, b: ValidationCounters): ValidationCounters {
  a.rows += b.rows;
  a.accepted += b.accepted;
  a.rejected += b.rejected;
  for (const [k, v] of Object.entries(b.rejectsByReason) as Array<[ReasonCode, number]>)
    a.rejectsByReason[k] = (a.rejectsByReason[k] ?? 0) + v;
  for (const [k, v] of Object.entries(b.warningsByCode) as Array<[WarningCode, number]>)
    a.warningsByCode[k] = (a.warningsByCode[k] ?? 0) + v;
  return a;
}

/** Appends to a lazily created list: the accepted-row hot path allocates no reject arrays. */
export function append<T>(list: T[] | undefined, item: T): T[] {
  if (list === undefined) return [item];
  list.push(item);
  return list;
}
