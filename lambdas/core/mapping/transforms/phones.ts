import { type CountryCode, getCountryCallingCode, parsePhoneNumberFromString } from 'libphonenumber-js';
import type { WarningCode } from '../../validation/codes.ts';
import { BLANK, fail, ok, type TransformResult } from './result.ts';

/** One entry of PHONES.additionalPhones as Twenty stores it. */
export interface AdditionalPhone {
  number: string;
  countryCode: string;
  callingCode: string;
}

/** Twenty's PHONES composite: the national number plus ISO country and `+<calling code>`. */
export interface Phones {
  primaryPhoneNumber: string;
  primaryPhoneCountryCode: string;
  primaryPhoneCallingCode: string;
  additionalPhones: AdditionalPhone[];
}

const LIST_SEPARATOR = /\s*(?:;|\||,|&|\bor\b|\band\b)\s*/i;
const DIGITS = /\d/g;
const E164 = /^\+[1-9]\d{6,14}$/;

function digitCount(value: string): number {
  return value.match(DIGITS)?.length ?? 0;
}

const NANP_PLAIN = /^\s*(?:\+?1[\s.-]?)?\(?\d{3}\)?[\s.-]?\d{3}[\s.-]?\d{4}\s*$/;

interface ParsedPhone {
  e164: string;
  national: string;
  countryCode: string;
  callingCode: string;
  ext: string | undefined;
}

/**
 * NANP numbers are most of what US practices export and libphonenumber's full parse costs
 * ~15 µs. For a plain 10-digit NANP number (no letters, no extension) validity and country depend
 * only on the first digits, so the full parse runs once per area-code+exchange-digit prefix and
 * its verdict is reused. The cache is bounded (≤ 10,000 prefixes) and holds no whole number.
 */
const nanpPrefixVerdicts = new Map<string, { countryCode: string } | null>();
const callingCodeCache = new Map<string, string>();

function callingCodeOf(country: string): string | undefined {
  let code = callingCodeCache.get(country);
  if (code === undefined) {
    try {
      code = getCountryCallingCode(country as CountryCode);
    } catch {
      code = '';
    }
    callingCodeCache.set(country, code);
  }
  return code === '' ? undefined : code;
}

function parseOne(trimmed: string, defaultCountry: string): ParsedPhone | null {
  if (callingCodeOf(defaultCountry) === '1' && NANP_PLAIN.test(trimmed)) {
    const digits = trimmed.replace(/\D/g, '');
    const national = digits.length === 11 ? digits.slice(1) : digits;
    const prefix = national.slice(0, 4);
    let verdict = nanpPrefixVerdicts.get(prefix);
    if (verdict === undefined) {
      const parsed = parsePhoneNumberFromString(`+1${national}`);
      verdict = parsed?.isValid() ? { countryCode: parsed.country ?? defaultCountry } : null;
      nanpPrefixVerdicts.set(prefix, verdict);
    }
    if (verdict === null) return null;
    return {
      e164: `+1${national}`,
      national,
      countryCode: verdict.countryCode,
      callingCode: '+1',
      ext: undefined,
    };
  }
  const parsed = parsePhoneNumberFromString(trimmed, defaultCountry as CountryCode);
  if (parsed === undefined || !parsed.isValid()) return null;
  return {
    e164: parsed.number,
    national: parsed.nationalNumber as string,
    countryCode: parsed.country ?? defaultCountry,
    callingCode: `+${parsed.countryCallingCode}`,
    ext: parsed.ext,
  };
}

/** Splits a cell holding several numbers; a `/` splits only when both sides are whole numbers. */
function splitNumbers(cell: string): string[] {
  const out: string[] = [];
  for (const part of cell.split(LIST_SEPARATOR)) {
    if (part.includes('/')) {
      const pieces = part.split('/');
      if (pieces.every((p) => digitCount(p) >= 7)) {
        out.push(...pieces);
        continue;
      }
    }
    out.push(part);
  }
  return out;
}

/**
 * PHONES from one or more cells (e.g. Cell, Home, Work in priority order): each number is
 * parsed with libphonenumber-js (default country for numbers without `+`), the first valid one
 * becomes primary, the others — and a number's extension, as `<national>;ext=<n>` — go to
 * additionalPhones because the composite has no extension sub-field. Any unparseable non-blank
 * number rejects the row (INVALID_PHONE) rather than silently losing a contact route.
 */
export function phones(cells: readonly string[], defaultCountry: string): TransformResult<Phones | null> {
  let primary: Phones | null = null;
  let normalized = false;
  let extension = false;
  const seen = new Set<string>();
  for (const cell of cells) {
    if (cell.trim() === '') continue;
    for (const candidate of splitNumbers(cell)) {
      const trimmed = candidate.trim();
      if (trimmed === '') continue;
      const parsed = parseOne(trimmed, defaultCountry);
      if (parsed === null) return fail('INVALID_PHONE', 'phone number not valid for its country');
      const { e164, national, countryCode, callingCode } = parsed;
      if (trimmed !== e164 || !E164.test(trimmed)) normalized = true;
      if (!seen.has(e164)) {
        seen.add(e164);
        if (primary === null) {
          primary = {
            primaryPhoneNumber: national,
            primaryPhoneCountryCode: countryCode,
            primaryPhoneCallingCode: callingCode,
            additionalPhones: [],
          };
        } else primary.additionalPhones.push({ number: national, countryCode, callingCode });
      }
      if (parsed.ext !== undefined && primary !== null) {
        extension = true;
        primary.additionalPhones.push({ number: `${national};ext=${parsed.ext}`, countryCode, callingCode });
      }
    }
  }
  if (primary === null) return BLANK;
  const warnings: WarningCode[] = [];
  if (normalized) warnings.push('PHONE_NORMALIZED');
  if (extension) warnings.push('PHONE_EXTENSION');
  return ok(primary, warnings.length > 0 ? warnings : undefined);
}
