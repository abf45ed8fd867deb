import type { WarningCode } from '../../validation/codes.ts';
import { BLANK, fail, ok, type TransformResult } from './result.ts';

const DIACRITICS = /[\u0300-\u036f]/g;
const NON_WORD = /[^A-Za-z0-9]+/g;
const EDGE_UNDERSCORES = /^_+|_+$/g;

/**
 * A source label → a valid Twenty option value: a GraphQL enum name in UPPER_SNAKE, as Twenty's
 * UI writes them (`REJECTED-RESUBMIT` → `REJECTED_RESUBMIT`, `In Review` → `IN_REVIEW`,
 * `2nd visit` → `_2ND_VISIT`). Accents are folded; a label with no letters or digits → `_`.
 */
export function toOptionValue(label: string): string {
  const folded = label.normalize('NFKD').replace(DIACRITICS, '');
  const snake = folded.replace(NON_WORD, '_').replace(EDGE_UNDERSCORES, '').toUpperCase();
  if (snake === '') return '_';
  return /^[0-9]/.test(snake) ? `_${snake}` : snake;
}

/** Key used to look a source value up in a value map: case-, space- and punctuation-insensitive. */
export function valueKey(raw: string): string {
  return raw.trim().toLowerCase().replace(/\s+/g, ' ');
}

/** A select field's value rules, precompiled once per field (see compileSelect). */
export interface CompiledSelect {
  /** valueKey(source value) → option value. */
  readonly map: ReadonlyMap<string, string>;
  /** Option values that exist or will be created; a source value equal to one maps to itself. */
  readonly known: ReadonlySet<string>;
  readonly unmapped: 'reject' | 'default' | 'addOption';
  readonly defaultValue: string | undefined;
}

/** Precompiles a field's valueMap/options/default so the per-row lookup is one Map.get. */
export function compileSelect(spec: {
  valueMap?: Record<string, string> | undefined;
  options?: ReadonlyArray<{ value: string; label: string }> | undefined;
  unmapped: 'reject' | 'default' | 'addOption';
  default?: string | undefined;
}): CompiledSelect {
  const map = new Map<string, string>();
  const known = new Set<string>();
  for (const [from, to] of Object.entries(spec.valueMap ?? {})) {
    map.set(valueKey(from), to);
    known.add(to);
  }
  for (const option of spec.options ?? []) {
    known.add(option.value);
    if (!map.has(valueKey(option.label))) map.set(valueKey(option.label), option.value);
  }
  if (spec.default !== undefined) known.add(spec.default);
  for (const value of known) if (!map.has(valueKey(value))) map.set(valueKey(value), value);
  return { map, known, unmapped: spec.unmapped, defaultValue: spec.default };
}

function lookup(raw: string, c: CompiledSelect): TransformResult<string> {
  const mapped = c.map.get(valueKey(raw));
  if (mapped !== undefined) return ok(mapped);
  const asValue = toOptionValue(raw);
  if (c.known.has(asValue)) return ok(asValue);
  if (c.unmapped === 'default' && c.defaultValue !== undefined)
    return ok(c.defaultValue, ['VALUE_DEFAULTED']);
  if (c.unmapped === 'addOption') return ok(asValue, ['OPTION_ADDED']);
  return fail('UNMAPPED_VALUE', 'value not in valueMap');
}

/** SELECT: blank → the default (or null); unmapped values follow the field's `unmapped` rule. */
export function select(raw: string, c: CompiledSelect): TransformResult<string | null> {
  if (raw.trim() === '') return c.defaultValue === undefined ? BLANK : ok(c.defaultValue);
  return lookup(raw, c);
}

/** MULTI_SELECT: the cell is split on `separator`; each part is looked up like a SELECT value. */
export function multiSelect(
  raw: string,
  c: CompiledSelect,
  separator: string,
): TransformResult<string[] | null> {
  if (raw.trim() === '') return BLANK;
  const out: string[] = [];
  let warnings: WarningCode[] | undefined;
  for (const part of raw.split(separator)) {
    if (part.trim() === '') continue;
    const r = lookup(part, c);
    if (!r.ok) return r;
    if (!out.includes(r.value)) out.push(r.value);
    if (r.warnings) warnings = [...(warnings ?? []), ...r.warnings];
  }
  return out.length === 0 ? BLANK : ok(out, warnings);
}
