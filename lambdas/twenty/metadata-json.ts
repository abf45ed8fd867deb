import type { FieldMeta, ObjectMeta, SelectOption } from '../ports/twenty-model.ts';

/**
 * Parsing Twenty's metadata responses into the port's model. Versions differ in envelope
 * (`data.objects` vs a bare list, `fields` as an array or as GraphQL-style edges), so parsing is
 * tolerant and shape-checked.
 */

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function str(value: unknown, fallback = ''): string {
  return typeof value === 'string' ? value : fallback;
}

/** Unwraps `[...]`, `{edges:[{node}]}` or `{data:{<key>:[...]}}` into a plain list. */
export function listOf(value: unknown, key?: string): unknown[] {
  if (Array.isArray(value)) return value;
  if (!isObject(value)) return [];
  if (Array.isArray(value.edges)) return value.edges.map((edge) => (isObject(edge) ? edge.node : undefined));
  if (key !== undefined && key in value) return listOf(value[key], undefined);
  if (Array.isArray(value.data) || isObject(value.data)) return listOf(value.data, key);
  return [];
}

function parseOptions(value: unknown): SelectOption[] {
  if (!Array.isArray(value)) return [];
  return value.filter(isObject).map((option) => ({
    value: str(option.value),
    label: str(option.label, str(option.value)),
    color: str(option.color, 'gray'),
    ...(typeof option.position === 'number' ? { position: option.position } : {}),
    ...(typeof option.id === 'string' ? { id: option.id } : {}),
  }));
}

/** One field from Twenty's metadata JSON. */
export function parseField(raw: unknown): FieldMeta | undefined {
  if (!isObject(raw) || typeof raw.name !== 'string') return undefined;
  const type = str(raw.type);
  const settings = isObject(raw.settings) ? raw.settings : {};
  const relation = isObject(raw.relation) ? raw.relation : {};
  const relationType = str(settings.relationType, str(relation.type, str(raw.relationType)));
  const explicitJoin = str(settings.joinColumnName, str(relation.joinColumnName, str(raw.joinColumnName)));
  const ownsForeignKey =
    (type === 'RELATION' || type === 'MORPH_RELATION') &&
    relationType !== 'ONE_TO_MANY' &&
    relationType !== '';
  const joinColumnName = explicitJoin || (ownsForeignKey ? `${raw.name}Id` : '');
  const targetObject = isObject(relation.targetObjectMetadata) ? relation.targetObjectMetadata : {};
  const relationTargetObjectId = str(
    raw.relationTargetObjectMetadataId,
    str(targetObject.id, str(relation.targetObjectMetadataId, str(settings.targetObjectMetadataId))),
  );
  return {
    id: str(raw.id),
    name: raw.name,
    label: str(raw.label, raw.name),
    type,
    isCustom: raw.isCustom === true,
    isUnique: raw.isUnique === true,
    isNullable: raw.isNullable !== false,
    options: parseOptions(raw.options),
    ...(joinColumnName ? { joinColumnName } : {}),
    ...(relationTargetObjectId ? { relationTargetObjectId } : {}),
    ...(relationType ? { relationType } : {}),
  };
}

/** One object from Twenty's metadata JSON; `fields` falls back to `looseFields` grouped by object id. */
export function parseObject(raw: unknown, looseFields: readonly unknown[] = []): ObjectMeta | undefined {
  if (!isObject(raw) || typeof raw.nameSingular !== 'string' || typeof raw.namePlural !== 'string') {
    return undefined;
  }
  const id = str(raw.id);
  const ownFields = listOf(raw.fields ?? raw.fieldsList);
  const fieldSource =
    ownFields.length > 0
      ? ownFields
      : looseFields.filter((field) => isObject(field) && field.objectMetadataId === id);
  return {
    id,
    nameSingular: raw.nameSingular,
    namePlural: raw.namePlural,
    labelSingular: str(raw.labelSingular, raw.nameSingular),
    labelPlural: str(raw.labelPlural, raw.namePlural),
    isCustom: raw.isCustom === true,
    isActive: raw.isActive !== false,
    fields: fieldSource.map(parseField).filter((field): field is FieldMeta => field !== undefined),
  };
}
