import { badRequest } from './http-error.ts';
import { COMPOSITE_TYPES, type FieldMeta, isUuid, type ObjectMeta, UNIQUE_SUBFIELD } from './model.ts';
import type { ResolvedPath } from './query.ts';

/** An object as the record API sees it: active fields by name, join columns, unique keys. */
export interface ObjectView {
  readonly meta: ObjectMeta;
  /** Active fields by name (relations under their relation name, e.g. `company`). */
  readonly fields: ReadonlyMap<string, FieldMeta>;
  /** MANY_TO_ONE relation fields by join column name (e.g. `companyId`). */
  readonly joinColumns: ReadonlyMap<string, FieldMeta>;
  /** Unique keys: `emails.primaryEmail`, `domainName.primaryLinkUrl`, custom unique fields. */
  readonly uniqueKeys: ReadonlyArray<{
    readonly key: string;
    readonly field: FieldMeta;
    readonly sub: string | null;
  }>;
}

/** Builds the view of an object from its active fields. */
export function buildObjectView(meta: ObjectMeta, fields: readonly FieldMeta[]): ObjectView {
  const byName = new Map<string, FieldMeta>();
  const joinColumns = new Map<string, FieldMeta>();
  const uniqueKeys: Array<{ key: string; field: FieldMeta; sub: string | null }> = [];
  for (const field of fields) {
    if (!field.isActive || field.type === 'TS_VECTOR') continue;
    byName.set(field.name, field);
    if (field.relation?.type === 'MANY_TO_ONE' && field.relation.joinColumnName) {
      joinColumns.set(field.relation.joinColumnName, field);
    }
    if (field.isUnique) {
      const sub = UNIQUE_SUBFIELD[field.type] ?? null;
      uniqueKeys.push({ key: sub ? `${field.name}.${sub}` : field.name, field, sub });
    }
  }
  return { meta, fields: byName, joinColumns, uniqueKeys };
}

/** Fields the server owns: a client value is ignored, as Twenty does for these. */
const SERVER_SET = new Set(['createdAt', 'updatedAt', 'deletedAt', 'createdBy', 'updatedBy', 'searchVector']);

const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;
const CURRENCY_RE = /^[A-Z]{3}$/;
const EMAIL_RE = /^[^\s@]+@[^\s@]+$/;
const RATINGS = new Set(['RATING_1', 'RATING_2', 'RATING_3', 'RATING_4', 'RATING_5']);

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The default value Twenty stores for a field a create leaves out. */
export function defaultValueOf(field: FieldMeta): unknown {
  const composite = COMPOSITE_TYPES[field.type];
  if (composite && field.type !== 'ACTOR') {
    const out: Record<string, unknown> = {};
    for (const [sub, kind] of Object.entries(composite)) out[sub] = kind === 'string' ? '' : null;
    if (field.type === 'RICH_TEXT_V2') {
      out.blocknote = null;
      out.markdown = null;
    }
    if (isPlainObject(field.defaultValue)) Object.assign(out, field.defaultValue);
    return out;
  }
  if (field.type === 'SELECT' && typeof field.defaultValue === 'string')
    return field.defaultValue.replace(/^'|'$/g, '');
  if (field.type === 'TEXT') return typeof field.defaultValue === 'string' ? field.defaultValue : '';
  return field.defaultValue ?? null;
}

