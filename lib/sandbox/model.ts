import { createHash } from 'node:crypto';
import { VALUE_FIELD_TYPES } from '../../lambdas/ports/twenty-names.ts';

/** Field types the sandbox knows, as Twenty names them. */
export const FIELD_TYPES = [
  ...VALUE_FIELD_TYPES,
  'UUID',
  'RELATION',
  'MORPH_RELATION',
  'FILES',
  'POSITION',
  'ACTOR',
  'TS_VECTOR',
] as const;
export type FieldType = (typeof FIELD_TYPES)[number];

/** Types a client may create through the metadata API (the rest are system types). */
export const CREATABLE_FIELD_TYPES: ReadonlySet<FieldType> = new Set<FieldType>([
  ...VALUE_FIELD_TYPES,
  'RELATION',
  'FILES',
  'UUID',
]);

/** Sub-fields of each composite type and the JSON kind each holds. */
export const COMPOSITE_TYPES: Readonly<
  Record<string, Readonly<Record<string, 'string' | 'number' | 'array' | 'json'>>>
> = {
  FULL_NAME: { firstName: 'string', lastName: 'string' },
  EMAILS: { primaryEmail: 'string', additionalEmails: 'array' },
  PHONES: {
    primaryPhoneNumber: 'string',
    primaryPhoneCountryCode: 'string',
    primaryPhoneCallingCode: 'string',
    additionalPhones: 'array',
  },
  LINKS: { primaryLinkUrl: 'string', primaryLinkLabel: 'string', secondaryLinks: 'array' },
  ADDRESS: {
    addressStreet1: 'string',
    addressStreet2: 'string',
    addressCity: 'string',
    addressState: 'string',
    addressPostcode: 'string',
    addressCountry: 'string',
    addressLat: 'number',
    addressLng: 'number',
  },
  CURRENCY: { amountMicros: 'number', currencyCode: 'string' },
  RICH_TEXT_V2: { blocknote: 'string', markdown: 'string' },
  ACTOR: { source: 'string', workspaceMemberId: 'string', name: 'string', context: 'json' },
};

/** A SELECT / MULTI_SELECT option. */
export interface SelectOption {
  id: string;
  value: string;
  label: string;
  color: string;
  position: number;
}

/** The relation side a field represents; the MANY_TO_ONE side owns the join column. */
export interface RelationInfo {
  type: 'MANY_TO_ONE' | 'ONE_TO_MANY';
  targetObjectMetadataId: string;
  targetFieldMetadataId: string;
  joinColumnName: string | null;
  onDelete: 'SET_NULL' | 'CASCADE' | null;
}

/** Field metadata as the sandbox stores it. */
export interface FieldMeta {
  id: string;
  objectMetadataId: string;
  name: string;
  label: string;
  type: FieldType;
  description: string | null;
  icon: string | null;
  isCustom: boolean;
  isActive: boolean;
  isSystem: boolean;
  isNullable: boolean;
  isUnique: boolean;
  defaultValue: unknown;
  options: SelectOption[] | null;
  relation: RelationInfo | null;
  createdAt: string;
  updatedAt: string;
}

/** Object metadata as the sandbox stores it (fields live separately). */
export interface ObjectMeta {
  id: string;
  nameSingular: string;
  namePlural: string;
  labelSingular: string;
  labelPlural: string;
  description: string | null;
  icon: string | null;
  isCustom: boolean;
  isActive: boolean;
  isSystem: boolean;
  /** Whether the record API accepts writes (workspaceMembers are invited, not created). */
  isReadOnly: boolean;
  createdAt: string;
  updatedAt: string;
}

/**
 * A deterministic UUID derived from a name, so standard metadata and seeded members keep their ids
 * across restarts of a persisted sandbox.
 */
