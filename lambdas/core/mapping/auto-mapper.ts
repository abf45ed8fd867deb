import { RESERVED_METADATA_NAMES } from '../../twenty/names.ts';
import { looksLikeSsn, phiVerdict } from './phi.ts';
import type {
  CustomFieldType,
  EntitySpecInput,
  FieldSpecInput,
  MappingSpecInput,
  SourceSystem,
} from './spec.ts';
import { detectDateOrder } from './transforms/date.ts';
import { isValidEmail } from './transforms/email.ts';
import { normalizeUrl } from './transforms/links.ts';
import { boolean, parseDecimal } from './transforms/numbers.ts';
import { phones } from './transforms/phones.ts';
import { toOptionValue } from './transforms/select.ts';

/** What a column's values look like; drives the transform and the custom field type. */
export type InferredKind =
  | 'empty'
  | 'ssn'
  | 'email'
  | 'phone'
  | 'date'
  | 'dateTime'
  | 'money'
  | 'number'
  | 'boolean'
  | 'url'
  | 'select'
  | 'longText'
  | 'text';

export interface InferredColumnType {
  readonly kind: InferredKind;
  /** Share of non-blank sample values consistent with `kind` (0..1). */
  readonly confidence: number;
  /** date/dateTime: the day/month order the values prove (`ambiguous` when they cannot). */
  readonly dateOrder?: 'MDY' | 'DMY' | 'YMD' | 'ambiguous';
  /** select: the distinct values seen, in first-seen order. */
  readonly options?: readonly string[];
}

