import { parse as parseYaml, YAMLParseError } from 'yaml';
import { z } from 'zod';
import { VALUE_FIELD_TYPES } from '../../ports/twenty-names.ts';
import { ValidationError } from '../errors.ts';

/**
 * The mapping spec: the one declarative document that says how a source export becomes Twenty
 * records. Source profiles (apms, pbn, generic) are written in it, the auto-mapper proposes one,
 * the operator edits it as YAML, and every later stage (ApplySchema, LoadChunk, Reconcile) reads
 * it. It is data, not code, so it can be reviewed, diffed, hashed into the plan and approved.
 */

/** Transforms a field can name; each one lives in `transforms/` and is pure. */
export const TRANSFORM_NAMES = [
  'text',
  'fullName',
  'email',
  'phones',
  'date',
  'dateTime',
  'money',
  'number',
  'boolean',
  'usState',
  'zip',
  'select',
  'multiSelect',
  'richText',
  'links',
  'address',
] as const;
export type TransformName = (typeof TRANSFORM_NAMES)[number];

/** Twenty field types a custom field may be created with (metadata API `type`). */
export const CUSTOM_FIELD_TYPES = VALUE_FIELD_TYPES;
export type CustomFieldType = (typeof CUSTOM_FIELD_TYPES)[number];

/** Source systems Ferry ships profiles for. */
export const SOURCE_SYSTEMS = ['apms', 'pbn', 'generic', 'fhir'] as const;
export type SourceSystem = (typeof SOURCE_SYSTEMS)[number];

/** Day/month order of slash dates. `auto` means: infer per column, reject AMBIGUOUS_DATE when unsure. */
export const DATE_ORDERS = ['MDY', 'DMY', 'YMD', 'auto'] as const;
export type DateOrder = (typeof DATE_ORDERS)[number];

/** Twenty metadata names: camelCase, ≤ 63 characters. */
const camelName = z
  .string()
  .regex(/^[a-z][a-zA-Z0-9]*$/, 'must be camelCase ([a-z][a-zA-Z0-9]*)')
  .max(63, 'must be at most 63 characters');

/** A GraphQL enum name, as Twenty requires for SELECT option values. */
export const OPTION_VALUE_PATTERN = /^[_A-Za-z][_0-9A-Za-z]*$/;
const optionValue = z
  .string()
  .regex(OPTION_VALUE_PATTERN, 'must be a GraphQL enum name ([_A-Za-z][_0-9A-Za-z]*)');

const nonEmpty = z.string().min(1, 'must not be empty');

/** One SELECT/MULTI_SELECT option to create (ApplySchema fills `color`/`position` when absent). */
export const SelectOptionSpecSchema = z.strictObject({
  value: optionValue,
  label: nonEmpty,
  color: z.string().optional(),
});
export type SelectOptionSpec = z.infer<typeof SelectOptionSpecSchema>;

/** How to create the target field when it is not a standard one; absent = the field must already exist. */
export const CustomFieldSpecSchema = z.strictObject({
  type: z.enum(CUSTOM_FIELD_TYPES),
  /** Twenty refuses longer labels at ApplySchema; the mapping is refused here instead, naming the key. */
  label: nonEmpty.max(63, 'must be at most 63 characters'),
  description: z.string().optional(),
  icon: z.string().optional(),
  /** Options known up front; value maps and `unmapped: addOption` add more at plan time. */
  options: z.array(SelectOptionSpecSchema).optional(),
});
export type CustomFieldSpec = z.infer<typeof CustomFieldSpecSchema>;

/**
 * Where a field's value comes from: one column, several columns in order (e.g. FirstName +
 * LastName, or CellPhone + HomePhone), or named parts of a composite (address).
 */
export const FieldSourceSchema = z.union([
  nonEmpty,
  z.array(nonEmpty).min(1, 'must list at least one column'),
  z.record(z.string(), nonEmpty),
]);
export type FieldSource = z.infer<typeof FieldSourceSchema>;

