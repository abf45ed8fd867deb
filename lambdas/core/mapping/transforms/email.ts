import { BLANK, fail, ok, type TransformResult } from './result.ts';

/** Twenty's EMAILS composite. */
export interface Emails {
  primaryEmail: string | null;
  additionalEmails: string[];
}

const EMAIL =
  /^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*@[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*\.[a-z]{2,63}$/;
const SEPARATORS = /[;,\s]+/;

/** True when an already trimmed, lower-cased address is syntactically deliverable. */
export function isValidEmail(value: string): boolean {
  return value.length <= 254 && EMAIL.test(value);
}

/**
 * EMAILS from one or more cells: trimmed, lower-cased (Twenty's unique index is on the literal
 * string, and owner matching compares lower-case), de-duplicated; several addresses in one cell
 * (separated by `;`, `,` or spaces) and later columns go to additionalEmails.
 */
export function emails(cells: readonly string[]): TransformResult<Emails | null> {
  let primary: string | null = null;
  let additional: string[] | null = null;
  for (const cell of cells) {
    const trimmed = cell.trim();
    if (trimmed === '') continue;
    const parts =
      trimmed.includes(';') || trimmed.includes(',') || trimmed.includes(' ')
        ? trimmed.split(SEPARATORS)
        : [trimmed];
    for (const part of parts) {
      if (part === '') continue;
      const value = part.toLowerCase().replace(/^mailto:/, '');
      if (!isValidEmail(value)) return fail('INVALID_EMAIL', 'email syntax');
      if (primary === null) primary = value;
      else if (value !== primary) {
        additional ??= [];
        if (!additional.includes(value)) additional.push(value);
      }
    }
  }
  if (primary === null) return BLANK;
  return ok({ primaryEmail: primary, additionalEmails: additional ?? [] });
}