function validateComposite(field: FieldMeta, value: unknown, objectName: string): Record<string, unknown> {
  const where = `${objectName}.${field.name}`;
  if (!isPlainObject(value)) throw badRequest(`Invalid value for ${where}: expected a ${field.type} object`);
  const subs = COMPOSITE_TYPES[field.type]!;
  const out: Record<string, unknown> = {};
  for (const [sub, raw] of Object.entries(value)) {
    const kind = subs[sub];
    if (kind === undefined)
      throw badRequest(`Invalid value for ${where}: ${field.type} has no sub-field "${sub}"`);
    if (raw === null) {
      out[sub] = null;
      continue;
    }
    if (kind === 'string' && typeof raw !== 'string')
      throw badRequest(`Invalid value for ${where}.${sub}: expected a string`);
    if (kind === 'number' && (typeof raw !== 'number' || !Number.isFinite(raw))) {
      throw badRequest(`Invalid value for ${where}.${sub}: expected a number`);
    }
    if (kind === 'array' && !Array.isArray(raw))
      throw badRequest(`Invalid value for ${where}.${sub}: expected an array`);
    out[sub] = raw;
  }
  if (field.type === 'EMAILS') {
    const primary = out.primaryEmail;
    if (typeof primary === 'string' && primary !== '') {
      if (!EMAIL_RE.test(primary.trim()))
        throw badRequest(`Invalid value for ${where}.primaryEmail: not an email address`);
      out.primaryEmail = primary.trim().toLowerCase();
    }
    if (Array.isArray(out.additionalEmails)) {
      out.additionalEmails = out.additionalEmails.map((email) => {
        if (typeof email !== 'string' || !EMAIL_RE.test(email.trim())) {
          throw badRequest(`Invalid value for ${where}.additionalEmails: each item must be an email address`);
        }
        return email.trim().toLowerCase();
      });
    }
  }
  if (field.type === 'PHONES' && Array.isArray(out.additionalPhones)) {
    for (const phone of out.additionalPhones) {
      if (!isPlainObject(phone))
        throw badRequest(`Invalid value for ${where}.additionalPhones: each item must be an object`);
    }
  }
  if (field.type === 'LINKS' && Array.isArray(out.secondaryLinks)) {
    for (const link of out.secondaryLinks) {
      if (!isPlainObject(link))
        throw badRequest(`Invalid value for ${where}.secondaryLinks: each item must be an object`);
    }
  }
  if (field.type === 'CURRENCY' && typeof out.currencyCode === 'string' && out.currencyCode !== '') {
    if (!CURRENCY_RE.test(out.currencyCode))
      throw badRequest(`Invalid value for ${where}.currencyCode: expected an ISO 4217 code`);
  }
  return out;
}

/** Validates one field value and returns it as stored (dates normalised to ISO). */
export function validateFieldValue(field: FieldMeta, value: unknown, objectName: string): unknown {
  const where = `${objectName}.${field.name}`;
  if (value === null) {
    if (!field.isNullable) throw badRequest(`Invalid value for ${where}: field is not nullable`);
    return null;
  }
  if (COMPOSITE_TYPES[field.type]) return validateComposite(field, value, objectName);
  switch (field.type) {
    case 'TEXT':
      if (typeof value !== 'string') throw badRequest(`Invalid value for ${where}: expected a string`);
      return value;
    case 'UUID':
      if (!isUuid(value)) throw badRequest(`Invalid value for ${where}: expected a UUID`);
      return value;
    case 'NUMBER':
    case 'POSITION':
      if (typeof value !== 'number' || !Number.isFinite(value))
        throw badRequest(`Invalid value for ${where}: expected a number`);
      return value;
    case 'NUMERIC': {
      const n = typeof value === 'string' ? Number(value) : value;
      if (typeof n !== 'number' || !Number.isFinite(n))
        throw badRequest(`Invalid value for ${where}: expected a number`);
      return n;
    }
    case 'BOOLEAN':
      if (typeof value !== 'boolean') throw badRequest(`Invalid value for ${where}: expected a boolean`);
      return value;
    case 'DATE':
      if (typeof value !== 'string' || !DATE_RE.test(value) || Number.isNaN(Date.parse(value))) {
        throw badRequest(`Invalid value for ${where}: expected a date YYYY-MM-DD`);
      }
      return value;
    case 'DATE_TIME': {
      if (typeof value !== 'string' || Number.isNaN(Date.parse(value))) {
        throw badRequest(`Invalid value for ${where}: expected an ISO 8601 date-time`);
      }
      return new Date(value).toISOString();
    }
    case 'SELECT':
      if (typeof value !== 'string' || !(field.options ?? []).some((o) => o.value === value)) {
        throw badRequest(`Invalid value for ${where}: not one of the field's options`);
      }
      return value;
    case 'MULTI_SELECT': {
      if (!Array.isArray(value)) throw badRequest(`Invalid value for ${where}: expected an array of options`);
      const allowed = new Set((field.options ?? []).map((o) => o.value));
      for (const item of value) {
        if (typeof item !== 'string' || !allowed.has(item)) {
          throw badRequest(`Invalid value for ${where}: not one of the field's options`);
        }
      }
      return value;
    }
    case 'RATING':
      if (typeof value !== 'string' || !RATINGS.has(value))
        throw badRequest(`Invalid value for ${where}: expected RATING_1..RATING_5`);
      return value;
    case 'ARRAY':
      if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
        throw badRequest(`Invalid value for ${where}: expected an array of strings`);
      }
      return value;
    case 'RAW_JSON':
      return value;
    case 'FILES': {
      if (!Array.isArray(value)) throw badRequest(`Invalid value for ${where}: expected an array of files`);
      for (const item of value) {
        if (
          !isPlainObject(item) ||
          !isUuid(item.fileId) ||
          (item.label !== undefined && typeof item.label !== 'string')
        ) {
          throw badRequest(`Invalid value for ${where}: each file needs a fileId UUID and a label`);
        }
        for (const key of Object.keys(item)) {
          if (!['fileId', 'label', 'extension'].includes(key))
            throw badRequest(`Invalid value for ${where}: unknown file key "${key}"`);
        }
      }
      return value;
    }
    default:
      throw badRequest(`Field ${where} cannot be written`);
  }
}

