import { BLANK, fail, ok, type TransformResult } from './result.ts';

/** Twenty's CURRENCY composite; amountMicros = amount × 1,000,000 as an integer. */
export interface Currency {
  amountMicros: number;
  currencyCode: string;
}

const CURRENCY_NOISE = /[$€£¥\s]|\b[A-Z]{3}\b|USD|EUR|GBP|CAD/g;
const US_NUMBER = /^[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)?(?:\.\d+)?$/;
const EU_NUMBER = /^[+-]?(?:\d{1,3}(?:\.\d{3})+|\d+)?(?:,\d+)?$/;
const EU_HINT = /^[+-]?(?:\d{1,3}(?:\.\d{3})+,\d{1,2}|\d+,\d{1,2})$/;

interface Decimal {
  negative: boolean;
  integer: string;
  fraction: string;
}

/**
 * Reads "$1,234.50", "(12.00)" (accounting negative), "-12", "1.234,50" (decimal comma, detected
 * when unambiguous or forced with `decimalComma`). Exact: digits are kept as strings, no floats.
 */
const PLAIN = /^(\d+)(?:\.(\d+))?$/;

export function parseDecimal(raw: string, decimalComma?: boolean): Decimal | null | 'invalid' {
  let value = raw.trim();
  if (value === '') return null;
  if (decimalComma !== true) {
    const plain = PLAIN.exec(value);
    if (plain !== null)
      return {
        negative: false,
        integer: (plain[1] ?? '0').replace(/^0+(?=\d)/, ''),
        fraction: plain[2] ?? '',
      };
  }
  let negative = false;
  if (value.startsWith('(') && value.endsWith(')')) {
    negative = true;
    value = value.slice(1, -1);
  }
  value = value.replace(CURRENCY_NOISE, '');
  if (value.endsWith('-')) {
    negative = !negative;
    value = value.slice(0, -1);
  }
  if (value.startsWith('-')) {
    negative = !negative;
    value = value.slice(1);
  } else if (value.startsWith('+')) value = value.slice(1);
  if (value === '') return 'invalid';
  const comma = decimalComma ?? EU_HINT.test(value);
  if (comma ? !EU_NUMBER.test(value) : !US_NUMBER.test(value)) return 'invalid';
  const [intPart, fraction = ''] = comma
    ? value.replaceAll('.', '').split(',')
    : value.replaceAll(',', '').split('.');
  return { negative, integer: (intPart ?? '').replace(/^0+(?=\d)/, '') || '0', fraction };
}

/** CURRENCY from a money cell; amounts beyond JS safe integers in micros are rejected. */
export function money(
  raw: string,
  currencyCode: string,
  decimalComma?: boolean,
): TransformResult<Currency | null> {
  const d = parseDecimal(raw, decimalComma);
  if (d === null) return BLANK;
  if (d === 'invalid') return fail('INVALID_NUMBER', 'money amount');
  const micros = Number(`${d.integer}${d.fraction.slice(0, 6).padEnd(6, '0')}`);
  if (!Number.isSafeInteger(micros)) return fail('INVALID_NUMBER', 'money amount within range');
  return ok({ amountMicros: d.negative && micros !== 0 ? -micros : micros, currencyCode });
}

/** NUMBER from a numeric cell (thousands separators and accounting negatives allowed). */
export function number(raw: string, decimalComma?: boolean): TransformResult<number | null> {
  const d = parseDecimal(raw, decimalComma);
  if (d === null) return BLANK;
  if (d === 'invalid') return fail('INVALID_NUMBER', 'number');
  const n = Number(`${d.negative ? '-' : ''}${d.integer}.${d.fraction || '0'}`);
  if (!Number.isFinite(n)) return fail('INVALID_NUMBER', 'number within range');
  return ok(n);
}

const TRUE_WORDS = new Set(['y', 'yes', 'true', 't', '1', 'x', 'on', 'checked', '✓']);
const FALSE_WORDS = new Set(['n', 'no', 'false', 'f', '0', 'off', 'unchecked']);

/** BOOLEAN from Y/N, yes/no, 1/0, true/false, X (checkbox exports); blank → null, not false. */
export function boolean(raw: string): TransformResult<boolean | null> {
  const value = raw.trim().toLowerCase();
  if (value === '') return BLANK;
  if (TRUE_WORDS.has(value)) return ok(true);
  if (FALSE_WORDS.has(value)) return ok(false);
  return fail('INVALID_BOOLEAN', 'boolean (Y/N, yes/no, 1/0, true/false, X)');
}
