import { BLANK, ok, type TransformResult } from './result.ts';

/** Twenty's FULL_NAME composite. */
export interface FullName {
  firstName: string;
  lastName: string;
}

const PREFIXES = new Set(['dr', 'mr', 'mrs', 'ms', 'miss', 'mx', 'prof', 'rev']);
const SUFFIXES = new Set([
  'jr',
  'sr',
  'ii',
  'iii',
  'iv',
  'v',
  'md',
  'dds',
  'dmd',
  'phd',
  'do',
  'rn',
  'np',
  'pa',
  'esq',
]);
const PARTICLES = new Set([
  'van',
  'von',
  'de',
  'del',
  'della',
  'da',
  'di',
  'du',
  'la',
  'le',
  'st',
  'st.',
  'bin',
  'ibn',
]);

function bare(token: string): string {
  return token.toLowerCase().replace(/[.,]/g, '');
}

function splitFirstLast(tokens: string[]): FullName {
  while (tokens.length > 1 && PREFIXES.has(bare(tokens[0] ?? ''))) tokens.shift();
  const suffixes: string[] = [];
  while (tokens.length > 2 && SUFFIXES.has(bare(tokens[tokens.length - 1] ?? ''))) {
    suffixes.unshift((tokens.pop() ?? '').replace(/,$/, ''));
  }
  if (tokens.length === 1) return { firstName: tokens[0] ?? '', lastName: suffixes.join(' ') };
  let lastStart = tokens.length - 1;
  while (lastStart > 1 && PARTICLES.has(bare(tokens[lastStart - 1] ?? ''))) lastStart--;
  const first = tokens.slice(0, lastStart).join(' ').replace(/,$/, '');
  const last = [...tokens.slice(lastStart), ...suffixes].join(' ');
  return { firstName: first, lastName: last };
}

/**
 * Splits one full-name cell. "Last, First M" (the report format most practice systems export)
 * and "First Last" are both handled; courtesy prefixes are dropped, generational and degree
 * suffixes stay with the last name, particles (van, de la…) start the last name.
 */
export function splitFullName(raw: string): FullName | null {
  const value = raw.trim().replace(/\s+/g, ' ');
  if (value === '') return null;
  const comma = value.indexOf(',');
  if (comma > 0) {
    const before = value.slice(0, comma).trim();
    const after = value.slice(comma + 1).trim();
    // "Smith, Jr." style: a suffix after the comma belongs to a First Last name.
    if (after !== '' && !SUFFIXES.has(bare(after))) {
      const firstTokens = after.split(' ').filter((t) => !PREFIXES.has(bare(t)));
      const suffixes: string[] = [];
      while (firstTokens.length > 1 && SUFFIXES.has(bare(firstTokens[firstTokens.length - 1] ?? ''))) {
        suffixes.unshift(firstTokens.pop() ?? '');
      }
      return { firstName: firstTokens.join(' '), lastName: [before, ...suffixes].join(' ') };
    }
    return splitFirstLast(value.replace(',', '').split(' '));
  }
  return splitFirstLast(value.split(' '));
}

/**
 * FULL_NAME from its source columns: one column is split, two are (first, last), three are
 * (first, middle, last) with the middle kept in firstName since Twenty has no middle name.
 */
export function fullName(parts: readonly string[]): TransformResult<FullName | null> {
  if (parts.length === 1) {
    const split = splitFullName(parts[0] ?? '');
    return split === null ? BLANK : ok(split);
  }
  const first = (parts.length >= 3 ? `${parts[0]?.trim() ?? ''} ${parts[1]?.trim() ?? ''}` : (parts[0] ?? ''))
    .trim()
    .replace(/\s+/g, ' ');
  const last = (parts[parts.length - 1] ?? '').trim();
  if (first === '' && last === '') return BLANK;
  return ok({ firstName: first, lastName: last });
}
