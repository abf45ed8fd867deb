/** Which kind of record a file holds (patients, appointments, billing…), from its name, then its columns and values. */

import { camel, normalizeHeader, singular } from './headers.ts';
import { inferColumnType } from './infer.ts';
import { TARGET_ROLES } from './targets.ts';
import type { ProfileHints, SampledFile } from './types.ts';

export interface EntityRule {
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
export const ENTITY_RULES: EntityRule[] = [
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
      'email',
      'email campaign',
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
    names: ['appointment', 'appt', 'visit', 'schedule', 'scheduler', 'appointment book'],
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
      'therapist',
      'practitioner',
    ],
    refWords: [
      'provider',
      'doctor',
      'dentist',
      'hygienist',
      'physician',
      'staff',
      'clinician',
      'prov',
      'therapist',
      'practitioner',
    ],
    idWords: ['provider', 'staff', 'doctor', 'employee', 'user', 'clinician', 'therapist', 'practitioner'],
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
    refWords: ['patient', 'chart', 'account', 'client', 'guarantor', 'responsible', 'medical record'],
    idWords: ['patient', 'contact', 'client', 'chart', 'account', 'person', 'medical record'],
  },
];

/** Words a file name carries that say nothing about its records ("Patient List Report 2024"). */
export const FILE_NOISE = new Set([
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
  'roster',
]);

/** The rule a file name names: phrases of the name read from its end, longest first. */
export function ruleByName(stem: string): EntityRule | undefined {
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

/** The rule an entity was detected by; a second file of one kind (`appointments2`) shares it. */
export function ruleOf(entity: string): EntityRule | undefined {
  const base = entity.replace(/\d+$/, '');
  return ENTITY_RULES.find((r) => r.entity === base);
}

/**
 * The file's name as the export wrote it (case, spaces and run-together words kept, without folder or
 * extension) — "PatientCases", not Inventory's key-safe "patientcases" — else its stem.
 */
export function fileTitle(file: Pick<SampledFile, 'stem' | 'name'>): string {
  if (file.name === undefined) return file.stem;
  const base = file.name.replace(/^.*[\\/]/, '');
  return base.replace(/\.[^.]+$/, '') || file.stem;
}

export function detectEntity(
  file: SampledFile,
  hints?: ProfileHints,
): { entity: string; target: string; custom: boolean } {
  const hinted = hints?.entityByStem?.[file.stem];
  if (hinted !== undefined) return { ...hinted, custom: !(hinted.target in TARGET_ROLES) };
  const named = ruleByName(fileTitle(file));
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
  const stemWords = normalizeHeader(fileTitle(file))
    .split(' ')
    .filter((w) => /^[a-z]/.test(w));
  const entity = camel(stemWords.length > 0 ? stemWords : ['records']);
  const target = camel([...stemWords.slice(0, -1), singular(stemWords[stemWords.length - 1] ?? 'record')]);
  // A file named after a standard object ("tasks.csv") loads into it, not into a same-named custom one.
  return { entity, target, custom: !(target in TARGET_ROLES) };
}
