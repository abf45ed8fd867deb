import { randomUUID } from 'node:crypto';
import { json, type SandboxResponse } from './http.ts';
import { badRequest, notFound, SandboxHttpError } from './http-error.ts';
import { capitalize, isUuid, type ObjectMeta } from './model.ts';
import { compileFilter, mentionsDeletedAt, parseFilter } from './query.ts';
import {
  defaultRecord,
  mergeRecord,
  type ObjectView,
  referenceEntries,
  resolveFieldPath,
  uniqueEntries,
  validateRecordInput,
} from './records.ts';
import { depthOf, present, requireUuid } from './records-read.ts';
import type { Workspace } from './workspace.ts';

/** Records REST API, writes: create (one, batch, upsert), update, delete (one, many, soft), restore. */

/** Twenty's `MUTATION_MAXIMUM_AFFECTED_RECORDS` default: rows one delete-many/update-many may affect. */
export const MUTATION_MAXIMUM_AFFECTED_RECORDS = 100;

function writable(object: ObjectMeta): void {
  if (object.isReadOnly) {
    throw new SandboxHttpError(
      403,
      'Forbidden',
      `${object.namePlural} are read-only through the API: invite members instead`,
    );
  }
}

function flag(url: URL, name: string): boolean {
  const raw = url.searchParams.get(name);
  if (raw === null || raw === 'false') return false;
  if (raw === 'true' || raw === '') return true;
  throw badRequest(`${name} must be true or false`);
}

function checkReferences(
  ws: Workspace,
  view: ObjectView,
  record: Record<string, unknown>,
): Array<{ field: string; targetObject: string; targetId: string }> {
  const refs = referenceEntries(view, record, ws.objectNameById);
  for (const ref of refs) {
    if (!ws.store.exists(ref.targetObject, ref.targetId)) {
      throw badRequest(`Invalid ${view.meta.nameSingular}.${ref.field}: no ${ref.targetObject} has this id`);
    }
  }
  return refs;
}

function write(ws: Workspace, view: ObjectView, record: Record<string, unknown>, isNew: boolean): void {
  const object = view.meta.nameSingular;
  const refs = checkReferences(ws, view, record);
  const uniques = uniqueEntries(view, record);
  for (const [key, value] of uniques) {
    const owner = ws.store.uniqueOwner(object, key, value);
    if (owner !== undefined && owner !== record.id) {
      throw badRequest(
        `A duplicate entry was detected. Please ensure the values are unique (${object}.${key}).`,
      );
    }
  }
  if (isNew) ws.store.insertRecord(object, record);
  else ws.store.updateRecord(object, record);
  ws.store.setUniques(object, String(record.id), uniques);
  ws.store.setRefs(object, String(record.id), refs);
}

