import { randomUUID } from 'node:crypto';
import { nameFromLabel, UNIQUE_SUBFIELD } from '../../lambdas/ports/twenty-names.ts';
import { badRequest } from './http-error.ts';
import {
  asObject,
  checkKeys,
  checkLabel,
  checkName,
  describedUpdate,
  optionalString,
  parseOptions,
} from './metadata-input.ts';
import { removeRelationPair } from './metadata-objects.ts';
import {
  CREATABLE_FIELD_TYPES,
  FIELD_TYPES,
  type FieldMeta,
  type FieldType,
  isUuid,
  makeField,
  makeRelationPair,
  type ObjectMeta,
} from './model.ts';
import { buildObjectView, uniqueEntries } from './records.ts';
import type { Workspace } from './workspace.ts';

/** Custom fields: create (value fields and relation pairs), update, delete. */

function nameTaken(ws: Workspace, object: ObjectMeta, name: string): boolean {
  const view = ws.views.get(object.nameSingular);
  const fields = ws.fieldsByObject.get(object.id) ?? [];
  return (
    fields.some((f) => f.name === name || f.relation?.joinColumnName === name) ||
    (view?.joinColumns.has(name) ?? false)
  );
}

export function createField(ws: Workspace, raw: unknown): FieldMeta {
  const body = asObject(raw, 'Field input');
  checkKeys(
    body,
    [
      'objectMetadataId',
      'type',
      'name',
      'label',
      'description',
      'icon',
      'isNullable',
      'isUnique',
      'defaultValue',
      'options',
      'settings',
      'relationCreationPayload',
      'isLabelSyncedWithName',
      'isActive',
    ],
    'CreateFieldInput',
  );
  if (!isUuid(body.objectMetadataId)) throw badRequest('objectMetadataId must be a UUID');
  const object = ws.objects.get(body.objectMetadataId);
  if (!object) throw badRequest('objectMetadataId does not match any object');
  if (object.isReadOnly) throw badRequest(`Fields cannot be added to ${object.nameSingular}`);
  if (typeof body.type !== 'string' || !(FIELD_TYPES as readonly string[]).includes(body.type)) {
    throw badRequest('type is not a known field type');
  }
  const type = body.type as FieldType;
  if (!CREATABLE_FIELD_TYPES.has(type)) throw badRequest(`type ${type} cannot be created through the API`);
  const name = checkName(body.name, 'name');
  const label = checkLabel(body.label, 'label');
  if (nameTaken(ws, object, name))
    throw badRequest(`Name "${name}" is not available on ${object.nameSingular}`);
  const now = ws.iso();

  if (type === 'RELATION') {
    const payload = asObject(body.relationCreationPayload, 'relationCreationPayload');
    if (!isUuid(payload.targetObjectMetadataId))
      throw badRequest('relationCreationPayload.targetObjectMetadataId must be a UUID');
    const target = ws.objects.get(payload.targetObjectMetadataId);
    if (!target) throw badRequest('relationCreationPayload.targetObjectMetadataId does not match any object');
    const relationType = payload.type;
    if (relationType !== 'MANY_TO_ONE' && relationType !== 'ONE_TO_MANY') {
      throw badRequest('relationCreationPayload.type must be MANY_TO_ONE or ONE_TO_MANY');
    }
    const targetLabel = checkLabel(payload.targetFieldLabel, 'relationCreationPayload.targetFieldLabel');
    const targetName = checkName(nameFromLabel(targetLabel), 'relationCreationPayload.targetFieldLabel');
    if (nameTaken(ws, target, targetName) || (target.id === object.id && targetName === name)) {
      throw badRequest(`Name "${targetName}" is not available on ${target.nameSingular}`);
    }
    const manyToOne = relationType === 'MANY_TO_ONE';
    const joinName = `${manyToOne ? name : targetName}Id`;
    if (nameTaken(ws, manyToOne ? object : target, joinName))
      throw badRequest(`Join column "${joinName}" is not available`);
    const [many, one] = makeRelationPair({
      source: manyToOne ? object : target,
      target: manyToOne ? target : object,
      name: manyToOne ? name : targetName,
      inverseName: manyToOne ? targetName : name,
      label: manyToOne ? label : targetLabel,
      inverseLabel: manyToOne ? targetLabel : label,
      type: 'RELATION',
      onDelete: 'SET_NULL',
      now,
      isCustom: true,
      idSeed: randomUUID(),
    });
    ws.store.transaction(() => {
      ws.store.putField(many);
      ws.store.putField(one);
    });
    ws.reloadMetadata();
    return ws.fieldsById.get(manyToOne ? many.id : one.id)!;
  }

  const options = parseOptions(body.options, type);
  const field = makeField(
    object,
    {
      id: randomUUID(),
      name,
      label,
      type,
      description: optionalString(body.description, 'description'),
      icon: optionalString(body.icon, 'icon'),
      isNullable: body.isNullable === undefined ? true : Boolean(body.isNullable),
      isUnique: Boolean(body.isUnique),
      defaultValue: body.defaultValue ?? null,
      options,
    },
    now,
    true,
  );
  if (options && field.defaultValue !== null) {
    const values = Array.isArray(field.defaultValue) ? field.defaultValue : [field.defaultValue];
    for (const v of values) {
      if (typeof v !== 'string' || !options.some((o) => o.value === v.replace(/^'|'$/g, ''))) {
        throw badRequest('defaultValue must be one of the options');
      }
    }
  }
  ws.store.transaction(() => {
    ws.store.putField(field);
    if (field.isUnique) indexUnique(ws, object, field);
  });
  ws.reloadMetadata();
  return field;
}

