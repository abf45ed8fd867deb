/**
 * Twenty's naming rules for the metadata API, in one place (the port side, so the core, the sandbox
 * and the HTTP client share them without importing each other): the sandbox enforces them, the schema
 * diff and the auto-mapper check against them at plan time so the operator learns of a clash before
 * approving, not from a 400 halfway through ApplySchema.
 */

/** Object and field names: camelCase, ASCII (the 63-character cap is checked separately). */
export const METADATA_NAME_RE = /^[a-z][a-zA-Z0-9]*$/;

/** A SELECT/MULTI_SELECT option value must be a valid GraphQL enum name. */
export const ENUM_VALUE_RE = /^[_A-Za-z][_0-9A-Za-z]*$/;

/**
 * Names Twenty refuses for objects and fields: exactly `RESERVED_METADATA_NAME_KEYWORDS` in
 * twenty-shared (metadata/constants/reserved-metadata-name-keywords.constant.ts), i.e. its core
 * (non-workspace) table names in singular and plural plus GraphQL-schema words. Kept exact, not a
 * guessed superset, so the schema diff does not refuse names Twenty would accept.
 */
export const RESERVED_METADATA_NAMES: ReadonlySet<string> = new Set([
  'approvedAccessDomain',
  'approvedAccessDomains',
  'appToken',
  'appTokens',
  'billingCustomer',
  'billingCustomers',
  'billingEntitlement',
  'billingEntitlements',
  'billingMeter',
  'billingMeters',
  'billingProduct',
  'billingProducts',
  'billingSubscription',
  'billingSubscriptions',
  'billingSubscriptionItem',
  'billingSubscriptionItems',
  'featureFlag',
  'featureFlags',
  'job',
  'jobs',
  'keyValuePair',
  'keyValuePairs',
  'pageLayout',
  'pageLayouts',
  'pageLayoutTab',
  'pageLayoutTabs',
  'pageLayoutWidget',
  'pageLayoutWidgets',
  'postgresCredential',
  'postgresCredentials',
  'twoFactorMethod',
  'twoFactorMethods',
  'user',
  'users',
  'userWorkspace',
  'userWorkspaces',
  'workspace',
  'workspaces',
  'role',
  'roles',
  'userWorkspaceRole',
  'userWorkspaceRoles',
  'plan',
  'plans',
  'event',
  'events',
  'field',
  'fields',
  'link',
  'links',
  'currency',
  'currencies',
  'fullNames',
  'address',
  'addresses',
  'type',
  'types',
  'object',
  'objects',
  'index',
  'relation',
  'relations',
  'aggregate',
]);

/** Twenty's name-from-label rule (camelCase of the label's words), used for inverse relation names. */
export function nameFromLabel(label: string): string {
  const words = label
    .normalize('NFD')
    .replace(/[^A-Za-z0-9 ]/g, ' ')
    .trim()
    .split(/\s+/)
    .filter((w) => w !== '');
  return words
    .map((w, i) =>
      i === 0 ? w.charAt(0).toLowerCase() + w.slice(1) : w.charAt(0).toUpperCase() + w.slice(1),
    )
    .join('');
}

/**
 * Composite field types and the sub-field Twenty's unique index covers (it indexes the primary
 * value): a unique EMAILS field is unique on `<field>.primaryEmail`.
 */
export const UNIQUE_SUBFIELD: Readonly<Record<string, string>> = {
  EMAILS: 'primaryEmail',
  LINKS: 'primaryLinkUrl',
  PHONES: 'primaryPhoneNumber',
};

/**
 * Field types that hold a value Ferry can map a source column into (and create as a custom field):
 * the mapping spec accepts these; the sandbox adds relation and system types on top.
 */
export const VALUE_FIELD_TYPES = [
  'TEXT',
  'NUMBER',
  'NUMERIC',
  'BOOLEAN',
  'DATE',
  'DATE_TIME',
  'SELECT',
  'MULTI_SELECT',
  'CURRENCY',
  'EMAILS',
  'PHONES',
  'LINKS',
  'FULL_NAME',
  'ADDRESS',
  'RATING',
  'RAW_JSON',
  'ARRAY',
  'RICH_TEXT_V2',
] as const;
export type ValueFieldType = (typeof VALUE_FIELD_TYPES)[number];