export function create(
  ws: Workspace,
  object: ObjectMeta,
  body: unknown,
  url: URL,
  batch: boolean,
): SandboxResponse {
  writable(object);
  const view = ws.viewOf(object.nameSingular);
  const upsert = flag(url, 'upsert');
  const depth = depthOf(url);
  let rows: unknown[];
  if (batch) {
    if (!Array.isArray(body)) throw badRequest('Batch body must be a JSON array of records');
    rows = body;
  } else {
    if (body === undefined || Array.isArray(body)) throw badRequest('Body must be a JSON object');
    rows = [body];
  }
  if (rows.length > ws.options.batchMax) {
    throw badRequest(`Maximum number of records to upsert is ${ws.options.batchMax}.`);
  }
  const inputs = rows.map((row) => validateRecordInput(view, row, 'create'));

  // Rows of one batch that collide with each other are not de-duplicated: Twenty answers 400.
  const seenIds = new Set<string>();
  const seenKeys = new Set<string>();
  for (const input of inputs) {
    if (typeof input.id === 'string') {
      if (seenIds.has(input.id)) throw badRequest(`Duplicate id in batch for ${object.nameSingular}`);
      seenIds.add(input.id);
    }
    for (const [key, value] of uniqueEntries(view, mergeRecord(view, defaultRecord(view), input))) {
      const token = `${key}\u0000${value}`;
      if (seenKeys.has(token)) {
        throw badRequest(
          `A duplicate entry was detected in the batch. Please ensure the values are unique (${object.nameSingular}.${key}).`,
        );
      }
      seenKeys.add(token);
    }
  }

  const results = ws.store.transaction(() =>
    inputs.map((input) => {
      const now = ws.iso();
      const candidate = mergeRecord(view, defaultRecord(view), input);
      const matches = new Set<string>();
      if (typeof input.id === 'string' && ws.store.exists(object.nameSingular, input.id))
        matches.add(input.id);
      if (upsert) {
        for (const [key, value] of uniqueEntries(view, candidate)) {
          const owner = ws.store.uniqueOwner(object.nameSingular, key, value);
          if (owner !== undefined) matches.add(owner);
        }
      }
      if (!upsert && matches.size > 0) {
        throw badRequest(
          `A duplicate entry was detected. Please ensure the values are unique (${object.nameSingular}.id).`,
        );
      }
      if (matches.size > 1) {
        throw badRequest(
          `Multiple records of ${object.nameSingular} match this row on id and unique fields; cannot upsert`,
        );
      }
      const [matchId] = [...matches];
      if (matchId !== undefined) {
        const existing = ws.store.getRecord(object.nameSingular, matchId)!;
        const { id: _ignored, ...patch } = input;
        const updated = {
          ...mergeRecord(view, existing.data, patch),
          id: matchId,
          deletedAt: null,
          updatedAt: now,
        };
        write(ws, view, updated, false);
        return updated;
      }
      const created = {
        ...candidate,
        id: typeof input.id === 'string' ? input.id : randomUUID(),
        createdAt: now,
        updatedAt: now,
        deletedAt: null,
        position: typeof input.position === 'number' ? input.position : ws.store.seqPeek() + 1,
        createdBy: ws.actor(),
        ...(ws.options.flavor === 'v2' ? { updatedBy: ws.actor() } : {}),
      };
      write(ws, view, created, true);
      return created;
    }),
  );
  const presented = results.map((r) => present(ws, view, r, depth));
  if (batch) return json(201, { data: { [`create${capitalize(object.namePlural)}`]: presented } });
  return json(201, { data: { [`create${capitalize(object.nameSingular)}`]: presented[0] } });
}

export function update(
  ws: Workspace,
  object: ObjectMeta,
  rawId: string,
  body: unknown,
  url: URL,
): SandboxResponse {
  writable(object);
  const id = requireUuid(rawId, object);
  const view = ws.viewOf(object.nameSingular);
  if (body === undefined || Array.isArray(body)) throw badRequest('Body must be a JSON object');
  if (typeof body === 'object' && body !== null && 'id' in body && body.id !== undefined) {
    if (!isUuid(body.id) || body.id.toLowerCase() !== id)
      throw badRequest(`Invalid ${object.nameSingular}.id: cannot change a record's id`);
  }
  const patch = validateRecordInput(view, body, 'update');
  const updated = ws.store.transaction(() => {
    const existing = ws.store.getRecord(object.nameSingular, id);
    if (!existing || existing.deletedAt !== null) throw notFound(`Record not found in ${object.namePlural}`);
    const record = { ...mergeRecord(view, existing.data, patch), id, updatedAt: ws.iso() };
    write(ws, view, record, false);
    return record;
  });
  return json(200, {
    data: { [`update${capitalize(object.nameSingular)}`]: present(ws, view, updated, depthOf(url)) },
  });
}

/** Hard delete honouring each relation's ON DELETE (SET_NULL or CASCADE), as Postgres would. */
function destroy(ws: Workspace, objectName: string, id: string, depthGuard = 0): void {
  if (depthGuard > 50) throw badRequest('Cascade too deep');
  for (const ref of ws.store.refsTo(objectName, id)) {
    const sourceView = ws.views.get(ref.sourceObject);
    const source = ws.store.getRecord(ref.sourceObject, ref.sourceId);
    if (!sourceView || !source) continue;
    const field = sourceView.joinColumns.get(ref.field);
    if (field?.relation?.onDelete === 'CASCADE') {
      destroy(ws, ref.sourceObject, ref.sourceId, depthGuard + 1);
    } else {
      const record = { ...source.data, [ref.field]: null };
      ws.store.updateRecord(ref.sourceObject, record);
      ws.store.setRefs(
        ref.sourceObject,
        ref.sourceId,
        referenceEntries(sourceView, record, ws.objectNameById),
      );
    }
  }
  if (objectName === 'attachment') deleteAttachedFiles(ws, id);
  ws.store.destroyRecord(objectName, id);
}