export function stableUuid(name: string): string {
  const hex = createHash('sha1').update(name).digest('hex');
  const variant = ((Number.parseInt(hex.slice(16, 17), 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Twenty accepts any RFC 4122 shaped UUID for client ids. */
export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID_RE.test(value);
}

/** Upper-cases the first letter (Twenty builds `createPerson` / `createPeople` this way). */
export function capitalize(name: string): string {
  return name.charAt(0).toUpperCase() + name.slice(1);
}

export {
  ENUM_VALUE_RE,
  METADATA_NAME_RE,
  RESERVED_METADATA_NAMES,
  UNIQUE_SUBFIELD,
} from '../../lambdas/ports/twenty-names.ts';

// ---------------------------------------------------------------------------------------------
// Standard objects
// ---------------------------------------------------------------------------------------------

/** A field in a standard-object definition; relations name their target and inverse. */
interface FieldSpec {
  name: string;
  type: FieldType;
  label?: string;
  isUnique?: boolean;
  defaultValue?: unknown;
  options?: string[];
  /** MANY_TO_ONE relation: target object and the inverse ONE_TO_MANY field's name there. */
  manyToOne?: { target: string; inverse: string; onDelete?: 'SET_NULL' | 'CASCADE'; morph?: boolean };
}

interface ObjectSpec {
  nameSingular: string;
  namePlural: string;
  labelSingular: string;
  labelPlural: string;
  isReadOnly?: boolean;
  fields: FieldSpec[];
}

const FILE_CATEGORIES = [
  'ARCHIVE',
  'AUDIO',
  'IMAGE',
  'PRESENTATION',
  'SPREADSHEET',
  'TEXT_DOCUMENT',
  'VIDEO',
  'OTHER',
];

/** Targets of task/note targets and attachments: the objects activities can be linked to. */
const ACTIVITY_TARGETS = ['person', 'company', 'opportunity'] as const;

/** The join-column field name for a target object on taskTarget/noteTarget/attachment. */
export function targetFieldName(flavor: 'v1' | 'v2', targetSingular: string): string {
  return flavor === 'v2' ? `target${capitalize(targetSingular)}` : targetSingular;
}

function targetFields(flavor: 'v1' | 'v2', inverse: string, targets: readonly string[]): FieldSpec[] {
  return targets.map((target) => ({
    name: targetFieldName(flavor, target),
    type: flavor === 'v2' ? 'MORPH_RELATION' : 'RELATION',
    manyToOne: { target, inverse, onDelete: 'CASCADE', morph: flavor === 'v2' },
  }));
}

/**
 * A task's or note's target object (`taskTarget`, `noteTarget`): it belongs to its activity (deleted
 * with it) and points at one record of the objects an activity can target.
 */
function activityTargetSpec(flavor: 'v1' | 'v2', activity: 'task' | 'note', label: string): ObjectSpec {
  return {
    nameSingular: `${activity}Target`,
    namePlural: `${activity}Targets`,
    labelSingular: `${label} Target`,
    labelPlural: `${label} Targets`,
    fields: [
      {
        name: activity,
        type: 'RELATION',
        manyToOne: { target: activity, inverse: `${activity}Targets`, onDelete: 'CASCADE' },
      },
      ...targetFields(flavor, `${activity}Targets`, ACTIVITY_TARGETS),
    ],
  };
}

/** Standard objects per flavor, with the fields Ferry's stages touch (see TWENTY-API.md). */
function standardObjectSpecs(flavor: 'v1' | 'v2'): ObjectSpec[] {
  const v2 = flavor === 'v2';
  const only = <T>(cond: boolean, items: T[]): T[] => (cond ? items : []);
  return [
    {
      nameSingular: 'workspaceMember',
      namePlural: 'workspaceMembers',
      labelSingular: 'Workspace Member',
      labelPlural: 'Workspace Members',
      isReadOnly: true,
      fields: [
        { name: 'name', type: 'FULL_NAME' },
        { name: 'colorScheme', type: 'TEXT', defaultValue: 'System' },
        ...only<FieldSpec>(v2, [{ name: 'uiScale', type: 'NUMBER' }]),
        ...only<FieldSpec>(v2, [{ name: 'openRecordIn', type: 'TEXT', defaultValue: 'SIDE_PANEL' }]),
        { name: 'locale', type: 'TEXT', defaultValue: 'en' },
        { name: 'avatarUrl', type: 'TEXT' },
        { name: 'userEmail', type: 'TEXT' },
        ...only<FieldSpec>(v2, [{ name: 'jobTitle', type: 'TEXT' }]),
        { name: 'userId', type: 'UUID' },
        { name: 'timeZone', type: 'TEXT', defaultValue: 'system' },
        { name: 'dateFormat', type: 'TEXT', defaultValue: 'SYSTEM' },
        { name: 'timeFormat', type: 'TEXT', defaultValue: 'SYSTEM' },
        ...only<FieldSpec>(v2, [
          { name: 'calendarStartDay', type: 'NUMBER', defaultValue: 0 },
          { name: 'numberFormat', type: 'TEXT', defaultValue: 'SYSTEM' },
        ]),
      ],
    },
    {
      nameSingular: 'company',
      namePlural: 'companies',
      labelSingular: 'Company',
      labelPlural: 'Companies',
      fields: [
        { name: 'name', type: 'TEXT' },
        { name: 'domainName', type: 'LINKS', isUnique: true },
        { name: 'address', type: 'ADDRESS' },
        { name: 'linkedinLink', type: 'LINKS' },
        ...only<FieldSpec>(v2, [{ name: 'annualRevenue', type: 'CURRENCY' }]),
        ...only<FieldSpec>(!v2, [
          { name: 'xLink', type: 'LINKS' },
          { name: 'employees', type: 'NUMBER' },
          { name: 'annualRecurringRevenue', type: 'CURRENCY' },
          { name: 'idealCustomerProfile', type: 'BOOLEAN', defaultValue: false },
        ]),
        {
          name: 'accountOwner',
          type: 'RELATION',
          manyToOne: { target: 'workspaceMember', inverse: 'accountOwnerForCompanies' },
        },
      ],
    },
    {
      nameSingular: 'person',
      namePlural: 'people',
      labelSingular: 'Person',
      labelPlural: 'People',
      fields: [
        { name: 'name', type: 'FULL_NAME' },
        { name: 'emails', type: 'EMAILS', isUnique: true },
        { name: 'linkedinLink', type: 'LINKS' },
        ...only<FieldSpec>(!v2, [
          { name: 'xLink', type: 'LINKS' },
          { name: 'city', type: 'TEXT' },
        ]),
        { name: 'jobTitle', type: 'TEXT' },
        { name: 'phones', type: 'PHONES' },
        { name: 'avatarUrl', type: 'TEXT' },
        ...only<FieldSpec>(v2, [{ name: 'avatarFile', type: 'FILES' }]),
        { name: 'company', type: 'RELATION', manyToOne: { target: 'company', inverse: 'people' } },
      ],
    },
    {
      nameSingular: 'opportunity',
      namePlural: 'opportunities',
      labelSingular: 'Opportunity',
      labelPlural: 'Opportunities',
      fields: [
        { name: 'name', type: 'TEXT' },
        { name: 'amount', type: 'CURRENCY' },
        { name: 'closeDate', type: 'DATE_TIME' },
        {
          name: 'stage',
          type: 'SELECT',
          defaultValue: "'NEW'",
          options: ['NEW', 'SCREENING', 'MEETING', 'PROPOSAL', 'CUSTOMER'],
        },
        {
          name: 'pointOfContact',
          type: 'RELATION',
          manyToOne: { target: 'person', inverse: 'pointOfContactForOpportunities' },
        },
        { name: 'company', type: 'RELATION', manyToOne: { target: 'company', inverse: 'opportunities' } },
        ...only<FieldSpec>(v2, [
          {
            name: 'owner',
            type: 'RELATION',
            manyToOne: { target: 'workspaceMember', inverse: 'ownedOpportunities' },
          },
        ]),
      ],
    },
    {
      nameSingular: 'task',
      namePlural: 'tasks',
      labelSingular: 'Task',
      labelPlural: 'Tasks',
      fields: [
        { name: 'title', type: 'TEXT' },
        { name: 'bodyV2', type: 'RICH_TEXT_V2' },
        { name: 'dueAt', type: 'DATE_TIME' },
        { name: 'status', type: 'SELECT', defaultValue: "'TODO'", options: ['TODO', 'IN_PROGRESS', 'DONE'] },
        {
          name: 'assignee',
          type: 'RELATION',
          manyToOne: { target: 'workspaceMember', inverse: 'assignedTasks' },
        },
      ],
    },
    {
      nameSingular: 'note',
      namePlural: 'notes',
      labelSingular: 'Note',
      labelPlural: 'Notes',
      fields: [
        { name: 'title', type: 'TEXT' },
        { name: 'bodyV2', type: 'RICH_TEXT_V2' },
      ],
    },
    activityTargetSpec(flavor, 'task', 'Task'),
    activityTargetSpec(flavor, 'note', 'Note'),
    {
      nameSingular: 'attachment',
      namePlural: 'attachments',
      labelSingular: 'Attachment',
      labelPlural: 'Attachments',
      fields: [
        { name: 'name', type: 'TEXT' },
        ...only<FieldSpec>(v2, [{ name: 'file', type: 'FILES' }]),
        { name: 'fullPath', type: 'TEXT' },
        v2
          ? { name: 'fileCategory', type: 'SELECT', defaultValue: "'OTHER'", options: FILE_CATEGORIES }
          : { name: 'type', type: 'SELECT', defaultValue: "'OTHER'", options: FILE_CATEGORIES },
        ...only<FieldSpec>(!v2, [
          {
            name: 'author',
            type: 'RELATION',
            manyToOne: { target: 'workspaceMember', inverse: 'authoredAttachments' },
          },
        ]),
        ...targetFields(flavor, 'attachments', ['task', 'note', ...ACTIVITY_TARGETS]),
      ],
    },
  ];
}

/** Label from a camelCase name: `primaryEmail` → `Primary email`. */
export function labelFromName(name: string): string {
  const spaced = name.replace(/([A-Z])/g, ' $1').toLowerCase();
  return capitalize(spaced);
}

/** The system fields every object carries; `updatedBy` only exists in 2.x. */
export function systemFieldSpecs(
  flavor: 'v1' | 'v2',
): Array<{ name: string; type: FieldType; isNullable: boolean }> {
  return [
    { name: 'id', type: 'UUID', isNullable: false },
    { name: 'createdAt', type: 'DATE_TIME', isNullable: false },
    { name: 'updatedAt', type: 'DATE_TIME', isNullable: false },
    { name: 'deletedAt', type: 'DATE_TIME', isNullable: true },
    { name: 'createdBy', type: 'ACTOR', isNullable: false },
    ...(flavor === 'v2' ? [{ name: 'updatedBy', type: 'ACTOR' as FieldType, isNullable: false }] : []),
    { name: 'position', type: 'POSITION', isNullable: false },
    { name: 'searchVector', type: 'TS_VECTOR', isNullable: true },
  ];
}

/** Builds option records from bare values (UPPER_SNAKE values, labels derived). */
export function optionsFromValues(
  objectName: string,
  fieldName: string,
  values: readonly string[],
): SelectOption[] {
  const colors = ['green', 'turquoise', 'sky', 'blue', 'purple', 'pink', 'red', 'orange', 'yellow', 'gray'];
  return values.map((value, position) => ({
    id: stableUuid(`option:${objectName}.${fieldName}.${value}`),
    value,
    label: capitalize(value.toLowerCase().replace(/_/g, ' ')),
    color: colors[position % colors.length] ?? 'gray',
    position,
  }));
}

/** Builds a field record with the defaults Twenty gives standard fields. */
export function makeField(
  object: ObjectMeta,
  input: Partial<FieldMeta> & { name: string; type: FieldType },
  now: string,
  isCustom: boolean,
): FieldMeta {
  return {
    id: input.id ?? stableUuid(`field:${object.nameSingular}.${input.name}`),
    objectMetadataId: object.id,
    name: input.name,
    label: input.label ?? labelFromName(input.name),
    type: input.type,
    description: input.description ?? null,
    icon: input.icon ?? null,
    isCustom,
    isActive: input.isActive ?? true,
    isSystem: input.isSystem ?? false,
    isNullable: input.isNullable ?? true,
    isUnique: input.isUnique ?? false,
    defaultValue: input.defaultValue ?? null,
    options: input.options ?? null,
    relation: input.relation ?? null,
    createdAt: now,
    updatedAt: now,
  };
}

/** Builds the system fields of a new object. */
export function systemFields(
  object: ObjectMeta,
  flavor: 'v1' | 'v2',
  now: string,
  isCustom: boolean,
): FieldMeta[] {
  return systemFieldSpecs(flavor).map((spec) =>
    makeField(
      object,
      {
        name: spec.name,
        type: spec.type,
        isSystem: spec.name !== 'createdAt' && spec.name !== 'updatedAt' && spec.name !== 'createdBy',
        isNullable: spec.isNullable,
        id: isCustom ? stableUuid(`field:${object.id}.${spec.name}`) : undefined,
      },
      now,
      false,
    ),
  );
}

/**
 * A relation pair: the MANY_TO_ONE field (owning `joinColumnName`) on `source` and its
 * ONE_TO_MANY inverse on `target`, each pointing at the other.
 */
export function makeRelationPair(args: {
  source: ObjectMeta;
  target: ObjectMeta;
  name: string;
  inverseName: string;
  type: FieldType;
  label?: string;
  inverseLabel?: string;
  onDelete: 'SET_NULL' | 'CASCADE';
  now: string;
  isCustom: boolean;
  idSeed: string;
}): [FieldMeta, FieldMeta] {
  const manyId = stableUuid(`field:${args.idSeed}:${args.source.id}.${args.name}`);
  const oneId = stableUuid(`field:${args.idSeed}:${args.target.id}.${args.inverseName}`);
  const many = makeField(
    args.source,
    {
      id: manyId,
      name: args.name,
      label: args.label,
      type: args.type,
      relation: {
        type: 'MANY_TO_ONE',
        targetObjectMetadataId: args.target.id,
        targetFieldMetadataId: oneId,
        joinColumnName: `${args.name}Id`,
        onDelete: args.onDelete,
      },
    },
    args.now,
    args.isCustom,
  );
  const one = makeField(
    args.target,
    {
      id: oneId,
      name: args.inverseName,
      label: args.inverseLabel,
      type: args.type,
      relation: {
        type: 'ONE_TO_MANY',
        targetObjectMetadataId: args.source.id,
        targetFieldMetadataId: manyId,
        joinColumnName: null,
        onDelete: null,
      },
    },
    args.now,
    args.isCustom,
  );
  return [many, one];
}

/** The complete standard schema of a flavor: objects and all their fields. */
export function standardSchema(
  flavor: 'v1' | 'v2',
  now: string,
): { objects: ObjectMeta[]; fields: FieldMeta[] } {
  const specs = standardObjectSpecs(flavor);
  const objects: ObjectMeta[] = specs.map((spec) => ({
    id: stableUuid(`object:${spec.nameSingular}`),
    nameSingular: spec.nameSingular,
    namePlural: spec.namePlural,
    labelSingular: spec.labelSingular,
    labelPlural: spec.labelPlural,
    description: null,
    icon: null,
    isCustom: false,
    isActive: true,
    isSystem: spec.nameSingular === 'workspaceMember',
    isReadOnly: spec.isReadOnly ?? false,
    createdAt: now,
    updatedAt: now,
  }));
  const bySingular = new Map(objects.map((o) => [o.nameSingular, o]));
  const fields: FieldMeta[] = [];
  for (const spec of specs) {
    const object = bySingular.get(spec.nameSingular)!;
    fields.push(...systemFields(object, flavor, now, false));
    for (const f of spec.fields) {
      if (f.manyToOne) {
        const target = bySingular.get(f.manyToOne.target)!;
        fields.push(
          ...makeRelationPair({
            source: object,
            target,
            name: f.name,
            inverseName: f.manyToOne.inverse,
            type: f.type,
            onDelete: f.manyToOne.onDelete ?? 'SET_NULL',
            now,
            isCustom: false,
            idSeed: 'std',
          }),
        );
        continue;
      }
      fields.push(
        makeField(
          object,
          {
            name: f.name,
            type: f.type,
            label: f.label,
            isUnique: f.isUnique ?? false,
            defaultValue: f.defaultValue ?? null,
            options: f.options ? optionsFromValues(spec.nameSingular, f.name, f.options) : null,
          },
          now,
          false,
        ),
      );
    }
  }
  return { objects, fields };
}