/** A constant a field takes on every record (e.g. a fixed task type), instead of reading a column. */
export const ConstantValueSchema = z.union([z.string(), z.number(), z.boolean()]);
export type ConstantValue = z.infer<typeof ConstantValueSchema>;

/**
 * One target field: source column(s) or a constant, transform, and the rules for its values.
 * Exactly one of `from` and `value` is given; after parsing, a constant field has `from: []`
 * (it reads no column), so code that lists the columns a mapping reads needs no special case.
 */
const FieldSpecObjectSchema = z.strictObject({
  from: FieldSourceSchema.optional(),
  /** A constant run through the field's transform as if it were the cell (value maps apply). */
  value: ConstantValueSchema.optional(),
  transform: z.enum(TRANSFORM_NAMES).default('text'),
  /** A blank value rejects the row with MISSING_REQUIRED. */
  required: z.boolean().default(false),
  /** text: longer values reject with VALUE_TOO_LONG. */
  maxLength: z.number().int().positive().optional(),
  /** Extra semantic check: `birthDate` rejects future dates and ages over 130 years. */
  validate: z.enum(['birthDate', 'pastDate']).optional(),
  /** date/dateTime: overrides `options.dateOrder` for this column. */
  dateOrder: z.enum(DATE_ORDERS).optional(),
  /** money: overrides `options.currency`. */
  currency: z
    .string()
    .regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code')
    .optional(),
  /** money/number: decimal comma ("1.234,50") instead of decimal point. */
  decimalComma: z.boolean().optional(),
  /** select/multiSelect: source value (matched case- and space-insensitively) → option value. */
  valueMap: z.record(z.string(), optionValue).optional(),
  /** select/multiSelect: what to do with a value that is not in valueMap. */
  unmapped: z.enum(['reject', 'default', 'addOption']).default('reject'),
  /** select: option used for blank values and, with `unmapped: default`, for unmapped ones. */
  default: optionValue.optional(),
  /** multiSelect: separator between values in one cell. */
  separator: z.string().min(1).default(';'),
  custom: CustomFieldSpecSchema.optional(),
});
/** A parsed constant field carries `from: []`; reading it back (mapping.json) treats that as absent. */
function withoutParsedFrom(input: unknown): unknown {
  if (typeof input !== 'object' || input === null) return input;
  const field = input as { from?: unknown; value?: unknown };
  if (field.value === undefined || !Array.isArray(field.from) || field.from.length > 0) return input;
  const { from: _from, ...rest } = field;
  return rest;
}

export const FieldSpecSchema = z
  .preprocess<unknown, typeof FieldSpecObjectSchema, z.input<typeof FieldSpecObjectSchema>>(
    withoutParsedFrom,
    FieldSpecObjectSchema,
  )
  .superRefine((field, ctx) => {
    if (field.from === undefined && field.value === undefined)
      ctx.addIssue({ code: 'custom', path: ['from'], message: 'required' });
    if (field.from !== undefined && field.value !== undefined)
      ctx.addIssue({ code: 'custom', path: ['value'], message: 'give either from or value, not both' });
  })
  .transform(({ from, ...rest }) => ({ ...rest, from: from ?? ([] as string[]) }));
export type FieldSpec = z.infer<typeof FieldSpecSchema>;
export type FieldSpecInput = z.input<typeof FieldSpecSchema>;

/** A many-to-one link to another entity of the same export, by source id. */
export const RelationSpecSchema = z.strictObject({
  /** Key under `entities` of the referenced entity. */
  entity: nonEmpty,
  /** Column holding the referenced entity's source id. */
  from: nonEmpty,
  /** Twenty join column written on this record, e.g. `companyId`, `pointOfContactId`. */
  joinColumn: camelName,
  /** A reference to a source id that does not exist: reject the row (ORPHAN_REFERENCE) or drop the link. */
  onMissing: z.enum(['reject', 'null']).default('reject'),
  /** A blank reference rejects the row with MISSING_REQUIRED. */
  required: z.boolean().default(false),
  /** Create this relation as a custom RELATION field when it is not a standard one. */
  custom: z
    .strictObject({ label: nonEmpty, targetFieldLabel: nonEmpty, icon: z.string().optional() })
    .optional(),
});
export type RelationSpec = z.infer<typeof RelationSpecSchema>;

