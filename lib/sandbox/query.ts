import type { SQLInputValue } from 'node:sqlite';
import { badRequest } from './http-error.ts';

/** Comparison operators of Twenty's REST filter grammar. */
export const FILTER_OPS = [
  'eq',
  'neq',
  'in',
  'containsAny',
  'is',
  'gt',
  'gte',
  'lt',
  'lte',
  'startsWith',
  'endsWith',
  'like',
  'ilike',
] as const;
export type FilterOp = (typeof FILTER_OPS)[number];

/** A parsed filter: boolean combinators over `field[op]:value` leaves. */
export type FilterNode =
  | { readonly kind: 'and' | 'or'; readonly items: readonly FilterNode[] }
  | { readonly kind: 'not'; readonly item: FilterNode }
  | {
      readonly kind: 'leaf';
      readonly path: readonly string[];
      readonly op: FilterOp;
      readonly value: string | string[];
    };

/**
 * Parses Twenty's REST `filter` parameter, e.g. `and(name.firstName[eq]:"Ann",or(x[is]:NULL,y[gt]:3))`.
 * Top-level commas mean AND. Throws a 400 naming the rule broken (never echoing the value).
 */
export function parseFilter(input: string): FilterNode {
  let pos = 0;
  const fail = (rule: string): never => {
    throw badRequest(`Invalid filter: ${rule} at position ${pos}`);
  };
  const peek = (): string => input.charAt(pos);

  const parseQuoted = (): string => {
    pos += 1;
    let out = '';
    while (pos < input.length && peek() !== '"') {
      if (peek() === '\\' && pos + 1 < input.length) pos += 1;
      out += peek();
      pos += 1;
    }
    if (peek() !== '"') fail('unterminated quoted value');
    pos += 1;
    return out;
  };

  const parseScalar = (stops: string): string => {
    if (peek() === '"') return parseQuoted();
    const start = pos;
    while (pos < input.length && !stops.includes(peek())) pos += 1;
    return input.slice(start, pos).trim();
  };

  const parseList = (): string[] => {
    pos += 1;
    const items: string[] = [];
    while (pos < input.length && peek() !== ']') {
      items.push(parseScalar(',]'));
      if (peek() === ',') pos += 1;
    }
    if (peek() !== ']') fail('unterminated list');
    pos += 1;
    return items;
  };

  const parseCondition = (): FilterNode => {
    const rest = input.slice(pos);
    const combinator = /^(and|or|not)\(/.exec(rest);
    if (combinator) {
      const kind = combinator[1] as 'and' | 'or' | 'not';
      pos += kind.length + 1;
      const items = parseList2(')');
      if (peek() !== ')') fail('missing closing parenthesis');
      pos += 1;
      if (kind === 'not') {
        if (items.length !== 1) fail('not() takes exactly one condition');
        return { kind: 'not', item: items[0]! };
      }
      return { kind, items };
    }
    const leaf = /^([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?)\[([A-Za-z]+)\]:/.exec(rest);
    if (!leaf) return fail('expected field[operator]:value');
    pos += leaf[0].length;
    const op = leaf[2] as FilterOp;
    if (!(FILTER_OPS as readonly string[]).includes(op)) fail(`unknown operator ${op}`);
    const value = peek() === '[' ? parseList() : parseScalar(',)');
    return { kind: 'leaf', path: leaf[1]!.split('.'), op, value };
  };

  const parseList2 = (close: string): FilterNode[] => {
    const items: FilterNode[] = [parseCondition()];
    while (peek() === ',') {
      pos += 1;
      if (peek() === close) break;
      items.push(parseCondition());
    }
    return items;
  };

  const trimmed = input.trim();
  if (trimmed === '') fail('empty filter');
  input = trimmed;
  const items = parseList2('');
  if (pos !== input.length) fail('unexpected trailing characters');
  return items.length === 1 ? items[0]! : { kind: 'and', items };
}

/** True when a filter mentions `deletedAt` (Twenty then includes soft-deleted rows). */
export function mentionsDeletedAt(node: FilterNode): boolean {
  if (node.kind === 'leaf') return node.path[0] === 'deletedAt';
  if (node.kind === 'not') return mentionsDeletedAt(node.item);
  return node.items.some(mentionsDeletedAt);
}

/** How a filter path maps onto storage: the SQL expression and the kind of value it holds. */
export interface ResolvedPath {
  readonly sql: string;
  readonly kind: 'string' | 'number' | 'boolean' | 'array' | 'date';
  /** Set when the path is a unique key: eq/in then use the indexed uniques table, not a scan. */
  readonly unique?: { readonly object: string; readonly key: string };
}

/** A compiled SQL predicate with its positional parameters. */
export interface SqlFragment {
  readonly sql: string;
  readonly params: SQLInputValue[];
}

function coerce(kind: ResolvedPath['kind'], raw: string, field: string): SQLInputValue {
  if (kind === 'number') {
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n))
      throw badRequest(`Invalid filter: ${field} expects a number`);
    return n;
  }
  if (kind === 'boolean') {
    if (raw !== 'true' && raw !== 'false') throw badRequest(`Invalid filter: ${field} expects true or false`);
    return raw === 'true' ? 1 : 0;
  }
  if (kind === 'date') {
    const t = Date.parse(raw);
    if (Number.isNaN(t)) throw badRequest(`Invalid filter: ${field} expects a date`);
    return /^\d{4}-\d{2}-\d{2}$/.test(raw) ? raw : new Date(t).toISOString();
  }
  return raw;
}

