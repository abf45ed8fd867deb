import { RESERVED_METADATA_NAMES } from '../../twenty/names.ts';
import { phaseOf } from '../prepare/order.ts';
import { taskType } from '../sources/profile.ts';
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
  acct: 'account',
  acctno: 'account number',
  doc: 'doctor',
  docno: 'doctor number',
  tm: 'time',
  descript: 'description',
  tot: 'total',
  tran: 'transaction',
  rsn: 'reason',
  conf: 'confirmed',
  oper: 'operatory',
  op: 'operatory',
  seq: 'sequence',
  surf: 'surface',
  hyg: 'hygienist',
  resp: 'responsible',
  emerg: 'emergency',
  emer: 'emergency',
  apt: 'appointment',
  appts: 'appointments',
  comm: 'communication',
  commlog: 'communication log',
  dept: 'department',
  est: 'estimated',
  dos: 'service date',
  insco: 'insurance company',
  hphone: 'home phone',
  wphone: 'work phone',
  cphone: 'mobile phone',
  mphone: 'mobile phone',
  homephone: 'home phone',
  workphone: 'work phone',
  mobilephone: 'mobile phone',
  phonenumber: 'phone number',
  middlei: 'middle initial',
  datetime: 'date time',
  txplan: 'treatment plan',
  txitems: 'treatment items',
  patmast: 'patient master',
  patname: 'patient name',
  docname: 'doctor name',
  lic: 'license',
  spec: 'specialty',
  len: 'length',
  chg: 'charge',
  pmt: 'payment',
  ref: 'referral',
};

/**
 * Words a run-together header may be built of ("APPTSTARTDATETIME", "PATIENTID", "procedurelog"):
 * a token that is not a word itself is split into these when it can be covered entirely by them.
 */
const COMPOUND_WORDS = new Set([
  'patient',
  'pat',
  'provider',
  'prov',
  'doctor',
  'doc',
  'appt',
  'apt',
  'appointment',
  'start',
  'end',
  'date',
  'time',
  'datetime',
  'status',
  'type',
  'id',
  'num',
  'no',
  'number',
  'name',
  'first',
  'last',
  'middle',
  'full',
  'home',
  'work',
  'mobile',
  'cell',
  'phone',
  'email',
  'address',
  'city',
  'state',
  'zip',
  'dob',
  'sex',
  'birth',
  'department',
  'dept',
  'schd',
  'sched',
  'scheduled',
  'duration',
  'note',
  'notes',
  'text',
  'section',
  'document',
  'encounter',
  'rendering',
  'primary',
  'billing',
  'service',
  'svc',
  'procedure',
  'proc',
  'log',
  'comm',
  'plan',
  'items',
  'item',
  'tx',
  'code',
  'fee',
  'amount',
  'amt',
  'total',
  'tot',
  'carrier',
  'clinic',
  'is',
  'hidden',
  'secondary',
  'new',
  'hygiene',
  'hyg',
  'tooth',
  'surf',
  'descript',
  'description',
  'pattern',
  'confirmed',
  'sent',
  'or',
  'received',
  'user',
  'mode',
  'elect',
  'send',
  'license',
  'national',
  'abbr',
  'preferred',
  'position',
  'commlog',
  'ssn',
  'chart',
  'account',
  'acct',
  'guarantor',
  'insurance',
  'payer',
  'case',
  'claim',
  'message',
  'body',
  'channel',
  'recipient',
  'delivery',
  'result',
  'reason',
  'operatory',
  'op',
  'length',
  'fname',
  'lname',
  'mi',
  'postal',
  'street',
  'country',
  'fax',
  'web',
  'site',
  'website',
  'npi',
  'username',
  'initial',
  'suffix',
  'specialty',
  'degree',
  'title',
  'mast',
  'master',
  'list',
  'report',
]);

