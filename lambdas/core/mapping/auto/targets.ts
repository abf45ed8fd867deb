/** Twenty's side of the auto-mapper: the standard fields a column can fill, their synonyms, types and fixed SELECT options. */

import { RESERVED_METADATA_NAMES } from '../../../ports/twenty-names.ts';
import type { CustomFieldType, FieldSpecInput } from '../spec.ts';
import { type InferredColumnType, type InferredKind, share } from './infer.ts';

/** A Twenty target a column can fill: a field (or a part of a composite) with header synonyms. */
export interface Role {
  readonly field: string;
  readonly part?: string;
  readonly synonyms: readonly string[];
  readonly kinds?: readonly InferredKind[];
}

export const ADDRESS_ROLES: Role[] = [
  {
    field: 'address',
    part: 'street1',
    synonyms: [
      'address 1',
      'address',
      'street',
      'street address',
      'address line 1',
      'address street',
      'street 1',
    ],
  },
  {
    field: 'address',
    part: 'street2',
    synonyms: ['address 2', 'address line 2', 'suite', 'apartment', 'unit', 'street 2'],
  },
  { field: 'address', part: 'city', synonyms: ['city', 'town', 'address city'] },
  { field: 'address', part: 'state', synonyms: ['state', 'province', 'region', 'address state'] },
  { field: 'address', part: 'postcode', synonyms: ['zip', 'postal code', 'zip code', 'address zip'] },
  { field: 'address', part: 'country', synonyms: ['country', 'address country'] },
];