/**
 * Twenty's FileAttachmentListener queues a FileDeletionJob for the `fullPath` of every attachment
 * destroyed (hard delete; a soft delete keeps the file): the sandbox deletes the stored file at once.
 * A v2 attachment's FILES field links its uploads by file id; those go too.
 */
function deleteAttachedFiles(ws: Workspace, id: string): void {
  const record = ws.store.getRecord('attachment', id);
  if (!record) return;
  const fullPath = record.data.fullPath;
  if (typeof fullPath === 'string' && fullPath !== '') ws.store.deleteFile(fullPath);
  for (const value of Object.values(record.data)) {
    if (!Array.isArray(value)) continue;
    for (const item of value) {
      const fileId = (item as { fileId?: unknown } | null)?.fileId;
      if (typeof fileId === 'string' && fileId !== '') ws.store.deleteFile(fileId);
    }
  }
}

function softDelete(ws: Workspace, objectName: string, id: string): void {
  const existing = ws.store.getRecord(objectName, id);
  if (!existing || existing.deletedAt !== null) return;
  const now = ws.iso();
  ws.store.updateRecord(objectName, { ...existing.data, deletedAt: now, updatedAt: now });
}

export function deleteOne(ws: Workspace, object: ObjectMeta, rawId: string, url: URL): SandboxResponse {
  writable(object);
  const id = requireUuid(rawId, object);
  const soft = flag(url, 'soft_delete');
  ws.store.transaction(() => {
    const existing = ws.store.getRecord(object.nameSingular, id);
    if (!existing || (soft && existing.deletedAt !== null))
      throw notFound(`Record not found in ${object.namePlural}`);
    if (soft) softDelete(ws, object.nameSingular, id);
    else destroy(ws, object.nameSingular, id);
  });
  return json(200, { data: { [`delete${capitalize(object.nameSingular)}`]: { id } } });
}

export function deleteMany(ws: Workspace, object: ObjectMeta, url: URL): SandboxResponse {
  writable(object);
  const filter = url.searchParams.get('filter');
  if (filter === null || filter.trim() === '') throw badRequest('Filter is required to delete many records');
  const soft = flag(url, 'soft_delete');
  const view = ws.viewOf(object.nameSingular);
  const node = parseFilter(filter);
  const where = compileFilter(node, (path) => resolveFieldPath(view, path));
  const deleted = mentionsDeletedAt(node) ? '' : ' AND deleted_at IS NULL';
  const ids = ws.store
    .query(
      `SELECT id FROM records WHERE object = ?${deleted} AND ${where.sql} LIMIT ${MUTATION_MAXIMUM_AFFECTED_RECORDS + 1}`,
      [object.nameSingular, ...where.params],
    )
    .map((r) => String(r.id));
  // Twenty refuses, whole, a mutation that would affect more rows than its cap (pg_graphql `atMost`).
  if (ids.length > MUTATION_MAXIMUM_AFFECTED_RECORDS) {
    throw badRequest(
      `Cannot delete ${object.namePlural} because it impacts too many records (more than ${MUTATION_MAXIMUM_AFFECTED_RECORDS}).`,
    );
  }
  ws.store.transaction(() => {
    for (const id of ids) {
      if (soft) softDelete(ws, object.nameSingular, id);
      else if (ws.store.exists(object.nameSingular, id)) destroy(ws, object.nameSingular, id);
    }
  });
  return json(200, { data: { [`delete${capitalize(object.namePlural)}`]: ids.map((id) => ({ id })) } });
}

export function restore(ws: Workspace, object: ObjectMeta, rawId: string, url: URL): SandboxResponse {
  writable(object);
  const id = requireUuid(rawId, object);
  const view = ws.viewOf(object.nameSingular);
  const restored = ws.store.transaction(() => {
    const existing = ws.store.getRecord(object.nameSingular, id);
    if (!existing) throw notFound(`Record not found in ${object.namePlural}`);
    const record = { ...existing.data, deletedAt: null, updatedAt: ws.iso() };
    ws.store.updateRecord(object.nameSingular, record);
    return record;
  });
  return json(200, {
    data: {
      [`restore${capitalize(object.nameSingular)}`]: present(ws, view, restored, depthOf(url)),
    },
  });
}
