import type { CreateObjectInput, ObjectMeta, SelectOption } from '../../ports/twenty.ts';
import type { TwentyModel } from '../../ports/twenty-model.ts';
import { nameFromLabel, RESERVED_METADATA_NAMES } from '../../ports/twenty-names.ts';
import { SchemaConflictError } from '../errors.ts';
import type { CustomFieldType, EntitySpec, FieldSpec, MappingSpec } from '../mapping/spec.ts';
import { toOptionValue } from '../mapping/transforms/select.ts';

/**
 * The schema diff: what a Twenty workspace lacks for a mapping to be loadable. Inventory shows it in
 * the plan (so the operator approves data-model changes before they happen) and ApplySchema executes
 * it. It is a pure function of the mapping and the live metadata, so a re-run against a workspace
 * that already has everything yields an empty diff — that is what makes ApplySchema idempotent.
 */

/** Twenty's option colour palette; new options cycle through it like Twenty's UI does. */
export const TWENTY_OPTION_COLORS = [
  'green',
  'turquoise',
  'sky',
  'blue',
  'purple',
  'pink',
  'red',
  'orange',
  'yellow',
  'gray',
] as const;

export { RESERVED_METADATA_NAMES };

/** Fields Twenty gives every new custom object besides system fields (the label identifier). */
const NEW_OBJECT_FIELDS: Readonly<Record<string, string>> = { name: 'TEXT' };

/** Option placeholder for a SELECT with no known value: Twenty refuses a SELECT without options. */
export const PLACEHOLDER_OPTION = { value: 'OTHER', label: 'Other' } as const;

/** A custom object to create: exactly what the Twenty port's createObject takes. */
export type ObjectToCreate = CreateObjectInput;

export interface FieldToCreate {
  /** Object nameSingular. */
  readonly object: string;
  readonly name: string;
  readonly type: CustomFieldType;
  readonly label: string;
  readonly description?: string;
  readonly icon?: string;
  /** SELECT / MULTI_SELECT only: every option, with colour and position. */
  readonly options?: readonly SelectOption[];
}

export interface OptionsToAdd {
  readonly object: string;
  readonly field: string;
  /** The options the field had (kept; Twenty replaces the whole list on update). */
  readonly existing: readonly SelectOption[];
  readonly options: readonly SelectOption[];
}

export interface RelationToCreate {
  /** Object that owns the join column (the MANY_TO_ONE side). */
  readonly object: string;
  /** Relation field name; Twenty derives the join column `<name>Id` from it. */
  readonly name: string;
  readonly joinColumn: string;
  /** Referenced object nameSingular. */
  readonly target: string;
  readonly label: string;
  /** Label of the inverse ONE_TO_MANY field on the target (Twenty names it from the label). */
  readonly targetFieldLabel: string;
  readonly icon?: string;
}

/** A reason the mapping cannot be applied: where (object, field) and the rule — never a value. */
export interface SchemaConflict {
  readonly object: string;
  readonly field?: string;
  readonly rule: string;
}

export interface SchemaChanges {
  readonly objects: readonly ObjectToCreate[];
  readonly fields: readonly FieldToCreate[];
  readonly options: readonly OptionsToAdd[];
  readonly relations: readonly RelationToCreate[];
  readonly conflicts: readonly SchemaConflict[];
}

/**
 * Option values seen in the source for fields with `unmapped: addOption`, keyed by
 * {@link seenKey}(entity, field): option value → label. ApplySchema collects them from the Segment
 * chunks; Inventory may pass none (the plan then shows only the options known up front).
 */
export type SeenOptionValues = ReadonlyMap<string, ReadonlyMap<string, string>>;

export function seenKey(entity: string, field: string): string {
  return `${entity}.${field}`;
}

/** Counts of a diff, for plan summaries and the stage output. */
export function changeCounts(changes: SchemaChanges): {
  objects: number;
  fields: number;
  options: number;
  relations: number;
  conflicts: number;
} {
  return {
    objects: changes.objects.length,
    fields: changes.fields.length,
    options: changes.options.reduce((sum, o) => sum + o.options.length, 0),
    relations: changes.relations.length,
    conflicts: changes.conflicts.length,
  };
}

