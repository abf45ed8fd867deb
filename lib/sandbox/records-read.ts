import type { SQLInputValue } from 'node:sqlite';
import { json, type SandboxResponse } from './http.ts';
import { badRequest, notFound } from './http-error.ts';
import { isUuid, type ObjectMeta } from './model.ts';
import {
  compileFilter,
  cursorPredicate,
  decodeCursor,
  encodeCursor,
  mentionsDeletedAt,
  parseFilter,
  parseOrderBy,
  sortKeys,
} from './query.ts';
import { type ObjectView, presentRecord, resolveFieldPath } from './records.ts';
import type { Workspace } from './workspace.ts';

/** Records REST API, reads: `GET /rest/:plural` and `GET /rest/:plural/:id`, and how records are presented. */

const DEFAULT_LIMIT = 60;
const MAX_LIMIT = 200;

export function depthOf(url: URL): 0 | 1 {
  const raw = url.searchParams.get('depth');
  if (raw === null) return 1;
  if (raw === '0') return 0;
  if (raw === '1') return 1;
  throw badRequest('depth must be 0 or 1');
}

export function present(
  ws: Workspace,
  view: ObjectView,
  data: Record<string, unknown>,
  depth: 0 | 1,
): Record<string, unknown> {
  const out = presentRecord(view, data);
  if (depth === 1) {
    for (const [column, field] of view.joinColumns) {
      const targetId = data[column];
      const targetObject = ws.objects.get(field.relation!.targetObjectMetadataId);
      if (!targetObject) continue;
      if (typeof targetId !== 'string') {
        out[field.name] = null;
        continue;
      }
      const target = ws.store.getRecord(targetObject.nameSingular, targetId);
      out[field.name] = target ? presentRecord(ws.viewOf(targetObject.nameSingular), target.data) : null;
    }
  }
  return out;
}

export function requireUuid(id: string, object: ObjectMeta): string {
  if (!isUuid(id)) throw badRequest(`Invalid UUID for ${object.nameSingular} id`);
  return id.toLowerCase();
}

export function findOne(ws: Workspace, object: ObjectMeta, rawId: string, url: URL): SandboxResponse {
  const id = requireUuid(rawId, object);
  const view = ws.viewOf(object.nameSingular);
  const record = ws.store.getRecord(object.nameSingular, id);
  if (!record || record.deletedAt !== null) throw notFound(`Record not found in ${object.namePlural}`);
  return json(200, { data: { [object.nameSingular]: present(ws, view, record.data, depthOf(url)) } });
}

export function findMany(ws: Workspace, object: ObjectMeta, url: URL): SandboxResponse {
  const view = ws.viewOf(object.nameSingular);
  const resolve = (path: readonly string[]) => resolveFieldPath(view, path);
  const params = url.searchParams;
  const depth = depthOf(url);
  const rawLimit = params.get('limit');
  let limit = DEFAULT_LIMIT;
  if (rawLimit !== null) {
    const n = Number(rawLimit);
    if (!Number.isInteger(n) || n < 0) throw badRequest('limit must be a non-negative integer');
    limit = Math.min(n, MAX_LIMIT);
  }
  const after = params.get('starting_after');
  const before = params.get('ending_before');
  if (after !== null && before !== null)
    throw badRequest('Use either starting_after or ending_before, not both');

  const filterText = params.get('filter');
  const where: string[] = ['object = ?'];
  const whereParams: SQLInputValue[] = [object.nameSingular];
  let includeDeleted = false;
  if (filterText !== null && filterText.trim() !== '') {
    const node = parseFilter(filterText);
    includeDeleted = mentionsDeletedAt(node);
    const compiled = compileFilter(node, resolve);
    where.push(compiled.sql);
    whereParams.push(...compiled.params);
  }
  if (!includeDeleted) where.push('deleted_at IS NULL');

  const orderText = params.get('order_by');
  const keys = sortKeys(orderText ? parseOrderBy(orderText) : [], resolve);
  const keyColumns = keys.map((k, i) => `${k.sql} AS k${i}`).join(', ');

  const countRow = ws.store.query(
    `SELECT count(*) AS n FROM records WHERE ${where.join(' AND ')}`,
    whereParams,
  )[0];
  const totalCount = Number(countRow?.n ?? 0);

  const pageWhere = [...where];
  const pageParams = [...whereParams];
  const cursor = after ?? before;
  if (cursor !== null) {
    const predicate = cursorPredicate(keys, decodeCursor(cursor, keys.length), before !== null);
    pageWhere.push(predicate.sql);
    pageParams.push(...predicate.params);
  }
  const reverse = before !== null;
  const orderSql = keys.map((k) => `${k.sql} ${k.descending !== reverse ? 'DESC' : 'ASC'}`).join(', ');
  const rows = ws.store.query(
    `SELECT id, json(data) AS data, ${keyColumns} FROM records WHERE ${pageWhere.join(' AND ')} ORDER BY ${orderSql} LIMIT ?`,
    [...pageParams, limit + 1],
  );
  const hasMore = rows.length > limit;
  const page = rows.slice(0, limit);
  if (reverse) page.reverse();
  const cursorOf = (row: Record<string, unknown>): string =>
    encodeCursor(keys.map((_, i) => row[`k${i}`] ?? null));
  const records = page.map((row) => present(ws, view, JSON.parse(String(row.data)), depth));
  // Twenty's buildCursorPage: going backwards (ending_before) the extra row means there is an
  // earlier page (hasPreviousPage) and hasNextPage just says a cursor was given (records after it).
  return json(200, {
    data: { [object.namePlural]: records },
    totalCount,
    pageInfo: {
      hasNextPage: reverse ? before !== '' : hasMore,
      hasPreviousPage: reverse ? hasMore : after !== null && after !== '',
      startCursor: page.length > 0 ? cursorOf(page[0]!) : null,
      endCursor: page.length > 0 ? cursorOf(page[page.length - 1]!) : null,
    },
  });
}
