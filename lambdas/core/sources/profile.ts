import type {
  CustomFieldSpec,
  EntitySpecInput,
  FieldSpecInput,
  MappingSpecInput,
  SelectOptionSpec,
  SourceSystem,
} from '../mapping/spec.ts';
import { toOptionValue } from '../mapping/transforms/select.ts';

/**
 * A long-format file (one row per patient × property) that becomes custom fields on the entity
 * it points at. The mapping spec carries the same pivot on that entity (`entities.<into>.pivot`,
 * what the pipeline reads); this profile-level entry names the file kind for source detection
 * and for the Inventory's list of auxiliary files.
 */
export interface PivotSpec {
  readonly entity: string;
  readonly files: readonly string[];
  readonly headerSignature: readonly string[];
  /** Entity (key in the mapping) whose records receive the fields. */
  readonly into: string;
  readonly idColumn: string;
  readonly keyColumn: string;
  readonly valueColumn: string;
}

/** A file Ferry reads but does not load: it becomes a rebuild reference (workflows.json). */
export interface ReferenceSpec {
  readonly entity: string;
  readonly files: readonly string[];
  readonly headerSignature: readonly string[];
  readonly idColumn: string;
}

/**
 * What Ferry knows about one source system: the default mapping (in the operator-editable
 * spec format), header spellings seen across versions and report settings, and the files that
 * are pivoted or only referenced. Profiles are data so adding a system is adding a file.
 */
export interface SourceProfile {
  readonly source: SourceSystem;
  readonly label: string;
  readonly mapping: MappingSpecInput;
  /** Canonical column (as the mapping names it) → other spellings of the same column. */
  readonly headerAliases: Readonly<Record<string, readonly string[]>>;
  readonly pivots: readonly PivotSpec[];
  readonly references: readonly ReferenceSpec[];
}

/** Header comparison key: case, spacing and punctuation do not matter; `#` reads as "no". */
export function headerKey(name: string): string {
  return name
    .replace(/^\uFEFF/, '')
    .toLowerCase()
    .replaceAll('#', ' no ')
    .replaceAll('&', ' and ')
    .replace(/[^a-z0-9]+/g, '');
}

/** SELECT options from source labels, values as GraphQL enum names (what Twenty requires). */
export function optionsOf(labels: readonly string[]): SelectOptionSpec[] {
  return labels.map((label) => ({ value: toOptionValue(label), label }));
}

/** Identity value map (label → its option value) for a closed list: anything else is UNMAPPED_VALUE. */
export function valueMapOf(labels: readonly string[]): Record<string, string> {
  return Object.fromEntries(labels.map((l) => [l, toOptionValue(l)]));
}

/**
 * A custom SELECT over a closed list of labels, read from a column (`{ from }`) or the same for every
 * record (`{ value }`): anything outside the list is UNMAPPED_VALUE.
 */
function closedList(
  source: { readonly from: string } | { readonly value: string },
  label: string,
  labels: readonly string[],
): FieldSpecInput {
  return {
    ...source,
    transform: 'select',
    valueMap: valueMapOf(labels),
    unmapped: 'reject',
    custom: { type: 'SELECT', label, options: optionsOf(labels) },
  };
}

/** A SELECT field over a closed list of labels, created as a custom field. */
export function closedSelect(from: string, label: string, labels: readonly string[]): FieldSpecInput {
  return closedList({ from }, label, labels);
}

/** A SELECT field whose options are the distinct source values (one option per value). */
export function openSelect(from: string, label: string): FieldSpecInput {
  return { from, transform: 'select', unmapped: 'addOption', custom: { type: 'SELECT', label, options: [] } };
}

/**
 * The kind of activity a task record is (appointments and communication-log entries both become
 * tasks): a constant SELECT, so every entity writing tasks declares the same option list.
 */
export const TASK_TYPES = ['Appointment', 'Communication'] as const;

/** A constant SELECT: every record of the entity gets `value` (an option of `labels`). */
export function constantSelect(value: string, label: string, labels: readonly string[]): FieldSpecInput {
  return closedList({ value }, label, labels);
}

/** The task-type constant of an entity whose rows become tasks. */
export function taskType(value: (typeof TASK_TYPES)[number]): FieldSpecInput {
  return constantSelect(value, 'Task type', TASK_TYPES);
}

/** A custom field of the given type read with the matching transform. */
export function customField(
  from: string | string[],
  type: CustomFieldSpec['type'],
  label: string,
  extra: Partial<FieldSpecInput> = {},
): FieldSpecInput {
  const transform: FieldSpecInput['transform'] =
    type === 'DATE'
      ? 'date'
      : type === 'DATE_TIME'
        ? 'dateTime'
        : type === 'CURRENCY'
          ? 'money'
          : type === 'NUMBER' || type === 'NUMERIC'
            ? 'number'
            : type === 'BOOLEAN'
              ? 'boolean'
              : type === 'RICH_TEXT_V2'
                ? 'richText'
                : 'text';
  return { from, transform, ...extra, custom: { type, label } };
}

/** The profile's entity specs (input form). */
export function entitiesOf(profile: SourceProfile): Record<string, EntitySpecInput> {
  return profile.mapping.entities as Record<string, EntitySpecInput>;
}