function segment(token: string): string[] | null {
  if (token.length < 5 || COMPOUND_WORDS.has(token) || !/^[a-z]+$/.test(token)) return null;
  // Fewest pieces covering the token, each a known word of two letters or more.
  const best: (string[] | null)[] = [[]];
  for (let end = 1; end <= token.length; end++) {
    best[end] = null;
    for (let start = Math.max(0, end - 12); start <= end - 2; start++) {
      const prev = best[start];
      const piece = token.slice(start, end);
      if (prev === null || prev === undefined || !COMPOUND_WORDS.has(piece)) continue;
      const next = [...prev, piece];
      const current = best[end];
      if (current === null || current === undefined || next.length < current.length) best[end] = next;
    }
  }
  const result = best[token.length];
  return result !== null && result !== undefined && result.length > 1 ? result : null;
}

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
  const raw = (spaced === '' ? [] : spaced.split(' ')).flatMap((t) =>
    ABBREVIATIONS[t] !== undefined ? [t] : (segment(t) ?? [t]),
  );
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
    } else if ((t === 'l' || t === 'f') && merged[i + 1] === 'name') {
      joined.push(t === 'l' ? 'last name' : 'first name');
      i++;
    } else if (t === 'middle' && (merged[i + 1] === 'i' || merged[i + 1] === 'initial')) {
      joined.push('middle name');
      i++;
    } else if ((t === 'address' || t === 'street') && /^[12]$/.test(merged[i + 1] ?? '')) {
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

const PERSON_ROLES: Role[] = [
  { field: 'name', part: 'first', synonyms: ['first name', 'given name', 'patient first name'] },
  { field: 'name', part: 'middle', synonyms: ['middle name', 'middle initial'] },
  { field: 'name', part: 'last', synonyms: ['last name', 'family name', 'patient last name'] },
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

const TARGET_ROLES: Record<string, Role[]> = {
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
      synonyms: ['subject', 'title', 'appointment type', 'type', 'reason', 'appointment reason', 'what for'],
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
      synonyms: ['status', 'appointment status', 'task status', 'visit status', 'appointment state'],
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
      synonyms: ['name', 'case name', 'title', 'case type', 'description', 'plan name', 'plan description'],
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

interface EntityRule {
  readonly entity: string;
  readonly target: string;
  /** A custom object Ferry creates (billing rows, plan line items), not a standard one. */
  readonly custom?: {
    readonly namePlural: string;
    readonly labelSingular: string;
    readonly labelPlural: string;
  };
  /**
   * File-name phrases (normalized, singular words) naming this kind of file. The file's name is read
   * from its last meaningful word backwards ("PatientCases" is cases, "Tx Plan Items" plan items).
   */
  readonly names: readonly string[];
  /** Words that, in a column header of another file, name a reference to this entity's records. */
  readonly refWords: readonly string[];
  /** Words that precede an id word ("id", "number", "#", "code") in this entity's own id column. */
  readonly idWords: readonly string[];
}

/** Most specific first: a phrase of two words wins over one of its words. */
const ENTITY_RULES: EntityRule[] = [
  {
    entity: 'treatmentPlanItems',
    target: 'treatmentPlanItem',
    custom: {
      namePlural: 'treatmentPlanItems',
      labelSingular: 'Treatment plan item',
      labelPlural: 'Treatment plan items',
    },
    names: [
      'treatment plan item',
      'treatment item',
      'plan item',
      'line item',
      'plan procedure',
      'treatment plan line item',
    ],
    refWords: ['item'],
    idWords: ['item', 'line'],
  },
  {
    entity: 'treatmentPlans',
    target: 'opportunity',
    names: ['treatment plan', 'tx plan', 'plan'],
    refWords: ['plan', 'treatment plan'],
    idWords: ['plan', 'treatment plan'],
  },
  {
    entity: 'communications',
    target: 'task',
    names: [
      'communication',
      'communication log',
      'reminder',
      'reminder log',
      'message',
      'sms',
      'recall',
      'outreach',
      'contact log',
      'call log',
    ],
    refWords: ['message', 'communication'],
    idWords: ['message', 'communication', 'log', 'reminder', 'commlog'],
  },
  {
    entity: 'billing',
    target: 'billingRecord',
    custom: { namePlural: 'billingRecords', labelSingular: 'Billing record', labelPlural: 'Billing records' },
    names: [
      'ledger',
      'charge',
      'transaction',
      'billing',
      'payment',
      'procedure log',
      'invoice',
      'statement',
      'balance',
    ],
    refWords: ['transaction', 'charge'],
    idWords: ['transaction', 'charge', 'entry', 'procedure', 'visit', 'ledger', 'line', 'invoice', 'payment'],
  },
  {
    entity: 'insurance',
    target: 'company',
    names: [
      'insurance company',
      'insurance carrier',
      'carrier',
      'insurance',
      'payer',
      'insurer',
      'plan carrier',
    ],
    refWords: ['carrier', 'insurance company', 'payer', 'insurance'],
    idWords: ['carrier', 'insurance company', 'payer', 'insurance'],
  },
  {
    entity: 'notes',
    target: 'note',
    names: ['note', 'clinical note', 'chart note', 'progress note', 'clinical', 'document'],
    refWords: ['note', 'document'],
    idWords: ['note', 'document'],
  },
  {
    entity: 'cases',
    target: 'opportunity',
    names: ['case', 'claim', 'encounter', 'opportunity'],
    refWords: ['case', 'claim', 'encounter'],
    idWords: ['case', 'claim', 'encounter'],
  },
  {
    entity: 'appointments',
    target: 'task',
    names: ['appointment', 'appt', 'visit', 'schedule'],
    refWords: ['appointment', 'visit'],
    idWords: ['appointment', 'visit'],
  },
  {
    entity: 'practices',
    target: 'company',
    names: [
      'practice',
      'organization',
      'organisation',
      'company',
      'clinic',
      'office',
      'location',
      'service location',
      'facility',
      'department',
      'site',
      'branch',
    ],
    refWords: [
      'practice',
      'facility',
      'location',
      'department',
      'clinic',
      'office',
      'service location',
      'site',
    ],
    idWords: [
      'practice',
      'organization',
      'company',
      'clinic',
      'office',
      'location',
      'facility',
      'department',
      'service location',
      'site',
    ],
  },
  {
    entity: 'providers',
    target: 'person',
    names: [
      'provider',
      'staff',
      'doctor',
      'dentist',
      'hygienist',
      'physician',
      'employee',
      'clinician',
      'user',
    ],
    refWords: ['provider', 'doctor', 'dentist', 'hygienist', 'physician', 'staff', 'clinician', 'prov'],
    idWords: ['provider', 'staff', 'doctor', 'employee', 'user', 'clinician'],
  },
  {
    entity: 'patients',
    target: 'person',
    names: [
      'patient',
      'patient master',
      'contact',
      'people',
      'person',
      'client',
      'demographic',
      'patient demographic',
      'chart',
    ],
    refWords: ['patient', 'chart', 'account', 'client', 'guarantor', 'responsible'],
    idWords: ['patient', 'contact', 'client', 'chart', 'account', 'person'],
  },
];

/** Words a file name carries that say nothing about its records ("Patient List Report 2024"). */
const FILE_NOISE = new Set([
  'list',
  'report',
  'export',
  'data',
  'file',
  'table',
  'master',
  'all',
  'full',
  'extract',
  'detail',
  'details',
  'log',
  'record',
  'by',
  'of',
  'and',
  'the',
  'summary',
  'dump',
]);

/** The rule a file name names: phrases of the name read from its end, longest first. */
function ruleByName(stem: string): EntityRule | undefined {
  const words = normalizeHeader(stem)
    .split(' ')
    .filter((w) => /^[a-z]/.test(w))
    .map(singular);
  for (let end = words.length; end > 0; end--) {
    if (
      FILE_NOISE.has(words[end - 1] ?? '') &&
      !(end >= 2 && ENTITY_RULES.some((r) => r.names.includes(words.slice(end - 2, end).join(' '))))
    )
      continue;
    for (let len = Math.min(4, end); len >= 1; len--) {
      const phrase = words.slice(end - len, end).join(' ');
      const rule = ENTITY_RULES.find((r) => r.names.includes(phrase));
      if (rule !== undefined) return rule;
    }
  }
  return undefined;
}

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
  if (word.endsWith('sses') || word.endsWith('uses')) return word.slice(0, -2);
  if (word.endsWith('ss')) return word;
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
  /** File name in the drop folder, when it is not `<stem>.csv`. */
  readonly name?: string;
  /** Every value of the file's key columns (distinct, short values), when the reader collected them. */
  readonly keys?: Readonly<Record<string, ReadonlySet<string>>>;
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
  const named = ruleByName(file.stem);
  if (named !== undefined)
    return { entity: named.entity, target: named.target, custom: named.custom !== undefined };
  // No telling name: the columns and values decide.
  const headers = file.header.map(normalizeHeader);
  const has = (re: RegExp) => headers.some((h) => re.test(h));
  const longText = file.header.some(
    (_, i) => inferColumnType(file.sample.map((r) => r[i] ?? '')).kind === 'longText',
  );
  if (has(/\bfirst name\b/) && has(/\blast name\b/))
    return { entity: 'patients', target: 'person', custom: false };
  if (longText && has(/\b(patient|chart)\b/)) return { entity: 'notes', target: 'note', custom: false };
  const stemWords = normalizeHeader(file.stem)
    .split(' ')
    .filter((w) => /^[a-z]/.test(w));
  const entity = camel(stemWords.length > 0 ? stemWords : ['records']);
  const target = camel([...stemWords.slice(0, -1), singular(stemWords[stemWords.length - 1] ?? 'record')]);
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

/** Header words of another party's contact details: never the record's own email, phone or name. */
const OTHER_PARTY_WORDS = new Set([
  'guarantor',
  'emergency',
  'responsible',
  'kin',
  'spouse',
  'parent',
  'insured',
  'subscriber',
  'employer',
  'referring',
  'referral',
  'referred',
  'recipient',
  'sent',
  'called',
  'dialed',
  'dialled',
  'to',
  'party',
]);

const TIME_VALUE = /^(\d{1,2}:\d{2}(:\d{2})?\s*([ap]\.?m\.?)?|\d{1,2}\s*[ap]\.?m\.?|[0-2]\d[0-5]\d)$/i;

/**
 * The time column that completes a date column: a header saying time ("Time", "Appt Time", "Start
 * Time", "SENT_TM" — not an end time) whose sampled values are times of day.
 */
function timeColumnFor(normalized: readonly string[], file: SampledFile, used: ReadonlySet<number>): number {
  const candidates = normalized
    .map((h, i) => ({ h, i }))
    .filter(
      ({ h, i }) => !used.has(i) && /\btime\b/.test(h) && !/\b(end|date|stop|finish|duration)\b/.test(h),
    )
    .filter(({ i }) => {
      const vals = file.sample.map((r) => (r[i] ?? '').trim()).filter((v) => v !== '');
      return vals.length > 0 && vals.filter((v) => TIME_VALUE.test(v)).length / vals.length >= 0.8;
    });
  const start = candidates.find(({ h }) => /\bstart\b/.test(h)) ?? candidates[0];
  return start?.i ?? -1;
}

/** Words that end an id column's header ("Patient ID", "Chart #", "Provider Code"). */
const ID_WORDS = new Set([
  'id',
  'number',
  '#',
  'no',
  'num',
  'code',
  'key',
  'initials',
  'abbr',
  'identifier',
  'uuid',
]);

interface Detected {
  file: SampledFile;
  entity: string;
  target: string;
  custom: boolean;
}

/** What the auto-mapper settles about a file before mapping any: headers, value kinds, its id. */
interface FileFacts {
  readonly normalized: readonly string[];
  readonly types: readonly InferredColumnType[];
  /** The own id column, or -1 (then `idColumns` when a composite identifies rows). */
  readonly idIndex: number;
  readonly idConfidence: number;
  readonly idColumns?: readonly number[];
}

function containsPhrase(words: readonly string[], phrase: string): boolean {
  const p = phrase.split(' ');
  for (let i = 0; i + p.length <= words.length; i++)
    if (p.every((w, k) => singular(words[i + k] ?? '') === w || words[i + k] === w)) return true;
  return false;
}

/** A column's values are distinct over the whole file (its key set), or over the sample when that is all there is. */
function isKey(file: SampledFile, i: number): boolean {
  const column = file.header[i] ?? '';
  if (file.keys !== undefined) return file.keys[column] !== undefined;
  const vals = file.sample.map((r) => (r[i] ?? '').trim()).filter((v) => v !== '');
  return vals.length > 0 && new Set(vals).size === vals.length;
}

/** Every id value of a file's id column: its key set, else the sampled values. */
function idValues(file: SampledFile, facts: FileFacts): ReadonlySet<string> | undefined {
  if (facts.idIndex < 0 || facts.idColumns !== undefined) return undefined;
  const column = file.header[facts.idIndex] ?? '';
  return (
    file.keys?.[column] ??
    new Set(file.sample.map((r) => (r[facts.idIndex] ?? '').trim()).filter((v) => v !== ''))
  );
}

/** Does a header name another entity's records (its reference words)? */
function namesEntity(words: readonly string[], rule: EntityRule | undefined, entity: string): boolean {
  const refWords = rule?.refWords ?? [singular(entity.toLowerCase())];
  return refWords.some((w) => containsPhrase(words, w));
}

/**
 * The file's own id: the leftmost key column whose header is an id word after this entity's own
 * words ("Patient ID", "Chart #", "PatNum"), a bare id ("ID", "Code", "Initials"), or an id word after
 * words naming no other entity. A column naming another entity ("Provider ID" in appointments) is a
 * reference, never the id. With no such column the rows are identified by a composite of the columns
 * that tell them apart (patient, date, time, provider…), found on the sample.
 */
function factsFor(d: Detected, detected: readonly Detected[]): FileFacts {
  const { file } = d;
  const normalized = file.header.map(normalizeHeader);
  const types = file.header.map((_, i) => inferColumnType(file.sample.map((row) => row[i] ?? '')));
  const rule = ruleOf(d.entity);
  const ownWords = rule?.idWords ?? [singular(d.entity.toLowerCase())];
  const others = ENTITY_RULES.filter((r) => r.entity !== rule?.entity);
  let best = -1;
  let bestScore = 0;
  normalized.forEach((h, i) => {
    if (phiVerdict(file.header[i] ?? '') !== 'allowed' || types[i]?.kind === 'ssn' || !isKey(file, i)) return;
    const words = h.split(' ').filter((w) => w !== '');
    const last = words[words.length - 1] ?? '';
    const rest = ID_WORDS.has(last) ? words.slice(0, -1) : words;
    let score = 0;
    const own = rest.length > 0 && ownWords.some((w) => containsPhrase(rest, w));
    const foreign = others.some((r) => r.refWords.some((w) => containsPhrase(rest, w)));
    // A bare "id" is the export's own key (API-style exports), even beside a "chart id" code.
    if (h === 'id' || h === 'record id' || h === 'key' || h === 'uuid') score = 1;
    else if (ID_WORDS.has(last) && own) score = 1;
    else if (ID_WORDS.has(last) && rest.length === 0) score = 0.8;
    else if (ID_WORDS.has(last) && !foreign) score = 0.7;
    else if (!ID_WORDS.has(last) && own && words.length === 1 && types[i]?.kind !== 'longText') score = 0.7;
    if (own && foreign && !ID_WORDS.has(last)) score = 0;
    if (score > bestScore) {
      best = i;
      bestScore = score;
    }
  });
  if (best >= 0) return { normalized, types, idIndex: best, idConfidence: bestScore };

  // No id column: the columns that identify a row — references, then dates and times, then the rest.
  const refLike = normalized
    .map((h, i) => ({ h, i }))
    .filter(({ h, i }) => {
      const words = h.split(' ');
      return (
        phiVerdict(file.header[i] ?? '') === 'allowed' &&
        detected.some((o) => o !== d && namesEntity(words, ruleOf(o.entity), o.entity))
      );
    })
    .map(({ i }) => i);
  const timeLike = normalized
    .map((h, i) => ({ h, i }))
    .filter(
      ({ h, i }) =>
        !refLike.includes(i) &&
        (/\b(date|time|sent|start|called)\b/.test(h) ||
          types[i]?.kind === 'date' ||
          types[i]?.kind === 'dateTime'),
    )
    .map(({ i }) => i);
  const restCols = file.header
    .map((_, i) => i)
    .filter(
      (i) =>
        !refLike.includes(i) &&
        !timeLike.includes(i) &&
        phiVerdict(file.header[i] ?? '') === 'allowed' &&
        types[i]?.kind !== 'longText',
    );
  const unique = (cols: readonly number[]) => {
    const seen = new Set<string>();
    for (const row of file.sample) {
      const key = cols.map((c) => (row[c] ?? '').trim()).join('\u001f');
      if (seen.has(key)) return false;
      seen.add(key);
    }
    return file.sample.length > 0;
  };
  const chosen: number[] = [...refLike, ...timeLike];
  for (const c of restCols) {
    if (chosen.length >= 2 && unique(chosen)) break;
    chosen.push(c);
    if (chosen.length > 8) break;
  }
  if (chosen.length >= 2 && unique(chosen))
    return {
      normalized,
      types,
      idIndex: -1,
      idConfidence: 0.6,
      idColumns: [...chosen].sort((a, b) => a - b),
    };
  return { normalized, types, idIndex: -1, idConfidence: 0 };
}

interface FoundReference {
  readonly index: number;
  readonly other: Detected;
  readonly confidence: number;
}

/** Share of a column's sampled non-blank values found among `ids`. */
function resolvedShare(
  file: SampledFile,
  i: number,
  ids: ReadonlySet<string>,
): { share: number; distinct: number } {
  const vals = file.sample.map((r) => (r[i] ?? '').trim()).filter((v) => v !== '' && v !== '0');
  if (vals.length === 0) return { share: 0, distinct: 0 };
  return { share: vals.filter((v) => ids.has(v)).length / vals.length, distinct: new Set(vals).size };
}

/**
 * A file's references to other files' records. A column is a reference when its header names the
 * other entity ("Provider", "PATIENTID", "Chart #" — or the other file's own id header) and at least
 * half of its sampled values are that file's ids; or, named for nothing, when nine in ten of its
 * values are the ids of exactly one other file (codes, not small numbers every file shares).
 */
function referencesOf(
  d: Detected,
  facts: FileFacts,
  detected: readonly Detected[],
  factsOf: ReadonlyMap<Detected, FileFacts>,
): FoundReference[] {
  const found: FoundReference[] = [];
  const { file } = d;
  facts.normalized.forEach((h, i) => {
    if (i === facts.idIndex && facts.idColumns === undefined) return;
    if (phiVerdict(file.header[i] ?? '') !== 'allowed' || facts.types[i]?.kind === 'ssn') return;
    const kind = facts.types[i]?.kind;
    if (
      kind === 'longText' ||
      kind === 'email' ||
      kind === 'boolean' ||
      kind === 'date' ||
      kind === 'dateTime' ||
      kind === 'money'
    )
      return;
    const words = h.split(' ');
    const named: { other: Detected; share: number }[] = [];
    const byValue: { other: Detected; share: number }[] = [];
    for (const other of detected) {
      const otherFacts = factsOf.get(other);
      if (otherFacts === undefined) continue;
      const ids = idValues(other.file, otherFacts);
      if (ids === undefined || ids.size === 0) continue;
      const self = other === d;
      const otherIdHeader = otherFacts.normalized[otherFacts.idIndex] ?? '';
      const byName =
        (!self || /\b(guarantor|responsible|parent)\b/.test(h)) &&
        (namesEntity(words, ruleOf(other.entity), other.entity) || (!self && h === otherIdHeader));
      const { share, distinct } = resolvedShare(file, i, ids);
      // Named "<entity> id" but the parent is known only by a few sampled rows: the name decides.
      const sampledOnly = other.file.keys === undefined && ID_WORDS.has(words[words.length - 1] ?? '');
      if (byName && (share >= 0.5 || sampledOnly))
        named.push({ other, share: Math.max(share, sampledOnly ? 0.6 : 0) });
      else if (!self && share >= 0.9 && distinct >= 2 && [...ids].some((v) => !/^\d{1,3}$/.test(v)))
        byValue.push({ other, share });
    }
    named.sort((a, b) => b.share - a.share);
    const top = named[0];
    if (top !== undefined) {
      found.push({ index: i, other: top.other, confidence: Number((0.5 + 0.5 * top.share).toFixed(2)) });
      return;
    }
    if (byValue.length === 1 && byValue[0] !== undefined)
      found.push({
        index: i,
        other: byValue[0].other,
        confidence: Number((0.7 * byValue[0].share).toFixed(2)),
      });
  });
  return found;
}

/**
 * Proposes a mapping for files Ferry has no profile for: detects each file's entity from its name
 * (or header), matches normalized headers against synonyms of the target's fields, checks the
 * values agree, links `<entity> id` columns to the entity they name, and turns every other column
 * into a custom field of its inferred type. SSN-like columns are excluded and reported.
 */
export function proposeMapping(files: readonly SampledFile[], profileHints?: ProfileHints): ProposedMapping {
  const detected: Detected[] = files.map((f) => ({ file: f, ...detectEntity(f, profileHints) }));
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

  const factsOf = new Map<Detected, FileFacts>();
  for (const d of detected) factsOf.set(d, factsFor(d, detected));

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

    // Source id: the file's own id column (found before this loop), else a composite of columns.
    const rule = ruleOf(entity);
    const ownWords = rule?.idWords ?? [singular(entity.toLowerCase())];
    const facts = factsOf.get(d) as FileFacts;
    const idIndex = facts.idIndex;
    const idColumn = file.header[Math.max(idIndex, 0)] ?? 'id';
    const idColumns = facts.idColumns?.map((i) => file.header[i] ?? '');
    if (idIndex >= 0 && facts.idColumns === undefined) used.add(idIndex);
    conf[idColumn] = facts.idConfidence;

    // References: a column whose values are another file's ids, named for it or by values alone.
    const relations: NonNullable<EntitySpecInput['relations']> = {};
    const targets: NonNullable<EntitySpecInput['targets']> = [];
    const relationNames = new Set<string>();
    for (const ref of referencesOf(d, facts, detected, factsOf)) {
      if (used.has(ref.index)) continue;
      const column = file.header[ref.index] ?? '';
      const other = ref.other;
      if (target === 'task' || target === 'note' || target === 'attachment') {
        // Twenty's task and note targets point at people, companies, opportunities and custom
        // objects, never at another task or note: such a column stays a custom field (the source id).
        if (other.target === 'task' || other.target === 'note') continue;
        used.add(ref.index);
        conf[column] = ref.confidence;
        targets.push({ entity: other.entity, from: column });
        continue;
      }
      // Records load in phases (companies, people, opportunities, activities, custom objects); a link
      // to a record of a later phase could not be written, so that column stays a custom field.
      if (phaseOf(other.target) > phaseOf(target)) continue;
      used.add(ref.index);
      conf[column] = ref.confidence;
      const standardName =
        other.target === 'company' &&
        (target === 'person' || target === 'opportunity') &&
        !relationNames.has('company')
          ? 'company'
          : target === 'opportunity' &&
              ruleOf(other.entity)?.entity === 'patients' &&
              !relationNames.has('pointOfContact')
            ? 'pointOfContact'
            : undefined;
      const words = (normalized[ref.index] ?? '').split(' ').filter((w) => !ID_WORDS.has(w));
      const base = words.length > 0 ? words : [singular(other.entity.toLowerCase())];
      let name = standardName ?? camel(base);
      for (
        let k = 2;
        standardName === undefined &&
        (relationNames.has(name) ||
          RESERVED.has(name) ||
          standardTypeOf(target, name) !== undefined ||
          name === 'company' ||
          name === 'pointOfContact');
        k++
      )
        name = `${camel(base)}${k}`;
      relationNames.add(name);
      relations[name] = {
        entity: other.entity,
        from: column,
        joinColumn: `${name}Id`,
        onMissing: 'null',
        ...(standardName !== undefined
          ? {}
          : {
              custom: {
                label: titleCase(base),
                targetFieldLabel: titleCase([...normalizeHeader(entity).split(' '), 'by', ...base]),
              },
            }),
      };
    }

    // Standard fields by synonym, best score first, one column per role (phones take several).
    const roles = TARGET_ROLES[target] ?? [];
    const candidates: Array<{ i: number; role: Role; score: number }> = [];
    const ownRule = ruleOf(entity);
    normalized.forEach((h, i) => {
      if (used.has(i)) return;
      const words = h.split(' ');
      const endsWithId = ID_WORDS.has(words[words.length - 1] ?? '') || words.includes('license');
      // Another party's contact ("Guarantor Phone", "Provider Email", "Sent To") is not this record's own.
      const otherParty =
        words.some((w) => OTHER_PARTY_WORDS.has(w)) ||
        (words.includes('contact') && !/contact/i.test(file.stem)) ||
        ENTITY_RULES.some(
          (r) => r !== ownRule && r.target === 'person' && r.refWords.some((w) => containsPhrase(words, w)),
        );
      const kind = types[i]?.kind ?? 'text';
      for (const role of roles) {
        if (endsWithId && role.field !== 'phones') continue;
        if (otherParty && (role.field === 'emails' || role.field === 'phones' || role.field === 'name'))
          continue;
        if (
          role.field === 'name' &&
          (kind === 'date' || kind === 'dateTime' || kind === 'number' || kind === 'money')
        )
          continue;
        let score = Math.max(...role.synonyms.map((s) => similarity(h, s)));
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
        case 'closeDate': {
          // A date without its time, next to a time column ("Appt Date" + "Appt Time"): one date-time of both.
          const time = t?.kind === 'date' ? timeColumnFor(normalized, file, used) : -1;
          if (time >= 0) used.add(time);
          fields[role.field] = {
            from: time >= 0 ? [columns[0] ?? '', file.header[time] ?? ''] : (columns[0] ?? ''),
            transform: 'dateTime',
            dateOrder: t ? dateOrderOf(t) : 'auto',
          };
          if (time >= 0) conf[file.header[time] ?? ''] = conf[columns[0] ?? ''] ?? 0.8;
          break;
        }
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

    // Appointments and communications both load as tasks; a constant task type tells them apart
    // (the product brief: a communication is a Task of type Communication), as the profiles do.
    const kind = ruleOf(entity)?.entity;
    if (target === 'task' && (kind === 'appointments' || kind === 'communications') && fields.taskType === undefined)
      fields.taskType = taskType(kind === 'appointments' ? 'Appointment' : 'Communication');
    entities[entity] = {
      files: [file.name ?? `${file.stem}.csv`],
      target,
      idColumn,
      ...(idColumns === undefined ? {} : { idColumns }),
      fields,
      relations,
      targets,
    };
    if (d.custom)
      if (!customObjects.some((o) => o.nameSingular === target)) {
        const known = ruleOf(entity)?.custom;
        customObjects.push({
          nameSingular: target,
          namePlural: known?.namePlural ?? (entity === target ? `${target}s` : entity),
          labelSingular: known?.labelSingular ?? titleCase(normalizeHeader(target).split(' ')),
          labelPlural: known?.labelPlural ?? titleCase(normalizeHeader(entity).split(' ')),
        });
      }
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
