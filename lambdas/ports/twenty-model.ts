import { NotFoundError, SchemaConflictError } from './errors.ts';
import { UNIQUE_SUBFIELD } from './twenty-names.ts';

/**
 * Twenty's workspace model as the port hands it to the stages: the metadata shapes and
 * {@link TwentyModel}. It lives on the port side so the core (schema diff, prepare, load, rollback)
 * and the HTTP client (`lambdas/twenty/`, which builds it from Twenty's responses) share it without
 * either importing the other.
 */

export interface SelectOption {
  readonly value: string;
  readonly label: string;
  readonly color: string;
  readonly position?: number;
  readonly id?: string;
}

export interface FieldMeta {
  readonly id: string;
  readonly name: string;
  readonly label: string;
  readonly type: string;
  readonly isCustom: boolean;
  readonly isUnique: boolean;
  readonly isNullable: boolean;
  readonly options: readonly SelectOption[];
  /** For relation fields that own a foreign key: the column written on records (`companyId`…). */
  readonly joinColumnName?: string;
  readonly relationTargetObjectId?: string;
  readonly relationType?: string;
}

export interface ObjectMeta {
  readonly id: string;
  readonly nameSingular: string;
  readonly namePlural: string;
  readonly labelSingular: string;
  readonly labelPlural: string;
  readonly isCustom: boolean;
  readonly isActive: boolean;
  readonly fields: readonly FieldMeta[];
}

/** Which generation of Twenty's standard objects the workspace runs (join columns differ). */
export type TwentyFlavor = 'v1' | 'v2';

/** The objects that carry a polymorphic target (a task, note or file attached to a record). */
export type TargetCarrier = 'taskTarget' | 'noteTarget' | 'attachment';

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