/** Builds the unique index of a new unique field; existing duplicates refuse the field. */
function indexUnique(ws: Workspace, object: ObjectMeta, field: FieldMeta): void {
  const view = buildObjectView(object, [field]);
  const seen = new Map<string, string>();
  for (const record of ws.store.allRecords(object.nameSingular)) {
    for (const [key, value] of uniqueEntries(view, record)) {
      if (seen.has(`${key}\u0000${value}`))
        throw badRequest(`Existing ${object.namePlural} hold duplicate values for ${field.name}`);
      seen.set(`${key}\u0000${value}`, String(record.id));
    }
  }
  for (const [token, id] of seen) {
    const [key, value] = token.split('\u0000') as [string, string];
    ws.store.db
      .prepare('INSERT INTO uniques (object, key, value, id) VALUES (?, ?, ?, ?)')
      .run(object.nameSingular, key, value, id);
  }
}

export function updateField(ws: Workspace, field: FieldMeta, raw: unknown): FieldMeta {
  const body = asObject(raw, 'Field update');
  const update =
    'update' in body && typeof body.update === 'object' && body.update !== null
      ? (body.update as Record<string, unknown>)
      : body;
  checkKeys(
    update,
    [
      'label',
      'description',
      'icon',
      'isActive',
      'options',
      'defaultValue',
      'isLabelSyncedWithName',
      'isNullable',
    ],
    'UpdateFieldInput',
  );
  if (!field.isCustom && (update.isActive === false || update.options !== undefined)) {
    throw badRequest('Standard fields cannot be deactivated or have their options changed');
  }
  const updated: FieldMeta = {
    ...field,
    label: update.label === undefined ? field.label : checkLabel(update.label, 'label'),
    ...describedUpdate(field, update),
    isNullable: update.isNullable === undefined ? field.isNullable : Boolean(update.isNullable),
    options: update.options === undefined ? field.options : parseOptions(update.options, field.type),
    defaultValue: update.defaultValue === undefined ? field.defaultValue : update.defaultValue,
    updatedAt: ws.iso(),
  };
  ws.store.putField(updated);
  ws.reloadMetadata();
  return updated;
}

export function deleteField(ws: Workspace, field: FieldMeta): void {
  if (!field.isCustom) throw badRequest('Standard fields cannot be deleted');
  const object = ws.objects.get(field.objectMetadataId)!;
  ws.store.transaction(() => {
    if (field.relation) {
      removeRelationPair(ws, field);
      return;
    }
    if (field.isUnique) {
      const sub = UNIQUE_SUBFIELD[field.type];
      ws.store.dropUniqueKey(object.nameSingular, sub ? `${field.name}.${sub}` : field.name);
    }
    ws.store.db
      .prepare("UPDATE records SET data = jsonb_remove(data, '$.' || ?) WHERE object = ?")
      .run(field.name, object.nameSingular);
    ws.store.deleteField(field.id);
  });
  ws.reloadMetadata();
}
