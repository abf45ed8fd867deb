import { randomUUID } from 'node:crypto';
import { badRequest } from './http-error.ts';
import {
  ENUM_VALUE_RE,
  type FieldType,
  isUuid,
  METADATA_NAME_RE,
  RESERVED_METADATA_NAMES,
  type SelectOption,
} from './model.ts';

/** Checks of metadata request bodies: names, labels, allowed keys, select options. */

export function checkName(name: unknown, what: string): string {
  if (typeof name !== 'string' || name === '') throw badRequest(`${what} is required`);
  if (name.length > 63) throw badRequest(`${what} exceeds 63 characters`);
  if (!METADATA_NAME_RE.test(name))
    throw badRequest(`${what} must be camelCase (letters and digits, starting lowercase)`);
  if (RESERVED_METADATA_NAMES.has(name)) throw badRequest(`${what} is a reserved name`);
  return name;
}

export function checkLabel(label: unknown, what: string): string {
  if (typeof label !== 'string' || label.trim() === '') throw badRequest(`${what} is required`);
  if (label.length > 63) throw badRequest(`${what} exceeds 63 characters`);
  return label;
}

export function checkKeys(body: Record<string, unknown>, allowed: readonly string[], what: string): void {
  for (const key of Object.keys(body)) {
    if (!allowed.includes(key)) throw badRequest(`${what} has no property "${key}"`);
  }
}

export function asObject(body: unknown, what: string): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw badRequest(`${what} must be a JSON object`);
  return body as Record<string, unknown>;
}

export function optionalString(value: unknown, what: string): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw badRequest(`${what} must be a string`);
  return value;
}

/**
 * The description, icon and active flag after an update of an object or a field: Twenty reads and
 * checks them alike for both, and keeps the current value of each one the update leaves out.
 */
export function describedUpdate(
  current: { readonly description: string | null; readonly icon: string | null; readonly isActive: boolean },
  update: Record<string, unknown>,
): { description: string | null; icon: string | null; isActive: boolean } {
  return {
    description:
      update.description === undefined
        ? current.description
        : optionalString(update.description, 'description'),
    icon: update.icon === undefined ? current.icon : optionalString(update.icon, 'icon'),
    isActive: update.isActive === undefined ? current.isActive : Boolean(update.isActive),
  };
}

export function parseOptions(raw: unknown, type: FieldType): SelectOption[] | null {
  if (type !== 'SELECT' && type !== 'MULTI_SELECT') {
    if (raw !== undefined && raw !== null)
      throw badRequest('options are only allowed on SELECT and MULTI_SELECT fields');
    return null;
  }
  if (!Array.isArray(raw) || raw.length === 0)
    throw badRequest('options are required for SELECT and MULTI_SELECT fields');
  const seen = new Set<string>();
  return raw.map((item, index) => {
    const option = asObject(item, `options[${index}]`);
    checkKeys(option, ['id', 'value', 'label', 'color', 'position'], `options[${index}]`);
    if (typeof option.value !== 'string' || !ENUM_VALUE_RE.test(option.value)) {
      throw badRequest(`options[${index}].value must be a valid GraphQL enum name [_A-Za-z][_0-9A-Za-z]*`);
    }
    if (seen.has(option.value)) throw badRequest(`options[${index}].value is duplicated`);
    seen.add(option.value);
    if (typeof option.label !== 'string' || option.label.trim() === '')
      throw badRequest(`options[${index}].label is required`);
    if (typeof option.color !== 'string' || option.color === '')
      throw badRequest(`options[${index}].color is required`);
    if (option.id !== undefined && !isUuid(option.id))
      throw badRequest(`options[${index}].id must be a UUID`);
    return {
      id: typeof option.id === 'string' ? option.id : randomUUID(),
      value: option.value,
      label: option.label,
      color: option.color,
      position: typeof option.position === 'number' ? option.position : index,
    };
  });
}
