import { json, parseJsonBody, type SandboxRequest, type SandboxResponse } from './http.ts';
import { badRequest, notFound } from './http-error.ts';
import { createField, deleteField, updateField } from './metadata-fields.ts';
import { createObject, deleteObject, updateObject } from './metadata-objects.ts';
import type { FieldMeta, ObjectMeta } from './model.ts';
import type { Workspace } from './workspace.ts';

/** Metadata REST API: `/rest/metadata/objects|fields[/:id]`, with Twenty's envelopes and pagination. */

function presentField(ws: Workspace, field: FieldMeta): Record<string, unknown> {
  const { relation, ...rest } = field;
  const base: Record<string, unknown> = {
    ...rest,
    isLabelSyncedWithName: false,
    settings: null,
    relation: null,
  };
  if (relation) {
    const source = ws.objects.get(field.objectMetadataId);
    const target = ws.objects.get(relation.targetObjectMetadataId);
    const targetField = ws.fieldsById.get(relation.targetFieldMetadataId);
    base.settings = {
      relationType: relation.type,
      ...(relation.joinColumnName ? { joinColumnName: relation.joinColumnName } : {}),
      ...(relation.onDelete ? { onDelete: relation.onDelete } : {}),
    };
    base.relation = {
      type: relation.type,
      sourceObjectMetadata: source
        ? { id: source.id, nameSingular: source.nameSingular, namePlural: source.namePlural }
        : null,
      targetObjectMetadata: target
        ? { id: target.id, nameSingular: target.nameSingular, namePlural: target.namePlural }
        : null,
      sourceFieldMetadata: { id: field.id, name: field.name },
      targetFieldMetadata: targetField ? { id: targetField.id, name: targetField.name } : null,
    };
  }
  return base;
}

export function presentObject(ws: Workspace, object: ObjectMeta): Record<string, unknown> {
  const { isReadOnly: _readOnly, ...rest } = object;
  const fields = (ws.fieldsByObject.get(object.id) ?? []).map((f) => presentField(ws, f));
  const nameField = (ws.fieldsByObject.get(object.id) ?? []).find(
    (f) => f.name === 'name' || f.name === 'title',
  );
  return {
    ...rest,
    isRemote: false,
    isLabelSyncedWithName: false,
    labelIdentifierFieldMetadataId: nameField?.id ?? null,
    imageIdentifierFieldMetadataId: null,
    fields,
  };
}

function metadataList(
  ws: Workspace,
  kind: 'objects' | 'fields',
  items: Array<Record<string, unknown>>,
  url: URL,
): SandboxResponse {
  const after = url.searchParams.get('starting_after');
  const rawLimit = url.searchParams.get('limit');
  const limit = rawLimit === null ? 1000 : Math.min(Math.max(0, Number(rawLimit) || 0), 1000);
  let start = 0;
  if (after !== null) {
    const afterId = Buffer.from(after, 'base64url').toString('utf8');
    const index = items.findIndex((item) => item.id === afterId);
    if (index < 0) throw badRequest('Invalid cursor');
    start = index + 1;
  }
  const page = items.slice(start, start + limit);
  const cursor = (item: Record<string, unknown> | undefined) =>
    item ? Buffer.from(String(item.id)).toString('base64url') : null;
  const pageInfo = {
    hasNextPage: start + limit < items.length,
    startCursor: cursor(page[0]),
    endCursor: cursor(page[page.length - 1]),
  };
  if (ws.options.flavor === 'v2') return json(200, { data: page, pageInfo, totalCount: items.length });
  return json(200, { data: { [kind]: page }, pageInfo, totalCount: items.length });
}

export function metadataApi(
  ws: Workspace,
  method: string,
  url: URL,
  kind: string | undefined,
  id: string | undefined,
  request: SandboxRequest,
): SandboxResponse {
  if (kind !== 'objects' && kind !== 'fields') throw notFound(`Cannot ${method} ${url.pathname}`);
  if (kind === 'objects') {
    return metadataCrud(ws, method, url, id, request, {
      plural: 'objects',
      singular: 'object',
      type: 'Object',
      all: () => [...ws.objects.values()],
      byId: (key) => ws.objects.get(key),
      create: (body) => createObject(ws, body),
      update: (object, body) => updateObject(ws, object, body),
      remove: (object) => deleteObject(ws, object),
      present: (object) => presentObject(ws, object),
    });
  }
  return metadataCrud(ws, method, url, id, request, {
    plural: 'fields',
    singular: 'field',
    type: 'Field',
    all: () => [...ws.objects.values()].flatMap((o) => ws.fieldsByObject.get(o.id) ?? []),
    byId: (key) => ws.fieldsById.get(key),
    create: (body) => createField(ws, body),
    update: (field, body) => updateField(ws, field, body),
    remove: (field) => deleteField(ws, field),
    present: (field) => presentField(ws, field),
  });
}

/**
 * List/create/get/update/delete for one kind of metadata, with Twenty's envelopes
 * (`createOne<Type>`, `updateOne<Type>`, `deleteOne<Type>`, `<singular>`).
 */
function metadataCrud<T extends { readonly id: string }>(
  ws: Workspace,
  method: string,
  url: URL,
  id: string | undefined,
  request: SandboxRequest,
  kind: {
    readonly plural: 'objects' | 'fields';
    readonly singular: string;
    readonly type: string;
    all(): T[];
    byId(id: string): T | undefined;
    create(body: unknown): T;
    update(item: T, body: unknown): T;
    remove(item: T): void;
    present(item: T): Record<string, unknown>;
  },
): SandboxResponse {
  if (id === undefined && method === 'GET') {
    return metadataList(
      ws,
      kind.plural,
      kind.all().map((item) => kind.present(item)),
      url,
    );
  }
  if (id === undefined && method === 'POST') {
    const created = kind.create(parseJsonBody(request));
    return json(201, { data: { [`createOne${kind.type}`]: kind.present(created) } });
  }
  if (id === undefined) throw notFound(`Cannot ${method} ${url.pathname}`);
  const item = kind.byId(id);
  if (!item) throw notFound(`${kind.type} metadata not found`);
  if (method === 'GET') return json(200, { data: { [kind.singular]: kind.present(item) } });
  if (method === 'PATCH' || method === 'PUT') {
    const updated = kind.update(item, parseJsonBody(request));
    return json(200, { data: { [`updateOne${kind.type}`]: kind.present(updated) } });
  }
  if (method === 'DELETE') {
    kind.remove(item);
    return json(200, { data: { [`deleteOne${kind.type}`]: { id: item.id } } });
  }
  throw notFound(`Cannot ${method} ${url.pathname}`);
}
