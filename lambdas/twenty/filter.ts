import type { FilterCondition, OrderBy, TwentyFilter } from '../ports/twenty.ts';

/** Characters that end a bare value in Twenty's filter grammar; values holding them get quoted. */
const NEEDS_QUOTES = /[,()[\]":\s]/;

function formatScalar(value: string | number | boolean | null): string {
  if (value === null) return 'NULL';
  if (typeof value !== 'string') return String(value);
  if (value === '' || NEEDS_QUOTES.test(value))
    return `"${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
  return value;
}

function formatCondition(condition: FilterCondition): string {
  const { field, op, value } = condition;
  if (Array.isArray(value)) {
    return `${field}[${op}]:[${value.map((item) => formatScalar(item)).join(',')}]`;
  }
  return `${field}[${op}]:${formatScalar(value as string | number | boolean | null)}`;
}

/**
 * Renders a structured filter in Twenty's REST syntax (`field[op]:value`, `and(…)`, `or(…)`,
 * `not(…)`), quoting values that would otherwise break the grammar. Strings pass through so callers
 * can still use a filter copied from Twenty's docs.
 */
export function renderFilter(filter: TwentyFilter): string {
  if (typeof filter === 'string') return filter;
  if ('and' in filter) return `and(${filter.and.map(renderFilter).join(',')})`;
  if ('or' in filter) return `or(${filter.or.map(renderFilter).join(',')})`;
  if ('not' in filter) return `not(${renderFilter(filter.not)})`;
  return formatCondition(filter);
}

/** Renders `order_by` (`field[AscNullsFirst],…`). */
export function renderOrderBy(orderBy: string | readonly OrderBy[]): string {
  if (typeof orderBy === 'string') return orderBy;
  return orderBy.map((order) => `${order.field}[${order.direction ?? 'AscNullsFirst'}]`).join(',');
}

/** Shorthand builders so call sites read like the domain: `where('emails.primaryEmail', 'eq', x)`. */
export function where(
  field: string,
  op: FilterCondition['op'],
  value: FilterCondition['value'],
): FilterCondition {
  return { field, op, value };
}
