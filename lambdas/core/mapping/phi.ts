import { DEFAULT_NEVER_MIGRATE, type PhiPolicy } from './spec.ts';

function normalizeColumn(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9#*]/g, '');
}

function columnPattern(pattern: string): RegExp {
  const body = normalizeColumn(pattern)
    .split('*')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${body}$`);
}

const DEFAULT_PATTERNS = DEFAULT_NEVER_MIGRATE.map(columnPattern);
/** A US SSN (###-##-####), or a Canadian SIN (### ### ###, ###-###-###). */
const SSN_VALUE = /^(\d{3}-\d{2}-\d{4}|\d{3}([ -])\d{3}\2\d{3})$/;

/** Why a column is excluded: the built-in SSN rule (not overridable) or the mapping's own list. */
export type PhiVerdict = 'allowed' | 'ssn' | 'policy';

/**
 * Decides whether a source column may be migrated at all. SSN-like names are always excluded;
 * the mapping's `neverMigrate` patterns are excluded unless the column is listed in `allow`.
 */
export function phiVerdict(column: string, policy?: PhiPolicy): PhiVerdict {
  const normalized = normalizeColumn(column);
  if (DEFAULT_PATTERNS.some((re) => re.test(normalized))) return 'ssn';
  if (policy === undefined) return 'allowed';
  if (policy.allow.some((a) => normalizeColumn(a) === normalized)) return 'allowed';
  return policy.neverMigrate.some((p) => columnPattern(p).test(normalized)) ? 'policy' : 'allowed';
}

/** True when a value is formatted like an SSN or a SIN: the auto-mapper excludes such columns. */
export function looksLikeSsn(value: string): boolean {
  return SSN_VALUE.test(value.trim());
}
