/**
 * Field-level read-back: does the record Twenty holds now carry, for every field Prepare sent, the
 * value Twenty would have stored for it? Prepare already sends values in Twenty's shape (E.164 phone
 * parts, amountMicros, markdown bodies), so the comparison is on that shape, allowing only for what
 * Twenty itself does on write: lowercased emails, numbers returned as strings (micros), date-only
 * values returned as timestamps, composite sub-fields Ferry did not send filled with defaults
 * (e.g. a rich text's derived blocknote), and empty values returned as null or ''.
 * Results name fields, never values.
 */

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/;
const EMAIL = /^[^\s@]+@[^\s@]+$/;

function isEmpty(value: unknown): boolean {
  return (
    value === undefined ||
    value === null ||
    value === '' ||
    (Array.isArray(value) && value.length === 0) ||
    (typeof value === 'object' &&
      !Array.isArray(value) &&
      Object.values(value as Record<string, unknown>).every(isEmpty))
  );
}

/** Whether a sent value counts as populated (for the field's population rate). */
export function isPopulated(value: unknown): boolean {
  return !isEmpty(value);
}

function sameScalar(sent: unknown, actual: unknown): boolean {
  if (sent === actual) return true;
  if (typeof sent === 'number' || typeof actual === 'number') {
    const a = Number(sent);
    const b = Number(actual);
    return (
      (typeof sent === 'number' || typeof sent === 'string') &&
      (typeof actual === 'number' || typeof actual === 'string') &&
      String(sent).trim() !== '' &&
      String(actual).trim() !== '' &&
      Number.isFinite(a) &&
      a === b
    );
  }
  if (typeof sent === 'string' && typeof actual === 'string') {
    if (sent.trim() === actual.trim()) return true;
    if (EMAIL.test(sent) && sent.toLowerCase() === actual.toLowerCase()) return true;
    if (ISO_DATE.test(sent) && ISO_TIMESTAMP.test(actual)) return actual.slice(0, 10) === sent;
    if (ISO_TIMESTAMP.test(sent) && ISO_TIMESTAMP.test(actual))
      return Date.parse(sent) === Date.parse(actual);
    return false;
  }
  return false;
}

/**
 * Whether `actual` (from Twenty) holds what `sent` (from Prepare) asked for. Objects compare on the
 * sub-fields sent only; arrays element by element, in order.
 */
export function sameValue(sent: unknown, actual: unknown): boolean {
  if (isEmpty(sent)) return isEmpty(actual);
  if (Array.isArray(sent)) {
    if (!Array.isArray(actual) || actual.length !== sent.length) return false;
    return sent.every((item, i) => sameValue(item, actual[i]));
  }
  if (typeof sent === 'object' && sent !== null) {
    if (typeof actual !== 'object' || actual === null || Array.isArray(actual)) return false;
    const got = actual as Record<string, unknown>;
    return Object.entries(sent as Record<string, unknown>).every(([key, value]) =>
      sameValue(value, got[key]),
    );
  }
  return sameScalar(sent, actual);
}

/** The top-level fields of `sent` whose value `actual` does not hold (names only). */
export function mismatchedFields(
  sent: Readonly<Record<string, unknown>>,
  actual: Readonly<Record<string, unknown>>,
): string[] {
  const fields: string[] = [];
  for (const [field, value] of Object.entries(sent)) {
    if (field === 'id') continue;
    if (!sameValue(value, actual[field])) fields.push(field);
  }
  return fields;
}