export const PERSON_ROLES: Role[] = [
  { field: 'name', part: 'first', synonyms: ['first name', 'given name', 'patient first name', 'first'] },
  { field: 'name', part: 'middle', synonyms: ['middle name', 'middle initial'] },
  { field: 'name', part: 'last', synonyms: ['last name', 'family name', 'patient last name', 'last'] },
  {
    field: 'name',
    part: 'full',
    synonyms: [
      'name',
      'full name',
      'patient name',
      'patient full name',
      'contact name',
      'provider name',
      'doctor name',
      'staff name',
      'patient',
    ],
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
  { field: 'jobTitle', synonyms: ['job title', 'title', 'occupation'] },
  ...ADDRESS_ROLES,
];

export const TARGET_ROLES: Record<string, Role[]> = {
  person: PERSON_ROLES,
  company: [
    {
      field: 'name',
      synonyms: [
        'name',
        'practice name',
        'organization name',
        'company name',
        'clinic name',
        'office name',
        'carrier name',
        'insurance company name',
        'facility name',
        'department name',
        'location name',
        'service location name',
      ],
    },
    {
      field: 'phones',
      synonyms: ['phone', 'phone number', 'office phone', 'main phone', 'department phone', 'telephone'],
      kinds: ['phone', 'number'],
    },
    {
      field: 'domainName',
      synonyms: ['website', 'website address', 'domain', 'domain name'],
      kinds: ['url', 'text'],
    },
    ...ADDRESS_ROLES,
  ],
  task: [
    {
      field: 'title',
      synonyms: [
        'subject',
        'title',
        'appointment type',
        'type',
        'reason',
        'appointment reason',
        'what for',
        'campaign',
      ],
    },
    {
      field: 'dueAt',
      synonyms: [
        'date',
        'appointment date',
        'due date',
        'start',
        'start time',
        'scheduled',
        'date time',
        'appointment date time',
        'appointment start date time',
        'start date time',
        'sent',
        'sent at',
        'sent date',
        'date sent',
        'sent on',
        'called on',
        'communication date time',
      ],
      kinds: ['date', 'dateTime'],
    },
    {
      field: 'bodyV2',
      synonyms: [
        'notes',
        'note',
        'description',
        'comments',
        'body',
        'content',
        'message',
        'message body',
        'message text',
        'appointment note',
      ],
      kinds: ['longText', 'text', 'select'],
    },
    {
      field: 'status',
      synonyms: [
        'status',
        'appointment status',
        'task status',
        'visit status',
        'appointment state',
        'delivery status',
        'result',
        'outcome',
      ],
    },
  ],
  note: [
    { field: 'title', synonyms: ['subject', 'title', 'note type', 'type', 'note section', 'section'] },
    {
      field: 'bodyV2',
      synonyms: [
        'note',
        'notes',
        'body',
        'text',
        'content',
        'note text',
        'comments',
        'clinical note',
        'chart note',
      ],
      kinds: ['longText', 'text'],
    },
  ],
  opportunity: [
    {
      field: 'name',
      synonyms: [
        'name',
        'case name',
        'case description',
        'title',
        'case type',
        'description',
        'plan name',
        'plan description',
      ],
    },
    {
      field: 'amount',
      synonyms: [
        'amount',
        'billing amount',
        'billed amount',
        'expected reimbursement',
        'value',
        'fee',
        'total fee',
        'total',
        'total amount',
      ],
      kinds: ['money', 'number'],
    },
    {
      field: 'closeDate',
      synonyms: [
        'close date',
        'closed date',
        'end date',
        'date accepted',
        'accept date',
        'accepted date',
        'paid date',
      ],
      kinds: ['date', 'dateTime'],
    },
    { field: 'stage', synonyms: ['status', 'stage', 'case status', 'plan status', 'claim status'] },
  ],
};

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
export const COMMON_RELATIONS = [
  'attachments',
  'noteTargets',
  'taskTargets',
  'timelineActivities',
  'favorites',
];

/** The transforms whose output a standard field of each type accepts. */
export const TRANSFORMS_FOR_TYPE: Readonly<Record<string, readonly string[]>> = {
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
export interface StandardSelect {
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
      DONE: [
        'done',
        'completed',
        'complete',
        'closed',
        'finished',
        'attended',
        'checked out',
        // over without taking place: nothing left to do on the task
        'cancelled',
        'canceled',
        'no show',
        'broken',
        'missed',
      ],
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

export function valueWords(value: string): string {
  return value
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, ' ')
    .trim();
}

/**
 * A communication's delivery outcome read as the task's status: a message or call still to go out is
 * TODO, one going out IN_PROGRESS, and every outcome of an attempt made — delivered, failed, bounced,
 * no answer — DONE (the log records something that happened; an outcome the sample did not show is
 * DONE too). The exact outcome is kept beside it as a custom SELECT named after its column.
 */
export const DELIVERY_STATUS: StandardSelect = {
  default: 'DONE',
  synonyms: {
    TODO: [
      'queued',
      'pending',
      'scheduled',
      'not sent',
      'unsent',
      'draft',
      'due',
      'overdue',
      'waiting',
      'to send',
    ],
    IN_PROGRESS: ['sending', 'in progress', 'retrying'],
    DONE: [
      'delivered',
      'sent',
      'failed',
      'bounced',
      'opened',
      'read',
      'replied',
      'clicked',
      'undeliverable',
      'undelivered',
      'no answer',
      'no ans',
      'left message',
      'left msg',
      'left voicemail',
      'voicemail',
      'busy',
      'wrong number',
      'wrong',
      'mailed',
      'emailed',
      'called',
      'contacted',
      'confirmed',
      'completed',
      'done',
      'answered',
      'reached',
      'unsubscribed',
      'opted out',
      'rejected',
      'error',
    ],
  },
};

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
export function guessValueMap(
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
    // "3 - Checked Out", "x - Cancelled": a short status code before its label; the label decides.
    const label = /^\s*[A-Za-z0-9]{1,3}\s+-\s+(\S.*)$/.exec(value)?.[1];
    const option =
      byWords.get(valueWords(value)) ?? (label === undefined ? undefined : byWords.get(valueWords(label)));
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
export function selectOptionsOf(column: readonly string[]): string[] | null {
  const distinct = [...new Set(column.map((v) => v.trim()).filter((v) => v !== ''))];
  return distinct.length > 0 && distinct.length <= 20 && distinct.every((v) => v.length <= 40)
    ? distinct
    : null;
}

/** Names a proposed custom field must avoid: Twenty's reserved names and every object's system fields. */
export const RESERVED: ReadonlySet<string> = new Set([
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

export function transformFor(kind: InferredKind): {
  transform: FieldSpecInput['transform'];
  type: CustomFieldType;
} {
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
export const CUSTOM_TYPE_OF_TRANSFORM: Readonly<
  Record<NonNullable<FieldSpecInput['transform']>, CustomFieldType>
> = {
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

export function dateOrderOf(t: InferredColumnType): FieldSpecInput['dateOrder'] {
  return t.dateOrder === undefined || t.dateOrder === 'ambiguous' ? 'auto' : t.dateOrder;
}
