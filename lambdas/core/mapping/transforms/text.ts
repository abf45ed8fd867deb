import { BLANK, fail, ok, type TransformResult } from './result.ts';

/** Trimmed text; blank → null. Longer than `maxLength` rejects rather than silently truncating. */
export function text(raw: string, maxLength?: number): TransformResult<string | null> {
  const value = raw.trim();
  if (value === '') return BLANK;
  if (maxLength !== undefined && value.length > maxLength)
    return fail('VALUE_TOO_LONG', `maxLength ${maxLength}`);
  return ok(value);
}