/** Index-backed membership test on a unique key (values are stored exactly as the record holds them). */
function uniqueLookup(unique: { object: string; key: string }, values: readonly string[]): SqlFragment {
  return {
    sql: `(id IN (SELECT id FROM uniques WHERE object = ? AND key = ? AND value IN (${values.map(() => '?').join(', ')})))`,
    params: [unique.object, unique.key, ...values],
  };
}

const SQL_COMPARISONS = { eq: '=', neq: '!=', gt: '>', gte: '>=', lt: '<', lte: '<=' } as const;

/** Converts a SQL LIKE pattern into an equivalent (case-sensitive) GLOB pattern. */
function likeToGlob(pattern: string): string {
  return pattern.replace(/[[\]*?%_]/g, (c) => (c === '%' ? '*' : c === '_' ? '?' : `[${c}]`));
}

/** Compiles a filter to SQL over the records table; `resolve` validates every path against metadata. */
export function compileFilter(
  node: FilterNode,
  resolve: (path: readonly string[]) => ResolvedPath,
): SqlFragment {
  if (node.kind === 'not') {
    const inner = compileFilter(node.item, resolve);
    return { sql: `(NOT coalesce(${inner.sql}, 0))`, params: inner.params };
  }
  if (node.kind !== 'leaf') {
    const parts = node.items.map((item) => compileFilter(item, resolve));
    return {
      sql: `(${parts.map((p) => p.sql).join(node.kind === 'and' ? ' AND ' : ' OR ')})`,
      params: parts.flatMap((p) => p.params),
    };
  }
  const field = node.path.join('.');
  const target = resolve(node.path);
  const { op, value } = node;
  const scalar = (): string => {
    if (Array.isArray(value)) throw badRequest(`Invalid filter: ${field}[${op}] expects a single value`);
    return value;
  };
  const list = (): string[] => {
    if (!Array.isArray(value)) throw badRequest(`Invalid filter: ${field}[${op}] expects a list [a,b]`);
    return value;
  };
  switch (op) {
    case 'is': {
      const v = scalar();
      if (v === 'NULL') return { sql: `(${target.sql} IS NULL)`, params: [] };
      if (v === 'NOT_NULL') return { sql: `(${target.sql} IS NOT NULL)`, params: [] };
      throw badRequest(`Invalid filter: ${field}[is] expects NULL or NOT_NULL`);
    }
    case 'eq':
      if (target.unique && scalar() !== '') return uniqueLookup(target.unique, [scalar()]);
      return { sql: `(${target.sql} = ?)`, params: [coerce(target.kind, scalar(), field)] };
    case 'neq':
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte': {
      const sqlOp = SQL_COMPARISONS[op];
      return { sql: `(${target.sql} ${sqlOp} ?)`, params: [coerce(target.kind, scalar(), field)] };
    }
    case 'in': {
      const values = list();
      if (target.unique && values.length > 0 && values.every((v) => v !== ''))
        return uniqueLookup(target.unique, values);
      if (values.length === 0) return { sql: '(0)', params: [] };
      return {
        sql: `(${target.sql} IN (${values.map(() => '?').join(', ')}))`,
        params: values.map((v) => coerce(target.kind, v, field)),
      };
    }
    case 'containsAny': {
      const values = list();
      if (target.kind !== 'array')
        throw badRequest(`Invalid filter: ${field}[containsAny] needs an array field`);
      if (values.length === 0) return { sql: '(0)', params: [] };
      return {
        sql: `(EXISTS (SELECT 1 FROM json_each(${target.sql}) WHERE json_each.value IN (${values.map(() => '?').join(', ')})))`,
        params: values,
      };
    }
    case 'startsWith':
      return { sql: `(substr(${target.sql}, 1, length(?)) = ?)`, params: [scalar(), scalar()] };
    case 'endsWith':
      return {
        sql: `(length(${target.sql}) >= length(?) AND substr(${target.sql}, -length(?)) = ?)`,
        params: [scalar(), scalar(), scalar()],
      };
    case 'like':
      return { sql: `(${target.sql} GLOB ?)`, params: [likeToGlob(scalar())] };
    case 'ilike':
      return {
        sql: `(lower(${target.sql}) LIKE lower(?) ESCAPE '\\')`,
        params: [scalar().replace(/\\/g, '\\\\')],
      };
  }
}