/**
 * Validates a create or update payload against the object's metadata. Returns the stored shape of
 * the provided fields only (composites partial; merging is the caller's job).
 */
export function validateRecordInput(
  view: ObjectView,
  input: unknown,
  mode: 'create' | 'update',
): Record<string, unknown> {
  const objectName = view.meta.nameSingular;
  if (!isPlainObject(input)) throw badRequest(`Invalid record for ${objectName}: expected a JSON object`);
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(input)) {
    if (key === 'id') {
      if (!isUuid(value)) throw badRequest(`Invalid UUID for ${objectName}.id`);
      out.id = value.toLowerCase();
      continue;
    }
    if (SERVER_SET.has(key)) continue;
    if (key === 'position') {
      if (value === null) continue;
      if (typeof value !== 'number' || !Number.isFinite(value))
        throw badRequest(`Invalid value for ${objectName}.position: expected a number`);
      out.position = value;
      continue;
    }
    const join = view.joinColumns.get(key);
    if (join) {
      if (value !== null && !isUuid(value)) throw badRequest(`Invalid UUID for ${objectName}.${key}`);
      out[key] = value === null ? null : value.toLowerCase();
      continue;
    }
    const field = view.fields.get(key);
    if (!field) throw badRequest(`Object ${objectName} doesn't have any "${key}" field.`);
    if (field.relation) {
      throw badRequest(`Field ${objectName}.${key} is a relation: write its join column instead`);
    }
    out[key] = validateFieldValue(field, value, objectName);
  }
  if (mode === 'update' && 'id' in out) delete out.id;
  return out;
}

/** Merges validated input over an existing (or default) record; composites merge per sub-field. */
export function mergeRecord(
  view: ObjectView,
  base: Record<string, unknown>,
  patch: Record<string, unknown>,
): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(patch)) {
    const field = view.fields.get(key);
    if (field && COMPOSITE_TYPES[field.type] && isPlainObject(value) && isPlainObject(base[key])) {
      merged[key] = { ...(base[key] as Record<string, unknown>), ...value };
    } else {
      merged[key] = value;
    }
  }
  return merged;
}

/** A fresh record with every field at its default value. */
export function defaultRecord(view: ObjectView): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of view.fields.values()) {
    if (
      field.relation ||
      ['id', 'createdAt', 'updatedAt', 'deletedAt', 'createdBy', 'updatedBy', 'position'].includes(field.name)
    ) {
      continue;
    }
    out[field.name] = defaultValueOf(field);
  }
  for (const join of view.joinColumns.keys()) out[join] = null;
  return out;
}