/** True when the workspace already has everything the mapping writes. */
export function isSchemaUpToDate(changes: SchemaChanges): boolean {
  const c = changeCounts(changes);
  return c.objects + c.fields + c.options + c.relations + c.conflicts === 0;
}

/** `object.field: rule` — what operators read in SchemaConflictError messages and plan reports. */
export function describeConflict(conflict: SchemaConflict): string {
  const where = conflict.field === undefined ? conflict.object : `${conflict.object}.${conflict.field}`;
  return `${where}: ${conflict.rule}`;
}

/** Throws one SchemaConflictError listing every conflict (names and rules only). */
export function assertNoConflicts(changes: SchemaChanges): void {
  if (changes.conflicts.length === 0) return;
  throw new SchemaConflictError(
    `the Twenty workspace cannot take this mapping: ${changes.conflicts.map(describeConflict).join('; ')}`,
    { code: 'SCHEMA_CONFLICT' },
  );
}

/** `REJECTED_RESUBMIT` → `Rejected resubmit`: a readable label for an option known only by value. */
function labelFromValue(value: string): string {
  const spaced = value.replace(/^_+/, '').replaceAll('_', ' ').toLowerCase().trim();
  return spaced === '' ? value : spaced.charAt(0).toUpperCase() + spaced.slice(1);
}

const SELECT_TYPES: ReadonlySet<string> = new Set(['SELECT', 'MULTI_SELECT']);

function isSelectField(field: FieldSpec): boolean {
  return field.transform === 'select' || field.transform === 'multiSelect';
}

/**
 * Every option value a select field can write, in a stable order with labels: the spec's options,
 * value-map targets, the default, then values seen in the source (addOption).
 */
export function desiredOptions(
  field: FieldSpec,
  seen: ReadonlyMap<string, string> | undefined,
): Array<{ value: string; label: string; color?: string }> {
  const out = new Map<string, { value: string; label: string; color?: string }>();
  for (const option of field.custom?.options ?? []) {
    if (!out.has(option.value)) out.set(option.value, { ...option });
  }
  for (const [source, value] of Object.entries(field.valueMap ?? {})) {
    if (out.has(value)) continue;
    out.set(value, { value, label: toOptionValue(source) === value ? source : labelFromValue(value) });
  }
  if (field.default !== undefined && !out.has(field.default)) {
    out.set(field.default, { value: field.default, label: labelFromValue(field.default) });
  }
  if (field.unmapped === 'addOption') {
    for (const [value, label] of seen ?? []) if (!out.has(value)) out.set(value, { value, label });
  }
  return [...out.values()];
}

function withColors(
  options: ReadonlyArray<{ value: string; label: string; color?: string }>,
  offset: number,
): SelectOption[] {
  return options.map((option, i) => ({
    value: option.value,
    label: option.label,
    color: option.color ?? TWENTY_OPTION_COLORS[(offset + i) % TWENTY_OPTION_COLORS.length] ?? 'gray',
    position: offset + i,
  }));
}

/** Which activity-link object carries the targets of an entity loaded into `target`. */
function carrierOf(target: string): 'taskTarget' | 'noteTarget' | 'attachment' | undefined {
  if (target === 'task') return 'taskTarget';
  if (target === 'note') return 'noteTarget';
  if (target === 'attachment') return 'attachment';
  return undefined;
}

interface PlannedField {
  readonly field: FieldToCreate;
  readonly optionValues: Map<string, { value: string; label: string; color?: string }>;
}

/**
 * Computes what the workspace must gain so every record of `mapping` can be written: custom objects,
 * fields (incl. standard fields missing from this Twenty version when the spec says how to create
 * them), options on existing custom SELECT fields, and custom relations. Problems no creation can
 * fix (type clashes, undeclared objects, missing standard fields or join columns, reserved names)
 * are returned as conflicts, not thrown, so the plan can list them all.
 */
