import type { SelectOptionSpec } from '../mapping/spec.ts';
import { parseDateParts } from '../mapping/transforms/date.ts';
import { parseDecimal } from '../mapping/transforms/numbers.ts';
import { optionsOf } from './profile.ts';

export type InferredFieldType = 'TEXT' | 'SELECT' | 'DATE' | 'NUMBER';

/** A custom field inferred for one property name of a long-format (pivot) file. */
export interface PivotField {
  /** The property name as the source wrote it. */
  readonly property: string;
  /** camelCase Twenty field name. */
  readonly fieldName: string;
  readonly type: InferredFieldType;
  readonly values: number;
  readonly options?: SelectOptionSpec[];
}

/** Twenty field name for a property label: camelCase ASCII, never starting with a digit. */
export function fieldNameOf(property: string): string {
  const words = property
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .split(/[^A-Za-z0-9]+/)
    .filter((w) => w !== '');
  const camel = words
    .map((w, i) => (i === 0 ? w.toLowerCase() : w[0]?.toUpperCase() + w.slice(1).toLowerCase()))
    .join('');
  const safe = /^[a-z]/.test(camel) ? camel : `custom${camel.charAt(0).toUpperCase()}${camel.slice(1)}`;
  return safe.slice(0, 63) || 'customProperty';
}

/**
 * Infers one custom field per property from its values: all numbers → NUMBER, all dates (in
 * the source's day/month order) → DATE, a small repeated vocabulary → SELECT with one option
 * per value, anything else → TEXT. Rows already rejected must not be passed in.
 */
export function inferPivotFields(
  rows: Iterable<{ readonly property: string; readonly value: string }>,
  options: { dateOrder?: 'MDY' | 'DMY' | 'YMD'; nowYear?: number } = {},
): PivotField[] {
  const byProperty = new Map<string, string[]>();
  for (const { property, value } of rows) {
    const p = property.trim();
    const v = value.trim();
    if (p === '') continue;
    let list = byProperty.get(p);
    if (list === undefined) {
      list = [];
      byProperty.set(p, list);
    }
    if (v !== '') list.push(v);
  }
  const order = options.dateOrder ?? 'MDY';
  const nowYear = options.nowYear ?? 2025;
  const fields: PivotField[] = [];
  for (const [property, values] of [...byProperty].sort(([a], [b]) => a.localeCompare(b))) {
    const fieldName = fieldNameOf(property);
    const distinct = [...new Set(values)].sort();
    let type: InferredFieldType = 'TEXT';
    if (
      values.length > 0 &&
      values.every((v) => typeof parseDecimal(v) === 'object' && parseDecimal(v) !== null)
    )
      type = 'NUMBER';
    else if (
      values.length > 0 &&
      values.every((v) => {
        const d = parseDateParts(v, order, nowYear);
        return d !== null && !('reason' in d);
      })
    )
      type = 'DATE';
    else if (distinct.length > 0 && distinct.length <= 20 && values.length >= 2 * distinct.length)
      type = 'SELECT';
    fields.push(
      type === 'SELECT'
        ? { property, fieldName, type, values: values.length, options: optionsOf(distinct) }
        : { property, fieldName, type, values: values.length },
    );
  }
  return fields;
}