/** The unique-key entries of a record (empty values hold no key, as with Twenty's indexes). */
export function uniqueEntries(view: ObjectView, record: Record<string, unknown>): Array<[string, string]> {
  const entries: Array<[string, string]> = [];
  for (const unique of view.uniqueKeys) {
    let value = record[unique.field.name];
    if (unique.sub !== null) value = isPlainObject(value) ? value[unique.sub] : undefined;
    if (value === null || value === undefined || value === '') continue;
    entries.push([unique.key, typeof value === 'string' ? value : JSON.stringify(value)]);
  }
  return entries;
}

/** The record's outgoing references, for relation checks and ON DELETE handling. */
export function referenceEntries(
  view: ObjectView,
  record: Record<string, unknown>,
  objectNameById: (id: string) => string,
): Array<{ field: string; targetObject: string; targetId: string }> {
  const refs: Array<{ field: string; targetObject: string; targetId: string }> = [];
  for (const [column, field] of view.joinColumns) {
    const value = record[column];
    if (typeof value === 'string') {
      refs.push({
        field: column,
        targetObject: objectNameById(field.relation!.targetObjectMetadataId),
        targetId: value,
      });
    }
  }
  return refs;
}

/** The record as the API returns it: active fields and join columns only, system fields first. */
export function presentRecord(view: ObjectView, data: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of view.fields.values()) {
    if (field.relation) continue;
    out[field.name] = data[field.name] ?? (field.name === 'deletedAt' ? null : defaultValueOf(field));
  }
  for (const join of view.joinColumns.keys()) out[join] = data[join] ?? null;
  return out;
}

/** Maps a filter / order path to its SQL expression, rejecting unknown fields like Twenty does. */
export function resolveFieldPath(view: ObjectView, path: readonly string[]): ResolvedPath {
  const objectName = view.meta.nameSingular;
  const [name, sub] = path;
  if (name === undefined) throw badRequest('Invalid filter: empty field');
  if (name === 'id' && sub === undefined) return { sql: 'id', kind: 'string' };
  if (name === 'deletedAt' && sub === undefined) return { sql: 'deleted_at', kind: 'date' };
  if (view.joinColumns.has(name) && sub === undefined)
    return { sql: `json_extract(data, '$.${name}')`, kind: 'string' };
  const field = view.fields.get(name);
  if (!field || field.relation) throw badRequest(`Object ${objectName} doesn't have any "${name}" field.`);
  const composite = COMPOSITE_TYPES[field.type];
  if (composite) {
    if (sub === undefined)
      throw badRequest(`Invalid filter: ${objectName}.${name} is composite; name a sub-field with a dot`);
    const kind = composite[sub];
    if (kind === undefined) throw badRequest(`Object ${objectName} doesn't have any "${name}.${sub}" field.`);
    const unique = view.uniqueKeys.find((u) => u.key === `${name}.${sub}`);
    return {
      sql: `json_extract(data, '$.${name}.${sub}')`,
      kind: kind === 'number' ? 'number' : kind === 'array' ? 'array' : 'string',
      ...(unique ? { unique: { object: objectName, key: unique.key } } : {}),
    };
  }
  if (sub !== undefined) throw badRequest(`Invalid filter: ${objectName}.${name} has no sub-fields`);
  const kind: ResolvedPath['kind'] =
    field.type === 'NUMBER' || field.type === 'NUMERIC' || field.type === 'POSITION'
      ? 'number'
      : field.type === 'BOOLEAN'
        ? 'boolean'
        : field.type === 'DATE_TIME' || field.type === 'DATE'
          ? 'date'
          : field.type === 'ARRAY' || field.type === 'MULTI_SELECT'
            ? 'array'
            : 'string';
  const unique = kind === 'string' ? view.uniqueKeys.find((u) => u.key === name) : undefined;
  return {
    sql: `json_extract(data, '$.${name}')`,
    kind,
    ...(unique ? { unique: { object: objectName, key: name } } : {}),
  };
}