export function diffSchema(
  mapping: MappingSpec,
  model: TwentyModel,
  seen: SeenOptionValues = new Map(),
): SchemaChanges {
  const conflicts = new Map<string, SchemaConflict>();
  const conflict = (object: string, field: string | undefined, rule: string): void => {
    const c: SchemaConflict = field === undefined ? { object, rule } : { object, field, rule };
    conflicts.set(describeConflict(c), c);
  };

  // 1. Custom objects.
  const objects: ObjectToCreate[] = [];
  const plannedObjects = new Map<string, ObjectToCreate>();
  for (const spec of mapping.customObjects) {
    const existing = model.find(spec.nameSingular) ?? model.find(spec.namePlural);
    if (existing) {
      if (existing.nameSingular !== spec.nameSingular || existing.namePlural !== spec.namePlural)
        conflict(spec.nameSingular, undefined, 'an object with this singular or plural name already exists');
      continue;
    }
    for (const name of [spec.nameSingular, spec.namePlural]) {
      if (RESERVED_METADATA_NAMES.has(name))
        conflict(spec.nameSingular, undefined, 'name is reserved by Twenty');
    }
    if (plannedObjects.has(spec.nameSingular)) continue;
    const object: ObjectToCreate = {
      nameSingular: spec.nameSingular,
      namePlural: spec.namePlural,
      labelSingular: spec.labelSingular,
      labelPlural: spec.labelPlural,
      ...(spec.description !== undefined ? { description: spec.description } : {}),
      ...(spec.icon !== undefined ? { icon: spec.icon } : {}),
    };
    objects.push(object);
    plannedObjects.set(spec.nameSingular, object);
  }
  const objectOf = (name: string): ObjectMeta | undefined => model.find(name);
  const knownObject = (name: string): boolean => objectOf(name) !== undefined || plannedObjects.has(name);

  const entities = Object.entries(mapping.entities);
  for (const [entityName, entity] of entities) {
    if (!knownObject(entity.target))
      conflict(
        entity.target,
        undefined,
        `entity ${entityName} targets an object the workspace lacks and customObjects does not declare`,
      );
  }

  // 2. Plain fields and options.
  const planned = new Map<string, PlannedField>();
  const optionAdds = new Map<
    string,
    {
      object: string;
      field: string;
      existing: readonly SelectOption[];
      values: Map<string, { value: string; label: string; color?: string }>;
    }
  >();
  for (const [entityName, entity] of entities) {
    if (!knownObject(entity.target)) continue;
    const object = objectOf(entity.target);
    for (const [fieldName, field] of Object.entries(entity.fields)) {
      const wanted = isSelectField(field)
        ? desiredOptions(field, seen.get(seenKey(entityName, fieldName)))
        : [];
      const existing = object?.fields.find((f) => f.name === fieldName);
      if (existing) {
        if (field.custom && existing.type !== field.custom.type) {
          conflict(
            entity.target,
            fieldName,
            `exists as ${existing.type} but the mapping needs ${field.custom.type}`,
          );
          continue;
        }
        if (!SELECT_TYPES.has(existing.type) || !isSelectField(field)) continue;
        const present = new Set(existing.options.map((o) => o.value));
        const missing = wanted.filter((o) => !present.has(o.value));
        if (missing.length === 0) continue;
        if (!existing.isCustom) {
          conflict(
            entity.target,
            fieldName,
            `standard ${existing.type} field lacks ${missing.length} option(s) the mapping writes and Twenty does not let standard options change; map those values to existing options`,
          );
          continue;
        }
        const key = `${entity.target}.${fieldName}`;
        const add = optionAdds.get(key) ?? {
          object: entity.target,
          field: fieldName,
          existing: existing.options,
          values: new Map(),
        };
        for (const option of missing) if (!add.values.has(option.value)) add.values.set(option.value, option);
        optionAdds.set(key, add);
        continue;
      }
      if (!object && NEW_OBJECT_FIELDS[fieldName] !== undefined) {
        if (field.custom && field.custom.type !== NEW_OBJECT_FIELDS[fieldName])
          conflict(
            entity.target,
            fieldName,
            `is created with every object as ${NEW_OBJECT_FIELDS[fieldName]} but the mapping needs ${field.custom.type}`,
          );
        continue;
      }
      if (!field.custom) {
        conflict(
          entity.target,
          fieldName,
          'the workspace has no such field and the mapping has no custom spec to create it',
        );
        continue;
      }
      if (RESERVED_METADATA_NAMES.has(fieldName)) {
        conflict(entity.target, fieldName, 'name is reserved by Twenty');
        continue;
      }
      const key = `${entity.target}.${fieldName}`;
      const previous = planned.get(key);
      if (previous) {
        if (previous.field.type !== field.custom.type) {
          conflict(
            entity.target,
            fieldName,
            `two entities create it with different types (${previous.field.type}, ${field.custom.type})`,
          );
          continue;
        }
        for (const option of wanted)
          if (!previous.optionValues.has(option.value)) previous.optionValues.set(option.value, option);
        continue;
      }
      planned.set(key, {
        field: {
          object: entity.target,
          name: fieldName,
          type: field.custom.type,
          label: field.custom.label,
          ...(field.custom.description !== undefined ? { description: field.custom.description } : {}),
          ...(field.custom.icon !== undefined ? { icon: field.custom.icon } : {}),
        },
        optionValues: new Map(wanted.map((o) => [o.value, o])),
      });
    }
  }
  const fields: FieldToCreate[] = [...planned.values()].map(({ field, optionValues }) => {
    if (!SELECT_TYPES.has(field.type)) return field;
    const values = optionValues.size > 0 ? [...optionValues.values()] : [{ ...PLACEHOLDER_OPTION }];
    return { ...field, options: withColors(values, 0) };
  });
  const options: OptionsToAdd[] = [...optionAdds.values()].map((add) => ({
    object: add.object,
    field: add.field,
    existing: add.existing,
    options: withColors([...add.values.values()], add.existing.length),
  }));

  // 3. Relations (after objects and fields: both ends must exist).
  const relations = diffRelations(mapping, model, plannedObjects, planned, conflict);

  // 4. Columns the loader writes that no creation provides: owners and activity targets.
  for (const [entityName, entity] of entities) {
    const object = objectOf(entity.target);
    if (entity.owner) {
      const has = object ? model.joinColumns(entity.target).includes(entity.owner.joinColumn) : false;
      if (!has)
        conflict(
          entity.target,
          entity.owner.joinColumn,
          `owner column of entity ${entityName} does not exist (Twenty version differences: v1 opportunities have no ownerId)`,
        );
    }
    const carrier = carrierOf(entity.target);
    if (!carrier || !objectOf(carrier)) continue;
    for (const target of entity.targets) {
      const referenced = mapping.entities[target.entity]?.target;
      if (referenced === undefined || plannedObjects.has(referenced) || !objectOf(referenced)) continue;
      try {
        model.joinColumn(referenced, carrier);
      } catch {
        conflict(carrier, undefined, `cannot point at ${referenced} (targets of entity ${entityName})`);
      }
    }
  }

  return { objects, fields, options, relations, conflicts: [...conflicts.values()] };
}