/** note/task/attachment targets: each produces a noteTarget/taskTarget/attachment link row. */
export const TargetSpecSchema = z.strictObject({
  entity: nonEmpty,
  from: nonEmpty,
  onMissing: z.enum(['reject', 'null']).default('null'),
});
export type TargetSpec = z.infer<typeof TargetSpecSchema>;

/** One source entity (one file kind) → one Twenty object. */
export const EntitySpecSchema = z.strictObject({
  /** File names or globs (`*`, `?`) matched case-insensitively against the drop folder. */
  files: z.array(nonEmpty).min(1, 'must list at least one file name or glob'),
  /** Columns whose presence identifies this entity's file when names do not match. */
  headerSignature: z.array(nonEmpty).optional(),
  /** Twenty object nameSingular (standard or custom). */
  target: camelName,
  /** Column holding the source id; it seeds the deterministic Twenty id. */
  idColumn: nonEmpty,
  /**
   * For a file with no id column of its own (an appointment list, a ledger): the columns whose values
   * together identify a row (e.g. patient, date, time, provider), joined into the source id. Each
   * column still feeds its fields. `idColumn` is then the first of them (it names the id in rejects).
   */
  idColumns: z.array(nonEmpty).min(2, 'a composite id needs at least two columns').optional(),
  fields: z.record(camelName, FieldSpecSchema).default({}),
  relations: z.record(nonEmpty, RelationSpecSchema).default({}),
  targets: z.array(TargetSpecSchema).default([]),
  /** Unique-email handling for families: later rows sharing an email keep it in additionalEmails. */
  sharedEmail: z.enum(['additional', 'reject']).default('additional'),
  /**
   * The record's owner: a column holding a staff email, resolved to a workspace member by
   * ResolveOwners and written to `joinColumn` (`assigneeId` on tasks, `accountOwnerId` on companies,
   * `ownerId` on v2 opportunities).
   */
  owner: z.strictObject({ from: nonEmpty, joinColumn: camelName }).optional(),
  /**
   * Rows that stand for a workspace member are not loaded as records: the column holds a staff
   * email, and a row whose email (trimmed, lower-cased) belongs to a member is skipped
   * (MATCHED_MEMBER) — the member is already in Twenty as a user. Profiles set it on their
   * provider/staff file, so only providers without a Twenty account become people.
   */
  skipIfMember: z.strictObject({ from: nonEmpty }).optional(),
  /**
   * A long-format file (one row per record × property, e.g. APMS custom patient properties)
   * joined into this entity's cells before mapping: each property name becomes a cell, so the
   * pivoted properties are ordinary `fields` whose `from` is the property name. See
   * `lambdas/core/sources/pivot.ts` for the join and the type inference.
   */
  pivot: z
    .strictObject({
      /** File names or globs of the long-format file, like `files`. */
      files: z.array(nonEmpty).min(1, 'must list at least one file name or glob'),
      headerSignature: z.array(nonEmpty).optional(),
      /** Column holding this entity's source id. */
      idColumn: nonEmpty,
      /** Column holding the property name. */
      nameColumn: nonEmpty,
      /** Column holding the property value. */
      valueColumn: nonEmpty,
    })
    .optional(),
  /**
   * The column naming the record's file in the drop folder (attachments): Prepare checks the
   * file exists under `baseDir` (MISSING_FILE otherwise) before anything is uploaded.
   */
  file: z
    .strictObject({
      from: nonEmpty,
      /** Folder of the drop folder the paths are relative to. */
      baseDir: z.string().default('documents/'),
    })
    .optional(),
});
export type EntitySpec = z.infer<typeof EntitySpecSchema>;
export type EntitySpecInput = z.input<typeof EntitySpecSchema>;