const PHONE_SHAPE = /^\+?[\d\s().-]{7,20}(?:\s*(?:x|ext\.?)\s*\d{1,6})?$/i;
const MONEY_SHAPE = /^\(?-?\s*[$€£]|^\(\d[\d,]*\.\d{2}\)$|^-?[\d,]+\.\d{2}$/;

function share(values: readonly string[], test: (v: string) => boolean): number {
  let hits = 0;
  for (const v of values) if (test(v)) hits++;
  return values.length === 0 ? 0 : hits / values.length;
}

/**
 * Infers a column's type from sample values (Inventory calls it per column). Order matters:
 * SSN-shaped values first (they must be excluded), then emails, dates, phones (before numbers:
 * a 10-digit phone parses as a number), money, booleans, numbers, URLs, small value sets
 * (SELECT), long or multi-line text (rich text), plain text.
 */
export function inferColumnType(values: readonly string[]): InferredColumnType {
  const nonBlank = values.map((v) => v.trim()).filter((v) => v !== '');
  if (nonBlank.length === 0) return { kind: 'empty', confidence: 1 };
  const ssn = share(nonBlank, looksLikeSsn);
  if (ssn >= 0.5) return { kind: 'ssn', confidence: ssn };
  const email = share(nonBlank, (v) => isValidEmail(v.toLowerCase()));
  if (email >= 0.8) return { kind: 'email', confidence: email };
  const dates = detectDateOrder(nonBlank);
  if (
    dates !== null &&
    dates.dateShare >= 0.8 &&
    !nonBlank.every((v) => /^\d{8}$/.test(v) && !/^(19|20)/.test(v))
  )
    return { kind: dates.hasTime ? 'dateTime' : 'date', confidence: dates.dateShare, dateOrder: dates.order };
  const phoneShaped = share(nonBlank, (v) => PHONE_SHAPE.test(v) && (v.match(/\d/g)?.length ?? 0) >= 10);
  if (phoneShaped >= 0.8) {
    const valid = share(nonBlank, (v) => phones([v], 'US').ok);
    if (valid >= 0.7) return { kind: 'phone', confidence: valid };
  }
  const money = share(nonBlank, (v) => MONEY_SHAPE.test(v) && typeof parseDecimal(v) === 'object');
  if (money >= 0.8) return { kind: 'money', confidence: money };
  const distinct = [...new Set(nonBlank)];
  const bool = share(nonBlank, (v) => boolean(v).ok);
  if (bool === 1 && distinct.length <= 2 && !distinct.every((v) => /^\d+$/.test(v) && v !== '0' && v !== '1'))
    return { kind: 'boolean', confidence: 1 };
  const num = share(nonBlank, (v) => /^[-+(]?[\d,.]+\)?$/.test(v) && typeof parseDecimal(v) === 'object');
  if (num >= 0.9) return { kind: 'number', confidence: num };
  const url = share(nonBlank, (v) => /^(https?:\/\/|www\.)/i.test(v) && normalizeUrl(v) !== null);
  if (url >= 0.8) return { kind: 'url', confidence: url };
  const longText = share(nonBlank, (v) => v.length > 120 || v.includes('\n'));
  if (longText >= 0.2) return { kind: 'longText', confidence: 1 };
  const maxOptions = Math.min(20, Math.max(2, Math.floor(nonBlank.length / 3)));
  if (nonBlank.length >= 6 && distinct.length <= maxOptions && distinct.every((v) => v.length <= 40))
    return { kind: 'select', confidence: 1 - distinct.length / nonBlank.length, options: distinct };
  return { kind: 'text', confidence: 1 };
}

const ABBREVIATIONS: Record<string, string> = {
  pt: 'patient',
  pat: 'patient',
  nm: 'name',
  fname: 'first name',
  lname: 'last name',
  fn: 'first name',
  ln: 'last name',
  mi: 'middle name',
  dob: 'birth date',
  bdate: 'birth date',
  birthdate: 'birth date',
  birthday: 'birth date',
  st: 'state',
  zip: 'zip',
  zipcode: 'zip',
  postcode: 'zip',
  postal: 'zip',
  cd: 'code',
  ins: 'insurance',
  addr: 'address',
  addr1: 'address 1',
  addr2: 'address 2',
  address1: 'address 1',
  address2: 'address 2',
  ph: 'phone',
  tel: 'phone',
  telephone: 'phone',
  cell: 'mobile',
  cellphone: 'mobile',
  mob: 'mobile',
  mobile: 'mobile',
  dt: 'date',
  amt: 'amount',
  bal: 'balance',
  appt: 'appointment',
  prov: 'provider',
  no: 'number',
  num: 'number',
  nbr: 'number',
  '#': 'number',
  dr: 'doctor',
  desc: 'description',
  tx: 'treatment',
  proc: 'procedure',
  org: 'organization',
  co: 'company',
  emailaddress: 'email',
  mail: 'mail',
  www: 'website',
  web: 'website',
  url: 'website',
  site: 'website',
  homepage: 'website',
  firstname: 'first name',
  lastname: 'last name',
  surname: 'last name',
  given: 'first',
  family: 'last',
  middlename: 'middle name',
  dx: 'diagnosis',
  svc: 'service',
  stat: 'status',
  yr: 'year',
  emp: 'employer',
};

/**
 * Normalizes a header into lower-case words with abbreviations expanded: "Pt First Nm" →
 * "patient first name", "E-Mail Addr" → "email address", "D.O.B." → "birth date",
 * "Mobile #" → "mobile number", "ZipCd" → "zip code".
 */
export function normalizeHeader(header: string): string {
  const spaced = header
    .replace(/#/g, ' # ')
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .replace(/([a-zA-Z])(\d)/g, '$1 $2')
    .toLowerCase()
    .replace(/[^a-z0-9#]+/g, ' ')
    .trim();
  const raw = spaced === '' ? [] : spaced.split(' ');
  const merged: string[] = [];
  let letters = '';
  for (const t of raw) {
    if (t.length === 1 && /[a-z]/.test(t)) {
      letters += t;
      continue;
    }
    if (letters !== '') merged.push(letters);
    letters = '';
    merged.push(t);
  }
  if (letters !== '') merged.push(letters);
  const joined: string[] = [];
  for (let i = 0; i < merged.length; i++) {
    const t = merged[i] ?? '';
    if (t === 'e' && merged[i + 1] === 'mail') {
      joined.push('email');
      i++;
    } else if (t === 'address' && /^[12]$/.test(merged[i + 1] ?? '')) {
      joined.push(`address ${merged[i + 1]}`);
      i++;
    } else joined.push(ABBREVIATIONS[t] ?? t);
  }
  return joined
    .join(' ')
    .replace(/\bzip code\b/, 'zip')
    .replace(/\s+/g, ' ')
    .trim();
}

/** A Twenty target a column can fill: a field (or a part of a composite) with header synonyms. */
interface Role {
  readonly field: string;
  readonly part?: string;
  readonly synonyms: readonly string[];
  readonly kinds?: readonly InferredKind[];
}

const ADDRESS_ROLES: Role[] = [
  {
    field: 'address',
    part: 'street1',
    synonyms: ['address 1', 'address', 'street', 'street address', 'address line 1', 'address street'],
  },
  { field: 'address', part: 'street2', synonyms: ['address 2', 'address line 2', 'suite', 'apt', 'unit'] },
  { field: 'address', part: 'city', synonyms: ['city', 'town', 'address city'] },
  { field: 'address', part: 'state', synonyms: ['state', 'province', 'region', 'address state'] },
  { field: 'address', part: 'postcode', synonyms: ['zip', 'postal code', 'zip code', 'address zip'] },
  { field: 'address', part: 'country', synonyms: ['country', 'address country'] },
];

const PERSON_ROLES: Role[] = [
  { field: 'name', part: 'first', synonyms: ['first name', 'first', 'given name', 'patient first name'] },
  { field: 'name', part: 'middle', synonyms: ['middle name', 'middle initial', 'middle'] },
  { field: 'name', part: 'last', synonyms: ['last name', 'last', 'family name', 'patient last name'] },
  {
    field: 'name',
    part: 'full',
    synonyms: ['name', 'full name', 'patient name', 'contact name', 'provider name'],
  },
  {
    field: 'emails',
    synonyms: ['email', 'email address', 'patient email', 'contact email'],
    kinds: ['email'],
  },
  {
    field: 'phones',
    synonyms: [
      'mobile',
      'mobile phone',
      'mobile number',
      'phone',
      'phone number',
      'home phone',
      'work phone',
      'primary phone',
      'contact phone',
      'patient phone',
    ],
    kinds: ['phone', 'number'],
  },
  { field: 'jobTitle', synonyms: ['job title', 'title', 'occupation', 'position'] },
  ...ADDRESS_ROLES,
];

const TARGET_ROLES: Record<string, Role[]> = {
  person: PERSON_ROLES,
  company: [
    {
      field: 'name',
      synonyms: ['name', 'practice name', 'organization name', 'company name', 'clinic name', 'office name'],
    },
    {
      field: 'domainName',
      synonyms: ['website', 'website address', 'domain', 'domain name'],
      kinds: ['url', 'text'],
    },
    ...ADDRESS_ROLES,
  ],
  task: [
    { field: 'title', synonyms: ['subject', 'title', 'appointment type', 'type', 'reason'] },
    {
      field: 'dueAt',
      synonyms: ['date', 'appointment date', 'due date', 'start', 'start time', 'scheduled', 'date time'],
      kinds: ['date', 'dateTime'],
    },
    { field: 'bodyV2', synonyms: ['notes', 'note', 'description', 'comments', 'body', 'content'] },
    {
      field: 'status',
      synonyms: ['status', 'appointment status', 'task status', 'visit status', 'appointment state'],
    },
  ],
  note: [
    { field: 'title', synonyms: ['subject', 'title', 'note type', 'type'] },
    { field: 'bodyV2', synonyms: ['note', 'notes', 'body', 'text', 'content', 'note text', 'comments'] },
  ],
  opportunity: [
    { field: 'name', synonyms: ['name', 'case name', 'title', 'case type', 'description'] },
    {
      field: 'amount',
      synonyms: ['amount', 'billing amount', 'expected reimbursement', 'value', 'fee'],
      kinds: ['money', 'number'],
    },
    { field: 'closeDate', synonyms: ['close date', 'closed date', 'end date'], kinds: ['date', 'dateTime'] },
    { field: 'stage', synonyms: ['status', 'stage', 'case status'] },
  ],
};

interface EntityRule {
  readonly entity: string;
  readonly target: string;
  readonly stems: readonly string[];
  readonly idWords: readonly string[];
}

const ENTITY_RULES: EntityRule[] = [
  {
    entity: 'patients',
    target: 'person',
    stems: ['patient', 'contact', 'people', 'person', 'client'],
    idWords: ['patient', 'contact', 'client', 'chart', 'account'],
  },
  {
    entity: 'practices',
    target: 'company',
    stems: ['practice', 'organization', 'organisation', 'company', 'clinic', 'office', 'location'],
    idWords: ['practice', 'organization', 'company', 'clinic', 'office', 'location'],
  },
  {
    entity: 'providers',
    target: 'person',
    stems: ['provider', 'staff', 'doctor', 'dentist', 'hygienist'],
    idWords: ['provider', 'staff', 'doctor'],
  },
  {
    entity: 'appointments',
    target: 'task',
    stems: ['appointment', 'appt', 'visit', 'schedule'],
    idWords: ['appointment', 'visit'],
  },
  { entity: 'notes', target: 'note', stems: ['note', 'clinical'], idWords: ['note'] },
  {
    entity: 'cases',
    target: 'opportunity',
    stems: ['case', 'encounter', 'opportunit'],
    idWords: ['case', 'encounter'],
  },
];

/**
 * Twenty's standard fields per object, union of the v1 and v2 standard models (TWENTY-API.md),
 * with their types. The auto-mapper proposes a mapping before it sees the workspace, so it must
 * know which names are taken and by what type: a custom field named like a standard field of
 * another type (task `status` as TEXT) makes ApplySchema stop with a SchemaConflictError.
 */
export const STANDARD_FIELDS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  person: {
    name: 'FULL_NAME',
    emails: 'EMAILS',
    phones: 'PHONES',
    jobTitle: 'TEXT',
    linkedinLink: 'LINKS',
    xLink: 'LINKS',
    city: 'TEXT',
    avatarUrl: 'TEXT',
    avatarFile: 'FILES',
    company: 'RELATION',
    pointOfContactForOpportunities: 'RELATION',
  },
  company: {
    name: 'TEXT',
    domainName: 'LINKS',
    address: 'ADDRESS',
    linkedinLink: 'LINKS',
    xLink: 'LINKS',
    employees: 'NUMBER',
    annualRecurringRevenue: 'CURRENCY',
    annualRevenue: 'CURRENCY',
    idealCustomerProfile: 'BOOLEAN',
    accountOwner: 'RELATION',
    people: 'RELATION',
    opportunities: 'RELATION',
  },
  opportunity: {
    name: 'TEXT',
    amount: 'CURRENCY',
    closeDate: 'DATE_TIME',
    stage: 'SELECT',
    pointOfContact: 'RELATION',
    company: 'RELATION',
    owner: 'RELATION',
  },
  task: {
    title: 'TEXT',
    bodyV2: 'RICH_TEXT_V2',
    dueAt: 'DATE_TIME',
    status: 'SELECT',
    assignee: 'RELATION',
    taskTargets: 'RELATION',
  },
  note: { title: 'TEXT', bodyV2: 'RICH_TEXT_V2', noteTargets: 'RELATION' },
};

/** Inverse relations Twenty gives every activity-target object; a custom field may not take them. */
const COMMON_RELATIONS = ['attachments', 'noteTargets', 'taskTargets', 'timelineActivities', 'favorites'];

/** The transforms whose output a standard field of each type accepts. */
const TRANSFORMS_FOR_TYPE: Readonly<Record<string, readonly string[]>> = {
  TEXT: ['text', 'usState', 'zip'],
  FULL_NAME: ['fullName'],
  EMAILS: ['email'],
  PHONES: ['phones'],
  LINKS: ['links'],
  ADDRESS: ['address'],
  DATE_TIME: ['dateTime'],
  DATE: ['date'],
  CURRENCY: ['money'],
  NUMBER: ['number'],
  BOOLEAN: ['boolean'],
  RICH_TEXT_V2: ['richText'],
  SELECT: ['select'],
};

/** The type a standard field of `target` has (either flavor), or undefined when it has none. */
export function standardTypeOf(target: string, field: string): string | undefined {
  const own = STANDARD_FIELDS[target]?.[field];
  if (own !== undefined) return own;
  return target in STANDARD_FIELDS && COMMON_RELATIONS.includes(field) ? 'RELATION' : undefined;
}

/**
 * A standard SELECT's fixed options, its default and source-value synonyms. Twenty does not let
 * standard options change, so every sampled value must land on one of these (or the default).
 */
interface StandardSelect {
  readonly default: string;
  /** option value → normalized source values that mean it (the option's own words included). */
  readonly synonyms: Readonly<Record<string, readonly string[]>>;
}

export const STANDARD_SELECTS: Readonly<Record<string, StandardSelect>> = {
  'task.status': {
    default: 'TODO',
    synonyms: {
      TODO: [
        'todo',
        'to do',
        'scheduled',
        'open',
        'pending',
        'booked',
        'confirmed',
        'unconfirmed',
        'planned',
      ],
      IN_PROGRESS: ['in progress', 'checked in', 'arrived', 'in chair', 'seated', 'started', 'ongoing'],
      DONE: ['done', 'completed', 'complete', 'closed', 'finished', 'attended', 'checked out'],
    },
  },
  'opportunity.stage': {
    default: 'NEW',
    synonyms: {
      NEW: ['new', 'open', 'lead', 'created', 'inquiry', 'referred'],
      SCREENING: ['screening', 'review', 'in review', 'under review', 'pending', 'submitted', 'evaluation'],
      MEETING: ['meeting', 'consult', 'consultation', 'scheduled', 'in progress', 'active'],
      PROPOSAL: ['proposal', 'proposed', 'quoted', 'quote', 'estimate', 'presented', 'treatment planned'],
      CUSTOMER: [
        'customer',
        'won',
        'closed won',
        'accepted',
        'completed',
        'complete',
        'done',
        'paid',
        'signed',
      ],
    },
  },
};

function valueWords(value: string): string {
  return value
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, ' ')
    .trim();
}

/** A value map the auto-mapper guessed for a SELECT column (reported for review). */
export interface ProposedValueMap {
  readonly entity: string;
  readonly field: string;
  readonly column: string;
  /** `standard`: onto the fixed options of a standard SELECT; `custom`: a custom SELECT instead. */
  readonly target: 'standard' | 'custom';
  /** Sampled source value → option value. */
  readonly mapped: Readonly<Record<string, string>>;
  /** Sampled values no synonym matched: they take `default` (standard) or become options (custom). */
  readonly unmatched: readonly string[];
  readonly default?: string;
}

/**
 * Maps sampled values onto a standard SELECT's options by synonym. Null when the column does not
 * look like that status at all (nothing matched, or under half of the sampled rows would), so the
 * caller maps it to a custom SELECT instead of forcing every value onto the default.
 */
function guessValueMap(
  column: readonly string[],
  select: StandardSelect,
): { mapped: Record<string, string>; unmatched: string[]; exact: boolean; rowShare: number } | null {
  const byWords = new Map<string, string>();
  for (const [option, words] of Object.entries(select.synonyms)) {
    byWords.set(valueWords(option), option);
    for (const w of words) byWords.set(w, option);
  }
  const nonBlank = column.map((v) => v.trim()).filter((v) => v !== '');
  const mapped: Record<string, string> = {};
  const unmatched: string[] = [];
  let exact = true;
  for (const value of new Set(nonBlank)) {
    const option = byWords.get(valueWords(value));
    if (option === undefined) unmatched.push(value);
    else {
      mapped[value] = option;
      if (valueWords(value) !== valueWords(option)) exact = false;
    }
  }
  const rowShare = share(nonBlank, (v) => mapped[v] !== undefined);
  if (Object.keys(mapped).length === 0 || rowShare < 0.5) return null;
  return { mapped, unmatched, exact: exact && unmatched.length === 0, rowShare };
}

/** Distinct non-blank values of a column, first-seen order; null when too many for a SELECT. */
function selectOptionsOf(column: readonly string[]): string[] | null {
  const distinct = [...new Set(column.map((v) => v.trim()).filter((v) => v !== ''))];
  return distinct.length > 0 && distinct.length <= 20 && distinct.every((v) => v.length <= 40)
    ? distinct
    : null;
}

/** The rule an entity was detected by; a second file of one kind (`appointments2`) shares it. */
function ruleOf(entity: string): EntityRule | undefined {
  const base = entity.replace(/\d+$/, '');
  return ENTITY_RULES.find((r) => r.entity === base);
}

/** Names a proposed custom field must avoid: Twenty's reserved names and every object's system fields. */
const RESERVED: ReadonlySet<string> = new Set([
  ...RESERVED_METADATA_NAMES,
  'id',
  'name',
  'position',
  'createdAt',
  'updatedAt',
  'deletedAt',
  'createdBy',
  'updatedBy',
  'searchVector',
]);

function camel(words: readonly string[]): string {
  const clean = words.filter((w) => /^[a-z0-9]+$/.test(w));
  const s = clean.map((w, i) => (i === 0 ? w : w.charAt(0).toUpperCase() + w.slice(1))).join('');
  const named = /^[a-z]/.test(s) ? s : `field${s.charAt(0).toUpperCase()}${s.slice(1)}`;
  return named.slice(0, 63);
}

function singular(word: string): string {
  if (word.endsWith('ies')) return `${word.slice(0, -3)}y`;
  if (word.endsWith('ses')) return word.slice(0, -2);
  return word.endsWith('s') ? word.slice(0, -1) : word;
}

function titleCase(words: readonly string[]): string {
  const s = words.join(' ');
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function similarity(normalized: string, synonym: string): number {
  if (normalized === synonym) return 1;
  const a = new Set(normalized.split(' '));
  const b = synonym.split(' ');
  const common = b.filter((t) => a.has(t)).length;
  if (common === b.length) return 0.85 - 0.05 * (a.size - b.length);
  return common === 0 ? 0 : (0.6 * common) / Math.max(a.size, b.length);
}

/** A column Ferry does not map onto a standard field: it becomes a custom field, never dropped. */
export interface UnmappedColumn {
  readonly file: string;
  readonly column: string;
  readonly inferredType: InferredKind;
  readonly proposedCustomField: {
    readonly name: string;
    readonly type: CustomFieldType;
    readonly label: string;
  } | null;
}

/** A column the PHI policy excludes (SSN by name or by value shape), reported to the operator. */
export interface ExcludedColumn {
  readonly file: string;
  readonly column: string;
  readonly rule: string;
}

export interface SampledFile {
  /** File name without extension, e.g. 'patients' or 'PtDemographics_2024'. */
  readonly stem: string;
  readonly header: readonly string[];
  /** Sample rows, cells in header order. */
  readonly sample: readonly (readonly string[])[];
}

/** Optional knowledge from a detected profile: the source system and entity name per file stem. */
export interface ProfileHints {
  readonly source?: SourceSystem;
  readonly entityByStem?: Readonly<Record<string, { entity: string; target: string }>>;
  readonly defaultCountry?: string;
}

export interface ProposedMapping {
  readonly spec: MappingSpecInput;
  /** entity → column → 0..1 (1 = exact synonym with matching values). */
  readonly confidence: Record<string, Record<string, number>>;
  readonly unmapped: UnmappedColumn[];
  readonly excluded: ExcludedColumn[];
  /** SELECT value maps the auto-mapper guessed (standard status/stage, or the custom fallback). */
  readonly valueMaps: ProposedValueMap[];
}

function detectEntity(
  file: SampledFile,
  hints?: ProfileHints,
): { entity: string; target: string; custom: boolean } {
  const hinted = hints?.entityByStem?.[file.stem];
  if (hinted !== undefined) return { ...hinted, custom: !(hinted.target in TARGET_ROLES) };
  const stem = normalizeHeader(file.stem);
  for (const rule of ENTITY_RULES)
    if (rule.stems.some((s) => stem.includes(s)))
      return { entity: rule.entity, target: rule.target, custom: false };
  const headers = file.header.map(normalizeHeader);
  if (headers.some((h) => h.includes('first name')) && headers.some((h) => h.includes('last name')))
    return { entity: 'patients', target: 'person', custom: false };
  const words = stem.split(' ').filter((w) => /^[a-z]/.test(w));
  const entity = camel(words.length > 0 ? words : ['records']);
  const target = camel([...words.slice(0, -1), singular(words[words.length - 1] ?? 'record')]);
  // A file named after a standard object ("tasks.csv") loads into it, not into a same-named custom one.
  return { entity, target, custom: !(target in TARGET_ROLES) };
}

function transformFor(kind: InferredKind): { transform: FieldSpecInput['transform']; type: CustomFieldType } {
  switch (kind) {
    case 'email':
      return { transform: 'email', type: 'EMAILS' };
    case 'phone':
      return { transform: 'phones', type: 'PHONES' };
    case 'date':
      return { transform: 'date', type: 'DATE' };
    case 'dateTime':
      return { transform: 'dateTime', type: 'DATE_TIME' };
    case 'money':
      return { transform: 'money', type: 'CURRENCY' };
    case 'number':
      return { transform: 'number', type: 'NUMBER' };
    case 'boolean':
      return { transform: 'boolean', type: 'BOOLEAN' };
    case 'url':
      return { transform: 'links', type: 'LINKS' };
    case 'select':
      return { transform: 'select', type: 'SELECT' };
    case 'longText':
      return { transform: 'richText', type: 'RICH_TEXT_V2' };
    default:
      return { transform: 'text', type: 'TEXT' };
  }
}

/** The custom field type that holds what a transform produces (for standard fields moved to custom). */
const CUSTOM_TYPE_OF_TRANSFORM: Readonly<Record<NonNullable<FieldSpecInput['transform']>, CustomFieldType>> =
  {
    text: 'TEXT',
    fullName: 'FULL_NAME',
    email: 'EMAILS',
    phones: 'PHONES',
    date: 'DATE',
    dateTime: 'DATE_TIME',
    money: 'CURRENCY',
    number: 'NUMBER',
    boolean: 'BOOLEAN',
    usState: 'TEXT',
    zip: 'TEXT',
    select: 'SELECT',
    multiSelect: 'MULTI_SELECT',
    richText: 'RICH_TEXT_V2',
    links: 'LINKS',
    address: 'ADDRESS',
  };

function dateOrderOf(t: InferredColumnType): FieldSpecInput['dateOrder'] {
  return t.dateOrder === undefined || t.dateOrder === 'ambiguous' ? 'auto' : t.dateOrder;
}

/**
 * Proposes a mapping for files Ferry has no profile for: detects each file's entity from its name
 * (or header), matches normalized headers against synonyms of the target's fields, checks the
 * values agree, links `<entity> id` columns to the entity they name, and turns every other column
 * into a custom field of its inferred type. SSN-like columns are excluded and reported.
 */
export function proposeMapping(files: readonly SampledFile[], profileHints?: ProfileHints): ProposedMapping {
  const detected = files.map((f) => ({ file: f, ...detectEntity(f, profileHints) }));
  const entityNames = new Set<string>();
  for (const d of detected) {
    let name = d.entity;
    for (let i = 2; entityNames.has(name); i++) name = `${d.entity}${i}`;
    entityNames.add(name);
    d.entity = name;
  }
  const entities: Record<string, EntitySpecInput> = {};
  const confidence: Record<string, Record<string, number>> = {};
  const unmapped: UnmappedColumn[] = [];
  const excluded: ExcludedColumn[] = [];
  const valueMaps: ProposedValueMap[] = [];
  const customObjects: NonNullable<MappingSpecInput['customObjects']> = [];

  for (const d of detected) {
    const { file, entity, target } = d;
    const conf: Record<string, number> = {};
    confidence[entity] = conf;
    const normalized = file.header.map(normalizeHeader);
    const columnValues = (i: number): string[] => file.sample.map((row) => row[i] ?? '');
    const types = file.header.map((_, i) => inferColumnType(columnValues(i)));
    const used = new Set<number>();
    /** Columns a standard SELECT could not take: they become custom SELECT fields. */
    const forceSelect = new Set<number>();

    file.header.forEach((column, i) => {
      const verdict = phiVerdict(column);
      if (verdict !== 'allowed' || types[i]?.kind === 'ssn') {
        excluded.push({
          file: file.stem,
          column,
          rule: verdict !== 'allowed' ? 'SSN column name' : 'SSN-shaped values',
        });
        used.add(i);
      }
    });

    // Source id column: "<entity word> id/number", else "id", else the first all-unique column.
    const rule = ruleOf(entity);
    const ownWords = rule?.idWords ?? [singular(entity.toLowerCase())];
    const isReference = (h: string): boolean =>
      detected.some(
        (other) =>
          other.entity !== entity &&
          (ruleOf(other.entity)?.idWords ?? [singular(other.entity.toLowerCase())]).some(
            (w) => h === `${w} id` || h === `${w} number`,
          ),
      );
    let idConfidence = 1;
    let idIndex = normalized.findIndex(
      (h, i) => !used.has(i) && ownWords.some((w) => h === `${w} id` || h === `${w} number`),
    );
    if (idIndex < 0)
      idIndex = normalized.findIndex(
        (h, i) => !used.has(i) && (h === 'id' || h === 'record id' || h === 'key'),
      );
    if (idIndex < 0) {
      // No id column: propose the first all-unique, non-reference column, flagged for review.
      idConfidence = 0.3;
      idIndex = file.header.findIndex((_, i) => {
        if (used.has(i) || isReference(normalized[i] ?? '')) return false;
        const vals = file.sample.map((r) => (r[i] ?? '').trim());
        return vals.every((v) => v !== '') && new Set(vals).size === vals.length;
      });
    }
    if (idIndex < 0) idConfidence = 0;
    const idColumn = file.header[Math.max(idIndex, 0)] ?? 'id';
    used.add(Math.max(idIndex, 0));
    conf[idColumn] = idConfidence;

    // References to other entities: "<other entity word> id".
    const relations: NonNullable<EntitySpecInput['relations']> = {};
    const targets: NonNullable<EntitySpecInput['targets']> = [];
    normalized.forEach((h, i) => {
      if (used.has(i)) return;
      for (const other of detected) {
        if (other.entity === entity) continue;
        const words = ruleOf(other.entity)?.idWords ?? [singular(other.entity.toLowerCase())];
        if (!words.some((w) => h === `${w} id` || h === `${w} number`)) continue;
        const column = file.header[i] ?? '';
        used.add(i);
        conf[column] = 0.9;
        if (target === 'task' || target === 'note' || target === 'attachment')
          targets.push({ entity: other.entity, from: column });
        else {
          const joinTarget =
            other.target === 'company'
              ? 'company'
              : other.target === 'person' && target === 'opportunity'
                ? 'pointOfContact'
                : other.target;
          const standard =
            (other.target === 'company' && (target === 'person' || target === 'opportunity')) ||
            joinTarget === 'pointOfContact';
          relations[joinTarget] = {
            entity: other.entity,
            from: column,
            joinColumn: `${joinTarget}Id`,
            onMissing: 'null',
            ...(standard
              ? {}
              : { custom: { label: titleCase([other.target]), targetFieldLabel: titleCase([entity]) } }),
          };
        }
        return;
      }
    });

    // Standard fields by synonym, best score first, one column per role (phones take several).
    const roles = TARGET_ROLES[target] ?? [];
    const candidates: Array<{ i: number; role: Role; score: number }> = [];
    normalized.forEach((h, i) => {
      if (used.has(i)) return;
      for (const role of roles) {
        let score = Math.max(...role.synonyms.map((s) => similarity(h, s)));
        const kind = types[i]?.kind ?? 'text';
        // Values that contradict a typed standard field (a "Phone" of 7-digit local numbers, a "Date"
        // of free text) would reject every row there: even an exact header then falls below the
        // threshold and the column is kept as a custom field of its inferred type instead.
        if (role.kinds !== undefined && kind !== 'empty' && !role.kinds.includes(kind)) score *= 0.4;
        if (score >= 0.5) candidates.push({ i, role, score });
      }
    });
    candidates.sort((a, b) => b.score - a.score || a.i - b.i);
    const taken = new Map<string, Array<{ i: number; score: number }>>();
    for (const c of candidates) {
      if (used.has(c.i)) continue;
      const key = `${c.role.field}.${c.role.part ?? ''}`;
      const list = taken.get(key) ?? [];
      if (list.length > 0 && c.role.field !== 'phones') continue;
      list.push({ i: c.i, score: c.score });
      taken.set(key, list);
      used.add(c.i);
      conf[file.header[c.i] ?? ''] = Number(c.score.toFixed(2));
    }
    const col = (key: string): string | undefined => {
      const hit = taken.get(key)?.[0];
      return hit === undefined ? undefined : file.header[hit.i];
    };
    const fields: Record<string, FieldSpecInput> = {};
    const first = col('name.first');
    const middle = col('name.middle');
    const last = col('name.last');
    const full = col('name.full');
    if (first !== undefined || last !== undefined) {
      const parts = [first, middle, last].filter((c): c is string => c !== undefined);
      fields.name = { from: parts, transform: 'fullName' };
      if (full !== undefined) {
        taken.delete('name.full');
        used.delete(file.header.indexOf(full));
        delete conf[full];
      }
    } else if (full !== undefined)
      fields.name = { from: full, transform: target === 'person' ? 'fullName' : 'text' };
    const addressFrom: Record<string, string> = {};
    for (const part of ['street1', 'street2', 'city', 'state', 'postcode', 'country']) {
      const c = col(`address.${part}`);
      if (c !== undefined) addressFrom[part] = c;
    }
    if (Object.keys(addressFrom).length > 0) {
      // Only companies have a standard address; `address` is reserved, so people get homeAddress.
      if (standardTypeOf(target, 'address') === 'ADDRESS')
        fields.address = { from: addressFrom, transform: 'address' };
      else
        fields.homeAddress = {
          from: addressFrom,
          transform: 'address',
          custom: { type: 'ADDRESS', label: 'Address' },
        };
    }
    for (const role of roles) {
      if (role.part !== undefined || fields[role.field] !== undefined) continue;
      const hits = taken.get(`${role.field}.`);
      if (hits === undefined) continue;
      const columns = hits.map((h) => file.header[h.i] ?? '');
      const t = types[hits[0]?.i ?? 0];
      switch (role.field) {
        case 'emails':
          fields.emails = { from: columns.length === 1 ? (columns[0] ?? '') : columns, transform: 'email' };
          break;
        case 'phones':
          fields.phones = { from: columns, transform: 'phones' };
          break;
        case 'dueAt':
        case 'closeDate':
          fields[role.field] = {
            from: columns[0] ?? '',
            transform: 'dateTime',
            dateOrder: t ? dateOrderOf(t) : 'auto',
          };
          break;
        case 'amount':
          fields.amount = { from: columns[0] ?? '', transform: 'money' };
          break;
        case 'bodyV2':
          fields.bodyV2 = { from: columns[0] ?? '', transform: 'richText' };
          break;
        case 'domainName':
          fields.domainName = { from: columns[0] ?? '', transform: 'links' };
          break;
        case 'status':
        case 'stage': {
          const i = hits[0]?.i ?? 0;
          const column = columns[0] ?? '';
          const standard = STANDARD_SELECTS[`${target}.${role.field}`];
          const guess = standard === undefined ? null : guessValueMap(columnValues(i), standard);
          if (standard === undefined || guess === null) {
            // The values are not this status: keep them as a custom SELECT (own options) instead.
            used.delete(i);
            delete conf[column];
            forceSelect.add(i);
            break;
          }
          fields[role.field] = {
            from: column,
            transform: 'select',
            valueMap: guess.mapped,
            unmapped: 'default',
            default: standard.default,
          };
          // A guessed value map needs review: confidence drops with the share of rows it had to guess.
          const score = hits[0]?.score ?? 0;
          conf[column] = Number((guess.exact ? score : score * 0.8 * guess.rowShare).toFixed(2));
          valueMaps.push({
            entity,
            field: role.field,
            column,
            target: 'standard',
            mapped: guess.mapped,
            unmatched: guess.unmatched,
            default: standard.default,
          });
          break;
        }
        default:
          fields[role.field] = { from: columns[0] ?? '', transform: 'text' };
      }
    }

    // Standard fields whose transform the field's type would not take (or that this object lacks)
    // become custom fields, so the proposal never asks Twenty for what it cannot hold.
    const entityWord = ownWords[0] ?? singular(entity.toLowerCase());
    /** A custom field name free on `target` in both flavors: not reserved, not a standard field of another type. */
    const freeName = (base: readonly string[], type: CustomFieldType): string => {
      const fits = (n: string): boolean => {
        if (RESERVED.has(n) || fields[n] !== undefined) return false;
        const standardType = standardTypeOf(target, n);
        return standardType === undefined || (standardType === type && !/SELECT|RELATION/.test(type));
      };
      for (const n of [camel(base), camel([entityWord, ...base]), camel(['source', ...base])])
        if (fits(n)) return n;
      let n = 2;
      while (!fits(`${camel(base)}${n}`)) n++;
      return `${camel(base)}${n}`;
    };
    if (!d.custom)
      for (const [name, field] of Object.entries(fields)) {
        if (field.custom !== undefined || field.transform === undefined) continue;
        const standardType = standardTypeOf(target, name);
        if (standardType !== undefined && TRANSFORMS_FOR_TYPE[standardType]?.includes(field.transform))
          continue;
        const type = CUSTOM_TYPE_OF_TRANSFORM[field.transform];
        delete fields[name];
        fields[freeName([name], type)] = { ...field, custom: { type, label: titleCase([name]) } };
      }

    // Everything else: a custom field of the inferred type, never dropped silently.
    const ownWordSet = new Set([...ownWords, 'patient']);
    file.header.forEach((column, i) => {
      if (used.has(i)) return;
      const inferred = types[i] ?? { kind: 'text' as const, confidence: 1 };
      const forcedOptions = forceSelect.has(i) ? selectOptionsOf(columnValues(i)) : null;
      const t: InferredColumnType =
        forcedOptions === null
          ? inferred
          : { kind: 'select', confidence: inferred.confidence, options: forcedOptions };
      const words = (normalized[i] ?? '').split(' ').filter((w) => w !== '#');
      const trimmed = words.length > 1 && ownWordSet.has(words[0] ?? '') ? words.slice(1) : words;
      const { transform, type } = transformFor(t.kind === 'empty' ? 'text' : t.kind);
      const name = freeName(trimmed.length > 0 ? trimmed : ['column', String(i + 1)], type);
      const label = titleCase(trimmed.length > 0 ? trimmed : [column]);
      const field: FieldSpecInput = { from: column, transform, custom: { type, label } };
      if (t.kind === 'date' || t.kind === 'dateTime') field.dateOrder = dateOrderOf(t);
      if (t.kind === 'date' && (normalized[i] ?? '').includes('birth')) field.validate = 'birthDate';
      if (t.kind === 'select' && t.options !== undefined) {
        field.valueMap = Object.fromEntries(t.options.map((v) => [v, toOptionValue(v)]));
        if (forceSelect.has(i))
          valueMaps.push({
            entity,
            field: name,
            column,
            target: 'custom',
            mapped: field.valueMap,
            unmatched: [],
          });
        field.unmapped = 'addOption';
        field.custom = {
          type,
          label,
          options: [...new Map(t.options.map((v) => [toOptionValue(v), v])).entries()].map(([value, l]) => ({
            value,
            label: l,
          })),
        };
      }
      fields[name] = field;
      conf[column] = Number((0.5 * t.confidence).toFixed(2));
      unmapped.push({
        file: file.stem,
        column,
        inferredType: t.kind,
        proposedCustomField: { name, type, label },
      });
    });

    entities[entity] = { files: [`${file.stem}.csv`], target, idColumn, fields, relations, targets };
    if (d.custom)
      customObjects.push({
        nameSingular: target,
        namePlural: entity === target ? `${target}s` : entity,
        labelSingular: titleCase(normalizeHeader(target).split(' ')),
        labelPlural: titleCase(normalizeHeader(entity).split(' ')),
      });
  }

  const spec: MappingSpecInput = {
    version: 1,
    source: profileHints?.source ?? 'generic',
    options: { defaultCountry: profileHints?.defaultCountry ?? 'US' },
    entities,
    customObjects,
  };
  return { spec, confidence, unmapped, excluded, valueMaps };
}
