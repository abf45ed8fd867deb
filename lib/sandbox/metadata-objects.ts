import { randomUUID } from 'node:crypto';
import { badRequest } from './http-error.ts';
import {
  asObject,
  checkKeys,
  checkLabel,
  checkName,
  describedUpdate,
  optionalString,
} from './metadata-input.ts';
import {
  type FieldMeta,
  makeField,
  makeRelationPair,
  type ObjectMeta,
  systemFields,
  targetFieldName,
} from './model.ts';
import type { Workspace } from './workspace.ts';

/** Custom objects: create (with system fields and activity targets), update, delete. */

export function createObject(ws: Workspace, raw: unknown): ObjectMeta {
  const body = asObject(raw, 'Object input');
  checkKeys(
    body,
    [
      'nameSingular',
      'namePlural',
      'labelSingular',
      'labelPlural',
      'description',
      'icon',
      'isLabelSyncedWithName',
      'shortcut',
    ],
    'CreateObjectInput',
  );
  const nameSingular = checkName(body.nameSingular, 'nameSingular');
  const namePlural = checkName(body.namePlural, 'namePlural');
  if (nameSingular === namePlural) throw badRequest('nameSingular and namePlural must differ');
  for (const name of [nameSingular, namePlural]) {
    if (ws.bySingular.has(name) || ws.byPlural.has(name)) {
      throw badRequest(`An object with the name ${name} already exists`);
    }
  }
  const now = ws.iso();
  const object: ObjectMeta = {
    id: randomUUID(),
    nameSingular,
    namePlural,
    labelSingular: checkLabel(body.labelSingular, 'labelSingular'),
    labelPlural: checkLabel(body.labelPlural, 'labelPlural'),
    description: optionalString(body.description, 'description'),
    icon: optionalString(body.icon, 'icon'),
    isCustom: true,
    isActive: true,
    isSystem: false,
    isReadOnly: false,
    createdAt: now,
    updatedAt: now,
  };
  const fields: FieldMeta[] = [
    ...systemFields(object, ws.options.flavor, now, true),
    makeField(object, { id: randomUUID(), name: 'name', type: 'TEXT', label: 'Name' }, now, false),
  ];
  // Activities link to every object: a target field on taskTarget/noteTarget/attachment each.
  const links: Array<[string, string]> = [
    ['taskTarget', 'taskTargets'],
    ['noteTarget', 'noteTargets'],
    ['attachment', 'attachments'],
  ];
  for (const [holder, inverse] of links) {
    const source = ws.bySingular.get(holder);
    if (!source) continue;
    fields.push(
      ...makeRelationPair({
        source,
        target: object,
        name: targetFieldName(ws.options.flavor, nameSingular),
        inverseName: inverse,
        type: ws.options.flavor === 'v2' ? 'MORPH_RELATION' : 'RELATION',
        onDelete: 'CASCADE',
        now,
        isCustom: true,
        idSeed: object.id,
      }),
    );
  }
  ws.store.transaction(() => {
    ws.store.putObject(object);
    for (const field of fields) ws.store.putField(field);
  });
  ws.reloadMetadata();
  return object;
}

export function updateObject(ws: Workspace, object: ObjectMeta, raw: unknown): ObjectMeta {
  const body = asObject(raw, 'Object update');
  const update =
    'update' in body && typeof body.update === 'object' && body.update !== null
      ? (body.update as Record<string, unknown>)
      : body;
  checkKeys(
    update,
    ['labelSingular', 'labelPlural', 'description', 'icon', 'isActive', 'isLabelSyncedWithName'],
    'UpdateObjectPayload',
  );
  if (!object.isCustom && update.isActive === false)
    throw badRequest('Standard objects cannot be deactivated');
  const updated: ObjectMeta = {
    ...object,
    labelSingular:
      update.labelSingular === undefined
        ? object.labelSingular
        : checkLabel(update.labelSingular, 'labelSingular'),
    labelPlural:
      update.labelPlural === undefined ? object.labelPlural : checkLabel(update.labelPlural, 'labelPlural'),
    ...describedUpdate(object, update),
    updatedAt: ws.iso(),
  };
  ws.store.putObject(updated);
  ws.reloadMetadata();
  return updated;
}

export function deleteObject(ws: Workspace, object: ObjectMeta): void {
  if (!object.isCustom) throw badRequest('Standard objects cannot be deleted');
  ws.store.transaction(() => {
    for (const field of ws.fieldsByObject.get(object.id) ?? []) {
      if (field.relation) removeRelationPair(ws, field);
      ws.store.deleteField(field.id);
    }
    ws.store.destroyObjectRecords(object.nameSingular);
    ws.store.deleteObject(object.id);
  });
  ws.reloadMetadata();
}

/** Removes both sides of a relation and the join column's data and references. */
export function removeRelationPair(ws: Workspace, field: FieldMeta): void {
  const other = field.relation ? ws.fieldsById.get(field.relation.targetFieldMetadataId) : undefined;
  for (const side of [field, other]) {
    if (!side) continue;
    const holder = ws.objects.get(side.objectMetadataId);
    const column = side.relation?.joinColumnName;
    if (holder && column) {
      ws.store.dropRefsByField(holder.nameSingular, column);
      ws.store.db
        .prepare("UPDATE records SET data = jsonb_remove(data, '$.' || ?) WHERE object = ?")
        .run(column, holder.nameSingular);
    }
    ws.store.deleteField(side.id);
  }
}