/** A custom object ApplySchema creates before any record. */
export const CustomObjectSpecSchema = z.strictObject({
  nameSingular: camelName,
  namePlural: camelName,
  labelSingular: nonEmpty,
  labelPlural: nonEmpty,
  description: z.string().optional(),
  icon: z.string().optional(),
});
export type CustomObjectSpec = z.infer<typeof CustomObjectSpecSchema>;

/**
 * Column-name patterns never migrated, whatever the mapping says: SSNs. Matched as globs (`*`)
 * against the column name lower-cased with spaces and punctuation removed (`#` kept), so
 * "Social Security #", "Pt SSN" and "SSN_Last4" all match. `phi.allow` cannot override them.
 */
export const DEFAULT_NEVER_MIGRATE = [
  'ssn',
  '*ssn',
  'ssn*',
  'socialsecurity*',
  'socsec*',
  'ssno',
  'ssnum*',
  'ss#',
  // Canada's social insurance number: the same kind of identifier, never migrated either.
  'sin',
  'sin#',
  'sinno',
  'sinnumber',
  'socialinsurance*',
] as const;

export const MappingOptionsSchema = z.strictObject({
  /** ISO country for phones without a country code. */
  defaultCountry: z
    .string()
    .regex(/^[A-Z]{2}$/, 'must be an ISO 3166 alpha-2 code')
    .default('US'),
  currency: z
    .string()
    .regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code')
    .default('USD'),
  dateOrder: z.enum(DATE_ORDERS).default('auto'),
  /** IANA zone of the source's local timestamps. */
  timezone: z.string().min(1).default('UTC'),
});
export type MappingOptions = z.infer<typeof MappingOptionsSchema>;

export const PhiPolicySchema = z.strictObject({
  /** Extra column-name patterns (case-insensitive, `*` wildcard) never migrated; the defaults always apply. */
  neverMigrate: z.array(nonEmpty).default([]),
  /** Column names explicitly allowed to be migrated even if they match a sensitive pattern (never SSNs). */
  allow: z.array(nonEmpty).default([]),
});
export type PhiPolicy = z.infer<typeof PhiPolicySchema>;

export const MappingSpecSchema = z.strictObject({
  version: z.literal(1),
  source: z.enum(SOURCE_SYSTEMS),
  options: MappingOptionsSchema.default(MappingOptionsSchema.parse({})),
  phi: PhiPolicySchema.default(PhiPolicySchema.parse({})),
  entities: z.record(nonEmpty, EntitySpecSchema),
  customObjects: z.array(CustomObjectSpecSchema).default([]),
});
/** A parsed mapping spec with every default filled in. */
export type MappingSpec = z.infer<typeof MappingSpecSchema>;
/** What an author writes (defaults optional): profiles and the auto-mapper build this. */
export type MappingSpecInput = z.input<typeof MappingSpecSchema>;

/**
 * Turns a zod issue into the rule part of an operator-facing message. `reportInput` is on only so
 * that a missing key reads as `required`; the input itself is never put in the message.
 */
function ruleOf(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return issue.input === undefined ? 'required' : `must be ${issue.expected}`;
    case 'invalid_value':
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'unrecognized_keys':
      return `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')}`;
    case 'invalid_union':
      if (issue.input === undefined) return 'required';
      return 'must be a column name, a list of column names, or a map of parts to column names';
    case 'invalid_key':
      return 'invalid key: must be camelCase ([a-z][a-zA-Z0-9]*)';
    default:
      return issue.message;
  }
}

function pathOf(path: ReadonlyArray<PropertyKey>): string {
  return path
    .map((p) => (typeof p === 'number' ? `[${p}]` : String(p)))
    .join('.')
    .replaceAll('.[', '[');
}

