/** What a column's values look like (Inventory samples; the auto-mapper reads the kinds). */

import { looksLikeSsn } from '../phi.ts';
import { detectDateOrder } from '../transforms/date.ts';
import { isValidEmail } from '../transforms/email.ts';
import { normalizeUrl } from '../transforms/links.ts';
import { boolean, parseDecimal } from '../transforms/numbers.ts';
import { phones } from '../transforms/phones.ts';

/** What a column's values look like; drives the transform and the custom field type. */
export type InferredKind =
  | 'empty'
  | 'ssn'
  | 'email'
  | 'phone'
  | 'date'
  | 'dateTime'
  | 'money'
  | 'number'
  | 'boolean'
  | 'url'
  | 'select'
  | 'longText'
  | 'text';

export interface InferredColumnType {
  readonly kind: InferredKind;
  /** Share of non-blank sample values consistent with `kind` (0..1). */
  readonly confidence: number;
  /** date/dateTime: the day/month order the values prove (`ambiguous` when they cannot). */
  readonly dateOrder?: 'MDY' | 'DMY' | 'YMD' | 'ambiguous';
  /** select: the distinct values seen, in first-seen order. */
  readonly options?: readonly string[];
}

export const PHONE_SHAPE = /^\+?[\d\s().-]{7,20}(?:\s*(?:x|ext\.?)\s*\d{1,6})?$/i;

export const MONEY_SHAPE = /^\(?-?\s*[$€£]|^\(\d[\d,]*\.\d{2}\)$|^-?[\d,]+\.\d{2}$/;

export function share(values: readonly string[], test: (v: string) => boolean): number {
  let hits = 0;
  for (const v of values) if (test(v)) hits++;
  return values.length === 0 ? 0 : hits / values.length;
}

/**
 * Infers a column's type from sample values (Inventory calls it per column). Order matters:
 * SSN-shaped values first (they must be excluded), then emails, dates, phones (before numbers:
 * a 10-digit phone parses as a number), money, booleans, numbers, URLs, small value sets
 * (SELECT), long or multi-line text (rich text), plain text.
 */
export function inferColumnType(values: readonly string[]): InferredColumnType {
  const nonBlank = values.map((v) => v.trim()).filter((v) => v !== '');
  if (nonBlank.length === 0) return { kind: 'empty', confidence: 1 };
  const ssn = share(nonBlank, looksLikeSsn);
  if (ssn >= 0.5) return { kind: 'ssn', confidence: ssn };
  const email = share(nonBlank, (v) => isValidEmail(v.toLowerCase()));
  if (email >= 0.8) return { kind: 'email', confidence: email };
  const dates = detectDateOrder(nonBlank);
  if (
    dates !== null &&
    dates.dateShare >= 0.8 &&
    !nonBlank.every((v) => /^\d{8}$/.test(v) && !/^(19|20)/.test(v))
  )
    return { kind: dates.hasTime ? 'dateTime' : 'date', confidence: dates.dateShare, dateOrder: dates.order };
  const phoneShaped = share(nonBlank, (v) => PHONE_SHAPE.test(v) && (v.match(/\d/g)?.length ?? 0) >= 10);
  if (phoneShaped >= 0.8) {
    const valid = share(nonBlank, (v) => phones([v], 'US').ok);
    if (valid >= 0.7) return { kind: 'phone', confidence: valid };
  }
  const money = share(nonBlank, (v) => MONEY_SHAPE.test(v) && typeof parseDecimal(v) === 'object');
  if (money >= 0.8) return { kind: 'money', confidence: money };
  const distinct = [...new Set(nonBlank)];
  const bool = share(nonBlank, (v) => boolean(v).ok);
  if (bool === 1 && distinct.length <= 2 && !distinct.every((v) => /^\d+$/.test(v) && v !== '0' && v !== '1'))
    return { kind: 'boolean', confidence: 1 };
  const num = share(nonBlank, (v) => /^[-+(]?[\d,.]+\)?$/.test(v) && typeof parseDecimal(v) === 'object');
  if (num >= 0.9) return { kind: 'number', confidence: num };
  const url = share(nonBlank, (v) => /^(https?:\/\/|www\.)/i.test(v) && normalizeUrl(v) !== null);
  if (url >= 0.8) return { kind: 'url', confidence: url };
  const longText = share(nonBlank, (v) => v.length > 120 || v.includes('\n'));
  if (longText >= 0.2) return { kind: 'longText', confidence: 1 };
  const maxOptions = Math.min(20, Math.max(2, Math.floor(nonBlank.length / 3)));
  if (nonBlank.length >= 6 && distinct.length <= maxOptions && distinct.every((v) => v.length <= 40))
    return { kind: 'select', confidence: 1 - distinct.length / nonBlank.length, options: distinct };
  return { kind: 'text', confidence: 1 };
}