/** Orderings Twenty accepts; bare `Asc`/`Desc` follow Postgres' defaults (nulls last on ASC? no: Twenty maps Asc→AscNullsFirst). */
export const ORDER_DIRECTIONS = [
  'AscNullsFirst',
  'AscNullsLast',
  'DescNullsFirst',
  'DescNullsLast',
  'Asc',
  'Desc',
] as const;

/** One `order_by` term. */
export interface OrderTerm {
  readonly path: readonly string[];
  readonly descending: boolean;
  readonly nullsFirst: boolean;
}

/** Parses `order_by=createdAt,name.firstName[DescNullsLast]`. */
export function parseOrderBy(input: string): OrderTerm[] {
  const terms: OrderTerm[] = [];
  for (const raw of input.split(',')) {
    const part = raw.trim();
    if (part === '') continue;
    const match = /^([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?)(?:\[([A-Za-z]+)\])?$/.exec(part);
    if (!match) throw badRequest('Invalid order_by: expected field or field[Direction]');
    const direction = match[2] ?? 'AscNullsFirst';
    if (!(ORDER_DIRECTIONS as readonly string[]).includes(direction)) {
      throw badRequest(`Invalid order_by: direction must be one of ${ORDER_DIRECTIONS.join(', ')}`);
    }
    const descending = direction.startsWith('Desc');
    const nullsFirst =
      direction === 'Asc' ? true : direction === 'Desc' ? false : direction.endsWith('NullsFirst');
    terms.push({ path: match[1]!.split('.'), descending, nullsFirst });
  }
  return terms;
}

/** A sort key: an SQL expression and its direction (the last key is always the id). */
export interface SortKey {
  readonly sql: string;
  readonly descending: boolean;
}

/**
 * Expands order terms into total-order sort keys: a null-rank key (so NULLS FIRST/LAST works in
 * both directions), the value itself, and finally `id` as the tie-breaker cursors rely on.
 */
export function sortKeys(
  terms: readonly OrderTerm[],
  resolve: (path: readonly string[]) => ResolvedPath,
): SortKey[] {
  const keys: SortKey[] = [];
  for (const term of terms) {
    const { sql } = resolve(term.path);
    keys.push({
      sql: `(CASE WHEN ${sql} IS NULL THEN ${term.nullsFirst ? 0 : 1} ELSE ${term.nullsFirst ? 1 : 0} END)`,
      descending: false,
    });
    keys.push({ sql: `ifnull(${sql}, '')`, descending: term.descending });
  }
  keys.push({ sql: 'id', descending: false });
  return keys;
}

/** Cursor: the sort-key values of a row, base64-encoded JSON (opaque to clients, as in Twenty). */
export function encodeCursor(values: readonly unknown[]): string {
  return Buffer.from(JSON.stringify(values)).toString('base64url');
}

/** Decodes a cursor produced for the same sort keys; a foreign or damaged cursor → 400. */
export function decodeCursor(cursor: string, keyCount: number): SQLInputValue[] {
  try {
    const values = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (
      Array.isArray(values) &&
      values.length === keyCount &&
      values.every((v) => v === null || typeof v === 'string' || typeof v === 'number')
    ) {
      return values as SQLInputValue[];
    }
  } catch {
    // fall through to the 400 below
  }
  throw badRequest('Invalid cursor');
}

/**
 * Keyset predicate: rows strictly after (or, when `before`, strictly before) the cursor row in
 * the sort order. Built as an OR-chain so each key keeps its own direction.
 */
export function cursorPredicate(
  keys: readonly SortKey[],
  values: readonly SQLInputValue[],
  before: boolean,
): SqlFragment {
  const ors: string[] = [];
  const params: SQLInputValue[] = [];
  for (let i = 0; i < keys.length; i += 1) {
    const ands: string[] = [];
    for (let j = 0; j < i; j += 1) {
      ands.push(`${keys[j]!.sql} = ?`);
      params.push(values[j]!);
    }
    const key = keys[i]!;
    const after = key.descending ? '<' : '>';
    const op = before ? (after === '>' ? '<' : '>') : after;
    ands.push(`${key.sql} ${op} ?`);
    params.push(values[i]!);
    ors.push(`(${ands.join(' AND ')})`);
  }
  return { sql: `(${ors.join(' OR ')})`, params };
}