/** Cross-reference checks zod cannot express per node: relations/targets name existing entities. */
function crossReferenceIssues(spec: MappingSpec): string[] {
  const issues: string[] = [];
  const names = new Set(Object.keys(spec.entities));
  for (const [entityName, entity] of Object.entries(spec.entities)) {
    for (const [relName, rel] of Object.entries(entity.relations)) {
      if (!names.has(rel.entity))
        issues.push(
          `entities.${entityName}.relations.${relName}.entity: must name an entity of this mapping`,
        );
    }
    entity.targets.forEach((t, i) => {
      if (!names.has(t.entity))
        issues.push(`entities.${entityName}.targets[${i}].entity: must name an entity of this mapping`);
    });
    for (const [fieldName, field] of Object.entries(entity.fields)) {
      const at = `entities.${entityName}.fields.${fieldName}`;
      if (field.value !== undefined) {
        if (field.transform === 'address') issues.push(`${at}.value: a constant cannot be an address`);
        continue;
      }
      if (field.transform === 'address' && (typeof field.from !== 'object' || Array.isArray(field.from)))
        issues.push(
          `${at}.from: address needs a map of parts (street1, street2, city, state, postcode, country)`,
        );
      if (field.transform !== 'address' && typeof field.from === 'object' && !Array.isArray(field.from))
        issues.push(`${at}.from: a map of parts is only allowed with transform address`);
      if (field.unmapped === 'default' && field.default === undefined)
        issues.push(`${at}.default: required when unmapped is default`);
    }
  }
  return issues;
}

/**
 * Validates an already-parsed object (a profile written in TypeScript, or the auto-mapper's
 * proposal) and fills defaults. Throws ValidationError naming every bad path and rule.
 */
export function parseMappingSpec(input: unknown, sourceName = 'mapping'): MappingSpec {
  const result = MappingSpecSchema.safeParse(input, { reportInput: true });
  if (!result.success) {
    const lines = result.error.issues.map(
      (i) => `${sourceName}: ${pathOf(i.path) || '(root)'}: ${ruleOf(i)}`,
    );
    throw new ValidationError(lines.join('\n'), { code: 'MAPPING_INVALID' });
  }
  const cross = crossReferenceIssues(result.data);
  if (cross.length > 0) {
    throw new ValidationError(cross.map((l) => `${sourceName}: ${l}`).join('\n'), {
      code: 'MAPPING_INVALID',
    });
  }
  return result.data;
}

/**
 * Loads a mapping YAML file. Errors read like `mapping.yaml: entities.patients.fields.emails.from:
 * required` so an operator can fix the file without reading code; YAML syntax errors give the line.
 */
export function parseMappingYaml(text: string, sourceName = 'mapping.yaml'): MappingSpec {
  let doc: unknown;
  try {
    doc = parseYaml(text, { uniqueKeys: true });
  } catch (error) {
    const where =
      error instanceof YAMLParseError && error.linePos ? `line ${error.linePos[0].line}` : '(document)';
    // The yaml library stops an alias bomb (aliases expanding without bound) with a ReferenceError.
    const rule =
      error instanceof YAMLParseError
        ? `YAML syntax (${error.code})`
        : error instanceof ReferenceError && /alias/i.test(error.message)
          ? 'YAML aliases expand too far (an alias bomb?)'
          : 'YAML syntax';
    throw new ValidationError(`${sourceName}: ${where}: ${rule}`, { code: 'MAPPING_INVALID', cause: error });
  }
  return parseMappingSpec(doc, sourceName);
}

/** JSON Schema of the YAML an author writes (defaults optional), for editor completion. */
export function mappingJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(MappingSpecSchema, { io: 'input', target: 'draft-2020-12' }) as Record<
    string,
    unknown
  >;
  return {
    ...schema,
    $id: 'https://ferry.local/schemas/mapping.schema.json',
    title: 'Ferry mapping spec',
  };
}
