import type { WarningCode } from '../../validation/codes.ts';
import type { DateOrder } from '../spec.ts';
import { BLANK, fail, ok, type TransformResult } from './result.ts';

/** A calendar date/time read from a cell, before any time-zone conversion. */
export interface DateParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  millisecond: number;
  hasTime: boolean;
  /** Offset written in the cell (`Z`, `+02:00`), in minutes; undefined = local to the source. */
  offsetMinutes: number | undefined;
  twoDigitYear: boolean;
}

type ParseOutcome = DateParts | { readonly reason: 'INVALID_DATE' | 'AMBIGUOUS_DATE'; readonly rule: string };

const ISO =
  /^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?\s*(Z|[+-]\d{2}:?\d{2})?)?$/;
const SLASH =
  /^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4}|\d{2})(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?\s*([AaPp][Mm])?)?$/;
const YMD_SLASH =
  /^(\d{4})[/.](\d{1,2})[/.](\d{1,2})(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp][Mm])?)?$/;
const COMPACT = /^(\d{4})(\d{2})(\d{2})$/;
const DAY_MONTH_NAME = /^(\d{1,2})[ -]([A-Za-z]{3,9})\.?[ -,]+(\d{4})$/;
const MONTH_NAME_DAY = /^([A-Za-z]{3,9})\.? (\d{1,2})(?:st|nd|rd|th)?,? (\d{4})$/;
const MONTHS: Record<string, number> = {
  jan: 1,
  feb: 2,
  mar: 3,
  apr: 4,
  may: 5,
  jun: 6,
  jul: 7,
  aug: 8,
  sep: 9,
  sept: 9,
  oct: 10,
  nov: 11,
  dec: 12,
  january: 1,
  february: 2,
  march: 3,
  april: 4,
  june: 6,
  july: 7,
  august: 8,
  september: 9,
  october: 10,
  november: 11,
  december: 12,
};

const MIN_YEAR = 1800;
const MAX_YEAR = 2200;

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

function num(s: string | undefined): number {
  return s === undefined ? 0 : Number(s);
}

function build(
  year: number,
  month: number,
  day: number,
  time: { h?: string; mi?: string; s?: string; ms?: string; ampm?: string; offset?: string },
  twoDigitYear: boolean,
): ParseOutcome {
  if (year < MIN_YEAR || year > MAX_YEAR)
    return { reason: 'INVALID_DATE', rule: `year between ${MIN_YEAR} and ${MAX_YEAR}` };
  if (month < 1 || month > 12) return { reason: 'INVALID_DATE', rule: 'month 1-12' };
  if (day < 1 || day > daysInMonth(year, month))
    return { reason: 'INVALID_DATE', rule: 'day exists in month' };
  const hasTime = time.h !== undefined;
  let hour = num(time.h);
  const minute = num(time.mi);
  const second = num(time.s);
  if (time.ampm !== undefined) {
    if (hour < 1 || hour > 12) return { reason: 'INVALID_DATE', rule: 'hour 1-12 with AM/PM' };
    const pm = time.ampm.toLowerCase() === 'pm';
    hour = (hour % 12) + (pm ? 12 : 0);
  }
  if (hour > 23 || minute > 59 || second > 59) return { reason: 'INVALID_DATE', rule: 'time of day exists' };
  const millisecond = time.ms === undefined ? 0 : Number(time.ms.slice(0, 3).padEnd(3, '0'));
  let offsetMinutes: number | undefined;
  if (time.offset !== undefined) {
    if (time.offset === 'Z') offsetMinutes = 0;
    else {
      const sign = time.offset.startsWith('-') ? -1 : 1;
      const digits = time.offset.slice(1).replace(':', '');
      offsetMinutes = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4)));
    }
  }
  return { year, month, day, hour, minute, second, millisecond, hasTime, offsetMinutes, twoDigitYear };
}

function expandYear(yy: number, nowYear: number): number {
  const year = nowYear - (nowYear % 100) + yy;
  return year > nowYear ? year - 100 : year;
}

/**
 * Reads a date or timestamp cell. Slash dates follow `order`; with `auto` a value whose day and
 * month are both ≤ 12 (and differ) is AMBIGUOUS_DATE — guessing would silently swap them.
 * Two-digit years pivot on the current year (never in the future). Returns null for blank.
 */
