import { NotFoundError, SchemaConflictError } from '../core/errors.ts';
import type { FieldMeta, ObjectMeta, SelectOption } from '../ports/twenty.ts';

/** Which generation of Twenty's standard objects the workspace runs (join columns differ). */
export type TwentyFlavor = 'v1' | 'v2';

/** The objects that carry a polymorphic target (a task, note or file attached to a record). */
export type TargetCarrier = 'taskTarget' | 'noteTarget' | 'attachment';

/** Composite field types and the sub-field Twenty's unique index covers. */
const UNIQUE_SUBFIELD: Readonly<Record<string, string>> = {
  EMAILS: 'primaryEmail',
  LINKS: 'primaryLinkUrl',
  PHONES: 'primaryPhoneNumber',
};

/**
 * Stock unique indexes Twenty has even where older metadata does not flag the field `isUnique`
 * (TWENTY-API.md: not partial, soft-deleted rows still hold them).
 */
const STOCK_UNIQUE_KEYS: Readonly<Record<string, readonly string[]>> = {
  person: ['emails.primaryEmail'],
  company: ['domainName.primaryLinkUrl'],
};

/**
 * The target workspace's schema as read once per run. Ferry asks it for names instead of assuming
 * a Twenty version: plural routes, field types, select options, unique keys and the join column a
 * task/note/attachment uses to point at a person (v1 `personId`, v2 `targetPersonId`).
 */
export class TwentyModel {
  readonly objects: readonly ObjectMeta[];
  readonly flavor: TwentyFlavor;
  readonly #bySingular = new Map<string, ObjectMeta>();
  readonly #byPlural = new Map<string, ObjectMeta>();
  readonly #byId = new Map<string, ObjectMeta>();

  constructor(objects: readonly ObjectMeta[]) {
    this.objects = objects;
    for (const object of objects) {
      this.#bySingular.set(object.nameSingular, object);
      this.#byPlural.set(object.namePlural, object);
      this.#byId.set(object.id, object);
    }
    this.flavor = detectFlavor(this.#bySingular.get('taskTarget'));
  }

  /** The object by singular or plural name, or undefined. */
  find(name: string): ObjectMeta | undefined {
    return this.#bySingular.get(name) ?? this.#byPlural.get(name);
  }

  /** The object by singular or plural name; NotFoundError names the object when absent. */
  object(name: string): ObjectMeta {
    const found = this.find(name);
    if (!found) throw new NotFoundError(`Twenty workspace has no object named ${name}`);
    return found;
  }

  objectById(id: string): ObjectMeta | undefined {
    return this.#byId.get(id);
  }

  /** The field of an object, or undefined. */
  field(objectName: string, fieldName: string): FieldMeta | undefined {
    return this.object(objectName).fields.find((field) => field.name === fieldName);
  }

  hasField(objectName: string, fieldName: string): boolean {
    return this.find(objectName)?.fields.some((field) => field.name === fieldName) ?? false;
  }

  /** Select option values of a SELECT/MULTI_SELECT field (empty for other types). */
  optionValues(objectName: string, fieldName: string): string[] {
    return (this.field(objectName, fieldName)?.options ?? []).map((option: SelectOption) => option.value);
  }

  /** Whether a field or object was created in this workspace rather than shipped by Twenty. */
  isCustom(objectName: string, fieldName?: string): boolean {
    if (fieldName === undefined) return this.object(objectName).isCustom;
    return this.field(objectName, fieldName)?.isCustom ?? false;
  }

  /**
   * The record paths Twenty enforces uniqueness on for this object (composite fields as
   * `emails.primaryEmail`), excluding `id`. Loaders de-duplicate batches on these.
   */
  uniqueKeys(objectName: string): string[] {
    const object = this.object(objectName);
    const keys = new Set<string>();
    for (const field of object.fields) {
      if (!field.isUnique || field.name === 'id') continue;
      const sub = UNIQUE_SUBFIELD[field.type];
      keys.add(sub ? `${field.name}.${sub}` : field.name);
    }
    for (const key of STOCK_UNIQUE_KEYS[object.nameSingular] ?? []) {
      if (this.hasField(object.nameSingular, key.split('.')[0] ?? key)) keys.add(key);
    }
    return [...keys];
  }

  /** Every foreign-key column a record of this object can carry (`companyId`, `targetPersonId`…). */
  joinColumns(objectName: string): string[] {
    return joinColumnsOf(this.object(objectName));
  }

  /**
   * The column on `on` that points at `targetObject`. v2 workspaces use morph relations
   * (`targetPersonId`), v1 plain relations (`personId`); custom objects follow the same pattern.
   * SchemaConflictError when the carrier cannot point at that object at all.
   */
  joinColumn(targetObject: string, on: TargetCarrier): string {
    const target = this.find(targetObject)?.nameSingular ?? targetObject;
    const columns = new Set(this.joinColumns(on));
    const capitalized = `${target.charAt(0).toUpperCase()}${target.slice(1)}`;
    for (const candidate of [`target${capitalized}Id`, `${target}Id`]) {
      if (columns.has(candidate)) return candidate;
    }
    throw new SchemaConflictError(`Twenty object ${on} has no relation to ${target}`);
  }
}

function joinColumnsOf(object: ObjectMeta): string[] {
  const columns = new Set<string>();
  for (const field of object.fields) {
    if (field.joinColumnName) columns.add(field.joinColumnName);
    else if (field.type === 'UUID' && field.name.endsWith('Id') && field.name !== 'id')
      columns.add(field.name);
  }
  return [...columns];
}

function detectFlavor(taskTarget: ObjectMeta | undefined): TwentyFlavor {
  if (!taskTarget) return 'v2';
  const columns = joinColumnsOf(taskTarget);
  if (columns.includes('targetPersonId')) return 'v2';
  if (columns.includes('personId')) return 'v1';
  return taskTarget.fields.some((field) => field.type === 'MORPH_RELATION') ? 'v2' : 'v1';
}

// ---------------------------------------------------------------------------------------------
// Parsing Twenty's metadata responses. Versions differ in envelope (`data.objects` vs a bare list,
// `fields` as an array or as GraphQL-style edges), so parsing is tolerant and shape-checked.

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