function diffRelations(
  mapping: MappingSpec,
  model: TwentyModel,
  plannedObjects: ReadonlyMap<string, ObjectToCreate>,
  plannedFields: ReadonlyMap<string, PlannedField>,
  conflict: (object: string, field: string | undefined, rule: string) => void,
): RelationToCreate[] {
  const relations = new Map<string, RelationToCreate>();
  /** Names taken on an object: existing fields and join columns, planned fields, planned relation sides. */
  const taken = new Map<string, Set<string>>();
  const takenOn = (object: string): Set<string> => {
    let names = taken.get(object);
    if (!names) {
      names = new Set<string>();
      const meta = model.find(object);
      for (const field of meta?.fields ?? []) {
        names.add(field.name);
        if (field.joinColumnName) names.add(field.joinColumnName);
      }
      if (!meta) for (const name of Object.keys(NEW_OBJECT_FIELDS)) names.add(name);
      for (const key of plannedFields.keys()) {
        const [o, f] = key.split('.') as [string, string];
        if (o === object) names.add(f);
      }
      taken.set(object, names);
    }
    return names;
  };
  const labelPluralOf = (object: string): string =>
    model.find(object)?.labelPlural ?? plannedObjects.get(object)?.labelPlural ?? object;

  for (const [entityName, entity] of Object.entries(mapping.entities) as Array<[string, EntitySpec]>) {
    const meta = model.find(entity.target);
    if (!meta && !plannedObjects.has(entity.target)) continue;
    for (const [relName, relation] of Object.entries(entity.relations)) {
      const targetObject = mapping.entities[relation.entity]?.target;
      if (targetObject === undefined || (!model.find(targetObject) && !plannedObjects.has(targetObject)))
        continue;
      const targetMeta = model.find(targetObject);
      const existing = meta?.fields.find((f) => f.joinColumnName === relation.joinColumn);
      if (existing) {
        if (
          targetMeta &&
          existing.relationTargetObjectId &&
          existing.relationTargetObjectId !== targetMeta.id
        )
          conflict(
            entity.target,
            relation.joinColumn,
            `points at another object than ${targetObject} (relation ${relName} of entity ${entityName})`,
          );
        continue;
      }
      if (!relation.custom) {
        conflict(
          entity.target,
          relation.joinColumn,
          `no such join column and relation ${relName} of entity ${entityName} has no custom spec to create it`,
        );
        continue;
      }
      if (!/^[a-z][a-zA-Z0-9]*Id$/.test(relation.joinColumn)) {
        conflict(
          entity.target,
          relation.joinColumn,
          'a custom relation join column must be <relationFieldName>Id',
        );
        continue;
      }
      const name = relation.joinColumn.slice(0, -2);
      const key = `${entity.target}.${name}`;
      const previous = relations.get(key);
      if (previous) {
        if (previous.target !== targetObject)
          conflict(
            entity.target,
            name,
            `two relations create it towards different objects (${previous.target}, ${targetObject})`,
          );
        continue;
      }
      if (RESERVED_METADATA_NAMES.has(name)) {
        conflict(entity.target, name, 'name is reserved by Twenty');
        continue;
      }
      const sourceNames = takenOn(entity.target);
      if (sourceNames.has(name)) {
        conflict(entity.target, name, 'name is already used by a field that is not this relation');
        continue;
      }
      sourceNames.add(name).add(relation.joinColumn);
      const targetNames = takenOn(targetObject);
      let targetFieldLabel = relation.custom.targetFieldLabel;
      const candidates = [
        targetFieldLabel,
        `${targetFieldLabel} ${labelPluralOf(entity.target)}`,
        ...Array.from({ length: 8 }, (_, i) => `${targetFieldLabel} ${i + 2}`),
      ];
      const free = candidates.find((label) => {
        const inverse = nameFromLabel(label);
        return (
          inverse !== '' && !targetNames.has(inverse) && !(targetObject === entity.target && inverse === name)
        );
      });
      if (free === undefined) {
        conflict(
          targetObject,
          nameFromLabel(targetFieldLabel),
          'no free name for the inverse relation field',
        );
        continue;
      }
      targetFieldLabel = free;
      targetNames.add(nameFromLabel(targetFieldLabel));
      relations.set(key, {
        object: entity.target,
        name,
        joinColumn: relation.joinColumn,
        target: targetObject,
        label: relation.custom.label,
        targetFieldLabel,
        ...(relation.custom.icon !== undefined ? { icon: relation.custom.icon } : {}),
      });
    }
  }
  return [...relations.values()];
}