export function parseDateParts(raw: string, order: DateOrder, nowYear: number): ParseOutcome | null {
  const value = raw.trim();
  if (value === '') return null;
  let m = SLASH.exec(value);
  if (m !== null) {
    const a = Number(m[1]);
    const b = Number(m[2]);
    const yText = m[3] ?? '';
    const twoDigit = yText.length === 2;
    const year = twoDigit ? expandYear(Number(yText), nowYear) : Number(yText);
    let month: number;
    let day: number;
    if (order === 'MDY') [month, day] = [a, b];
    else if (order === 'DMY') [day, month] = [a, b];
    else if (a > 12 && b <= 12) [day, month] = [a, b];
    else if (b > 12 && a <= 12) [month, day] = [a, b];
    else if (a === b) [month, day] = [a, b];
    else if (a > 12 && b > 12) return { reason: 'INVALID_DATE', rule: 'month 1-12' };
    else return { reason: 'AMBIGUOUS_DATE', rule: 'day/month order unknown' };
    const time: { h?: string; mi?: string; s?: string; ampm?: string } = {};
    if (m[4] !== undefined) time.h = m[4];
    if (m[5] !== undefined) time.mi = m[5];
    if (m[6] !== undefined) time.s = m[6];
    if (m[7] !== undefined) time.ampm = m[7];
    return build(year, month, day, time, twoDigit);
  }
  m = ISO.exec(value);
  if (m !== null) {
    const time: { h?: string; mi?: string; s?: string; ms?: string; offset?: string } = {};
    if (m[4] !== undefined) time.h = m[4];
    if (m[5] !== undefined) time.mi = m[5];
    if (m[6] !== undefined) time.s = m[6];
    if (m[7] !== undefined) time.ms = m[7];
    if (m[8] !== undefined) time.offset = m[8];
    return build(Number(m[1]), Number(m[2]), Number(m[3]), time, false);
  }
  m = YMD_SLASH.exec(value);
  if (m !== null) {
    const time: { h?: string; mi?: string; s?: string; ampm?: string } = {};
    if (m[4] !== undefined) time.h = m[4];
    if (m[5] !== undefined) time.mi = m[5];
    if (m[6] !== undefined) time.s = m[6];
    if (m[7] !== undefined) time.ampm = m[7];
    return build(Number(m[1]), Number(m[2]), Number(m[3]), time, false);
  }
  m = COMPACT.exec(value);
  if (m !== null) return build(Number(m[1]), Number(m[2]), Number(m[3]), {}, false);
  m = DAY_MONTH_NAME.exec(value);
  if (m !== null) {
    const month = MONTHS[(m[2] ?? '').toLowerCase()];
    if (month !== undefined) return build(Number(m[3]), month, Number(m[1]), {}, false);
  }
  m = MONTH_NAME_DAY.exec(value);
  if (m !== null) {
    const month = MONTHS[(m[1] ?? '').toLowerCase()];
    if (month !== undefined) return build(Number(m[3]), month, Number(m[2]), {}, false);
  }
  return { reason: 'INVALID_DATE', rule: 'recognized date format' };
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

function isoDate(p: DateParts): string {
  return `${pad(p.year, 4)}-${pad(p.month)}-${pad(p.day)}`;
}

/** Semantic checks on a date: `birthDate` = not in the future and not more than 130 years ago. */
export type DateCheck = 'birthDate' | 'pastDate';

const DAY_MS = 86_400_000;

/**
 * DATE fields (`YYYY-MM-DD`). `now` is injected (clock port) so the birth-date check is
 * deterministic in tests and the same for every chunk of a run.
 */
export function date(
  raw: string,
  order: DateOrder,
  now: number,
  check?: DateCheck,
): TransformResult<string | null> {
  const nowYear = yearOf(now);
  const parsed = parseDateParts(raw, order, nowYear);
  if (parsed === null) return BLANK;
  if ('reason' in parsed) return fail(parsed.reason, parsed.rule);
  const value = isoDate(parsed);
  if (check !== undefined) {
    const at = Date.UTC(parsed.year, parsed.month - 1, parsed.day);
    if (at > now + DAY_MS) return fail('INVALID_DATE', `${check}: not in the future`);
    if (check === 'birthDate' && at < Date.UTC(nowYear - 130, 0, 1))
      return fail('INVALID_DATE', 'birthDate: at most 130 years ago');
  }
  const warnings: WarningCode[] | undefined = parsed.twoDigitYear ? ['TWO_DIGIT_YEAR'] : undefined;
  return ok(value, warnings);
}

const formatters = new Map<string, Intl.DateTimeFormat>();
const offsetCache = new Map<string, Map<number, number>>();

let lastNow = Number.NaN;
let lastNowYear = 0;
/** UTC year of `now`, memoized: every row of a run passes the same clock reading. */
function yearOf(now: number): number {
  if (now !== lastNow) {
    lastNow = now;
    lastNowYear = new Date(now).getUTCFullYear();
  }
  return lastNowYear;
}

/** Offset (ms) of `zone` at instant `utcMs`: cached per zone and hour, Intl is slow. */
function zoneOffsetMs(zone: string, utcMs: number): number {
  const hour = Math.floor(utcMs / 3_600_000);
  let zoneCache = offsetCache.get(zone);
  if (zoneCache === undefined) {
    zoneCache = new Map();
    offsetCache.set(zone, zoneCache);
  }
  const cached = zoneCache.get(hour);
  if (cached !== undefined) return cached;
  let fmt = formatters.get(zone);
  if (fmt === undefined) {
    fmt = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(zone, fmt);
  }
  const parts: Record<string, number> = {};
  for (const part of fmt.formatToParts(new Date(utcMs)))
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  const wall = Date.UTC(
    parts.year ?? 0,
    (parts.month ?? 1) - 1,
    parts.day ?? 1,
    parts.hour ?? 0,
    parts.minute ?? 0,
    parts.second ?? 0,
  );
  const offset = wall - Math.floor(utcMs / 1000) * 1000;
  if (zoneCache.size > 100_000) zoneCache.clear();
  zoneCache.set(hour, offset);
  return offset;
}

/** UTC instant of a wall-clock time in `zone` (two passes settle DST transitions). */
export function wallTimeToUtc(p: DateParts, zone: string): number {
  const wall = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second, p.millisecond);
  if (p.offsetMinutes !== undefined) return wall - p.offsetMinutes * 60_000;
  if (zone === 'UTC' || zone === 'Etc/UTC') return wall;
  const first = wall - zoneOffsetMs(zone, wall);
  return wall - zoneOffsetMs(zone, first);
}

/** `Date#toISOString` without the Date allocation (years 1800-2200 only, which parse enforces). */
function toIso(ms: number): string {
  const days = Math.floor(ms / DAY_MS);
  let rem = ms - days * DAY_MS;
  // Civil-from-days (H. Hinnant), exact for the proleptic Gregorian calendar.
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  const h = Math.floor(rem / 3_600_000);
  rem -= h * 3_600_000;
  const mi = Math.floor(rem / 60_000);
  rem -= mi * 60_000;
  const sec = Math.floor(rem / 1000);
  const msPart = rem - sec * 1000;
  return `${pad(y, 4)}-${pad(m)}-${pad(d)}T${pad(h)}:${pad(mi)}:${pad(sec)}.${pad(msPart, 3)}Z`;
}

/**
 * DATE_TIME fields (ISO 8601 UTC). Cells without an offset are wall-clock times of the source
 * practice (`timezone`); a date without a time means local midnight.
 */
export function dateTime(
  raw: string,
  order: DateOrder,
  timezone: string,
  now: number,
): TransformResult<string | null> {
  const parsed = parseDateParts(raw, order, yearOf(now));
  if (parsed === null) return BLANK;
  if ('reason' in parsed) return fail(parsed.reason, parsed.rule);
  const iso = toIso(wallTimeToUtc(parsed, timezone));
  return ok(iso, parsed.twoDigitYear ? ['TWO_DIGIT_YEAR'] : undefined);
}

/** What a column's values say about their date format (Inventory and the auto-mapper use it). */
export interface DateColumnProfile {
  /** `ambiguous`: every slash date had day and month ≤ 12, so the order cannot be told. */
  order: 'MDY' | 'DMY' | 'YMD' | 'ambiguous';
  hasTime: boolean;
  /** Share of non-blank values that parsed as dates (0..1). */
  dateShare: number;
}

/**
 * Infers a date column's day/month order from all its values: a first part > 12 proves DMY, a
 * second part > 12 proves MDY; a column with neither is ambiguous unless a profile fixes it.
 */
export function detectDateOrder(
  values: readonly string[],
  nowYear = new Date().getUTCFullYear(),
): DateColumnProfile | null {
  let firstOver12 = false;
  let secondOver12 = false;
  let slash = 0;
  let other = 0;
  let nonBlank = 0;
  let hasTime = false;
  for (const raw of values) {
    const value = raw.trim();
    if (value === '') continue;
    nonBlank++;
    const m = SLASH.exec(value);
    if (m !== null) {
      const a = Number(m[1]);
      const b = Number(m[2]);
      if (a > 31 || b > 31 || (a > 12 && b > 12)) continue;
      slash++;
      if (a > 12) firstOver12 = true;
      if (b > 12) secondOver12 = true;
      if (m[4] !== undefined) hasTime = true;
      continue;
    }
    const p = parseDateParts(value, 'MDY', nowYear);
    if (p !== null && !('reason' in p)) {
      other++;
      if (p.hasTime) hasTime = true;
    }
  }
  if (nonBlank === 0 || slash + other === 0) return null;
  const dateShare = (slash + other) / nonBlank;
  let order: DateColumnProfile['order'];
  if (slash === 0) order = 'YMD';
  else if (firstOver12 && !secondOver12) order = 'DMY';
  else if (secondOver12 && !firstOver12) order = 'MDY';
  else order = 'ambiguous';
  return { order, hasTime, dateShare };
}
