import type { GenerateContext } from './context.ts';
import type { EntityLayout, RowDefect } from './entity-writer.ts';
import type { Random } from './random.ts';
import { OCCUPATIONS, PLACES, PRACTICE_NAMES } from './vocab.ts';
import {
  clinicTime,
  daysAgo,
  dollars,
  iso,
  makeProviders,
  mdy,
  mdyTime,
  noteText,
  type Patient,
  PatientFactory,
  phone,
  writeProvider,
} from './world.ts';

/**
 * Advance Practice Management Suite export layout: one report per entity, Windows-style
 * (every field quoted, CRLF, UTF-8 BOM), "Pt …" column prefixes, US dates, dollar amounts.
 * The vendor documents no format; these are the plausible report columns the `apms` profile
 * in lambdas/core/sources/apms.ts reads.
 */
export const APMS_LAYOUTS = {
  practices: {
    entity: 'practices',
    file: 'Practices.csv',
    idColumn: 'Practice ID',
    columns: [
      'Practice ID',
      'Practice Name',
      'Website',
      'Industry',
      'Parent Practice ID',
      'Phone',
      'Address',
      'City',
      'State',
      'Zip',
    ],
    defects: {},
  },
  providers: {
    entity: 'providers',
    file: 'Providers.csv',
    idColumn: 'Provider ID',
    columns: ['Provider ID', 'Provider Name', 'Email', 'Specialty', 'Credentials', 'Phone', 'Practice ID'],
    defects: {},
  },
  patients: {
    entity: 'patients',
    file: 'PatientDemographics.csv',
    idColumn: 'Pt Acct #',
    columns: [
      'Pt Acct #',
      'Pt Last Name',
      'Pt First Name',
      'Pt MI',
      'Pt DOB',
      'Pt SSN',
      'Pt Email',
      'Pt Home Phone',
      'Pt Cell Phone',
      'Pt Address 1',
      'Pt Address 2',
      'Pt City',
      'Pt State',
      'Pt Zip',
      'Pt Occupation',
      'Practice ID',
      'Date Created',
    ],
    defects: {
      MISSING_REQUIRED: ['Pt Last Name', 'Pt First Name', 'Pt MI'],
      INVALID_EMAIL: 'Pt Email',
      INVALID_PHONE: 'Pt Cell Phone',
      INVALID_DATE: 'Pt DOB',
      DUPLICATE_SOURCE_ID: true,
      ORPHAN_REFERENCE: 'Practice ID',
      VALUE_TOO_LONG: { column: 'Pt Occupation', length: 300 },
      MALFORMED_ROW: true,
      ENCODING_ERROR: 'Pt First Name',
    },
  },
  insurancePayers: {
    entity: 'insurancePayers',
    file: 'InsurancePayers.csv',
    idColumn: 'Payer ID',
    columns: [
      'Payer ID',
      'Pt Acct #',
      'Payer Name',
      'Policy Type',
      'Policy #',
      'Group #',
      'Coverage Notes',
      'Effective Date',
    ],
    defects: {
      MISSING_REQUIRED: 'Payer Name',
      INVALID_DATE: 'Effective Date',
      DUPLICATE_SOURCE_ID: true,
      ORPHAN_REFERENCE: 'Pt Acct #',
      UNMAPPED_VALUE: { column: 'Policy Type', value: 'Catastrophic Rider' },
      VALUE_TOO_LONG: { column: 'Payer Name', length: 300 },
      MALFORMED_ROW: true,
      ENCODING_ERROR: 'Coverage Notes',
    },
  },
  cases: {
    entity: 'cases',
    file: 'Cases.csv',
    idColumn: 'Case #',
    columns: [
      'Case #',
      'Pt Acct #',
      'Practice ID',
      'Case Name',
      'Case Type',
      'Case Status',
      'Billed Amount',
      'Expected Reimbursement',
      'Opened Date',
      'Closed Date',
    ],
    defects: {
      MISSING_REQUIRED: 'Case Name',
      INVALID_DATE: 'Opened Date',
      DUPLICATE_SOURCE_ID: true,
      ORPHAN_REFERENCE: 'Pt Acct #',
      UNMAPPED_VALUE: { column: 'Case Status', value: 'On Hold - Legal' },
      VALUE_TOO_LONG: { column: 'Case Name', length: 300 },
      MALFORMED_ROW: true,
      ENCODING_ERROR: 'Case Name',
    },
  },
  appointments: {
    entity: 'appointments',
    file: 'Appointments.csv',
    idColumn: 'Appt ID',
    columns: [
      'Appt ID',
      'Pt Acct #',
      'Practice ID',
      'Appt Date',
      'Appt Type',
      'Provider Email',
      'Appt Status',
      'Completed Date',
      'Appt Notes',
    ],
    defects: {
      MISSING_REQUIRED: 'Appt Date',
      INVALID_DATE: 'Appt Date',
      DUPLICATE_SOURCE_ID: true,
      ORPHAN_REFERENCE: 'Pt Acct #',
      UNMAPPED_VALUE: { column: 'Appt Status', value: 'Bumped' },
      VALUE_TOO_LONG: { column: 'Appt Type', length: 300 },
      MALFORMED_ROW: true,
      ENCODING_ERROR: 'Appt Notes',
    },
  },
  claims: {
    entity: 'claims',
    file: 'Claims.csv',
    idColumn: 'Claim #',
    columns: [
      'Claim #',
      'Pt Acct #',
      'Practice ID',
      'Payer ID',
      'Claim Amount',
      'Paid Amount',
      'Claim Status',
      'Claim Date',
      'Date of Service',
    ],
    defects: {
      MISSING_REQUIRED: 'Claim Date',
      INVALID_DATE: 'Date of Service',
      DUPLICATE_SOURCE_ID: true,
      ORPHAN_REFERENCE: 'Pt Acct #',
      UNMAPPED_VALUE: { column: 'Claim Status', value: 'Held - Review' },
      MALFORMED_ROW: true,
    },
  },
  notes: {
    entity: 'notes',
    file: 'ClinicalNotes.csv',
    idColumn: 'Note ID',
    columns: ['Note ID', 'Pt Acct #', 'Note Date', 'Author', 'Note Type', 'Note Text'],
    defects: {
      MISSING_REQUIRED: 'Note Text',
      INVALID_DATE: 'Note Date',
      DUPLICATE_SOURCE_ID: true,
      ORPHAN_REFERENCE: 'Pt Acct #',
      VALUE_TOO_LONG: { column: 'Note Type', length: 300 },
      MALFORMED_ROW: true,
      ENCODING_ERROR: 'Note Text',
    },
  },
  documents: {
    entity: 'documents',
    file: 'Documents.csv',
    idColumn: 'Doc ID',
    columns: [
      'Doc ID',
      'Pt Acct #',
      'Document Name',
      'File Name',
      'Document Type',
      'Document Date',
      'Uploaded',
    ],
    defects: {
      MISSING_REQUIRED: 'File Name',
      AMBIGUOUS_DATE: 'Document Date',
      DUPLICATE_SOURCE_ID: true,
      ORPHAN_REFERENCE: 'Pt Acct #',
      MALFORMED_ROW: true,
      ENCODING_ERROR: 'Document Name',
      MISSING_FILE: 'File Name',
    },
  },
  customProperties: {
    entity: 'customProperties',
    file: 'PatientCustomProperties.csv',
    idColumn: 'PatientID',
    columns: ['PatientID', 'PropertyName', 'PropertyValue'],
    // A property of a patient that does not load is skipped PIVOTED (written for rejected patients).
    defects: {
      MISSING_REQUIRED: 'PropertyName',
      MALFORMED_ROW: true,
      ENCODING_ERROR: 'PropertyValue',
    },
  },
  workflows: {
    entity: 'workflows',
    file: 'Workflows.csv',
    idColumn: 'Workflow ID',
    columns: ['Workflow ID', 'Workflow Name', 'Trigger', 'Conditions', 'Actions', 'Active', 'Last Modified'],
    defects: {},
  },
} as const satisfies Record<string, EntityLayout>;

export const APMS_POLICY_TYPES = ['PPO', 'HMO', 'EPO', 'POS', 'Medicare', 'Medicaid', 'Indemnity'] as const;
export const APMS_CASE_STATUSES = [
  'Open',
  'In Progress',
  'Pending Insurance',
  'Won',
  'Closed - Paid',
  'Closed - Written Off',
  'Cancelled',
] as const;
export const APMS_CASE_TYPES = ['Injury', 'Wellness', 'Chronic Care', 'Surgical', 'Workers Comp'] as const;
export const APMS_APPT_TYPES = [
  'New Patient Exam',
  'Follow-up',
  'Annual Physical',
  'Consultation',
  'Procedure',
  'Telehealth',
] as const;
export const APMS_APPT_STATUSES = ['Scheduled', 'Confirmed', 'Completed', 'Cancelled', 'No Show'] as const;
export const APMS_CLAIM_STATUSES = [
  'Submitted',
  'Pending',
  'Paid',
  'Partially Paid',
  'Denied',
  'Rejected-Resubmit',
  'Appealed',
] as const;
export const APMS_NOTE_TYPES = ['Clinical', 'Administrative', 'Billing', 'Phone Call'] as const;
export const APMS_DOCUMENT_TYPES = [
  'Intake Form',
  'Consent Form',
  'Lab Result',
  'Insurance Card',
  'Referral Letter',
] as const;

/** Custom patient properties (long format) with the type the profile must infer for each. */
export const APMS_CUSTOM_PROPERTIES = [
  { name: 'Preferred Contact Method', type: 'SELECT', values: ['Phone', 'Email', 'Text'] },
  { name: 'Preferred Language', type: 'SELECT', values: ['English', 'Spanish', 'Vietnamese', 'Mandarin'] },
  { name: 'Insurance Group ID', type: 'TEXT', values: [] },
  { name: 'Consent Signed Date', type: 'DATE', values: [] },
  { name: 'Copay Amount', type: 'NUMBER', values: [] },
] as const;

const rejecting = (d: RowDefect | null): boolean => d !== null && d !== 'DUPLICATE_SOURCE_ID';

/** A custom property value of the property's type (the profile infers the type back from these). */
function propertyValue(rng: Random, prop: (typeof APMS_CUSTOM_PROPERTIES)[number]): string {
  if (prop.type === 'SELECT') return rng.pick(prop.values);
  if (prop.type === 'DATE') return mdy(daysAgo(rng, 1, 2500));
  if (prop.type === 'NUMBER') return String(rng.pick([10, 15, 20, 25, 30, 40, 50]));
  return `G-${rng.int(10000, 99999)}`;
}

function pdfBytes(title: string): Uint8Array {
  const text = `%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n% ${title}\ntrailer << /Root 1 0 R >>\n%%EOF\n`;
  return Buffer.from(text, 'latin1');
}

function pngBytes(rng: Random): Uint8Array {
  const header = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52];
  const body = Array.from({ length: 48 }, () => rng.int(0, 255));
  return Uint8Array.from([...header, ...body]);
}

/** Generates every APMS entity file, patient by patient, in constant memory. */
export function generateApms(ctx: GenerateContext): void {
  const { rng } = ctx;
  const L = APMS_LAYOUTS;
  const w = {
    practices: ctx.open(L.practices),
    providers: ctx.open(L.providers),
    patients: ctx.open(L.patients),
    insurancePayers: ctx.open(L.insurancePayers),
    cases: ctx.open(L.cases),
    appointments: ctx.open(L.appointments),
    claims: ctx.open(L.claims),
    notes: ctx.open(L.notes),
    documents: ctx.open(L.documents),
    customProperties: ctx.open(L.customProperties),
    workflows: ctx.open(L.workflows),
  };

  const practiceCount = Math.min(PRACTICE_NAMES.length, 2 + Math.floor(ctx.patients / 5000));
  const practiceIds: string[] = [];
  for (let i = 0; i < practiceCount; i++) {
    const id = `PR${String(i + 1).padStart(2, '0')}`;
    const name = PRACTICE_NAMES[i] as string;
    const place = rng.pick(PLACES);
    practiceIds.push(id);
    w.practices.write(
      {
        'Practice ID': id,
        'Practice Name': name,
        Website: rng.chance(0.8) ? `www.${name.toLowerCase().replace(/[^a-z]+/g, '')}.example.com` : '',
        Industry: rng.chance(0.7) ? 'Healthcare' : '',
        'Parent Practice ID': i > 0 && rng.chance(0.6) ? 'PR01' : '',
        Phone: phone(rng, place.area),
        Address: `${rng.int(10, 999)} Main St`,
        City: place.city,
        State: place.state,
        Zip: place.zip,
      },
      null,
    );
  }

  const { providers, members } = makeProviders(rng, 4 + Math.min(20, Math.floor(ctx.patients / 1000)), 'DR');
  ctx.members.push(...members);
  ctx.facts.providersMatchingMembers = providers.filter((p) => p.isMember).length;
  ctx.facts.providersWithoutMember = providers.filter((p) => !p.isMember).length;
  for (const p of providers) {
    writeProvider(w.providers, p, {
      'Provider ID': p.id,
      'Provider Name': `${p.lastName}, ${p.firstName}`,
      Email: p.sourceEmail,
      Specialty: p.specialty,
      Credentials: p.credentials,
      Phone: phone(rng, '312'),
      'Practice ID': rng.pick(practiceIds),
    });
  }

  const factory = new PatientFactory(rng);
  const orphanRng = ctx.fork('properties-of-rejected-patients');
  const seenEmails = new Set<string>();
  let payerSeq = 0;
  let caseSeq = 0;
  let apptSeq = 0;
  let claimSeq = 0;
  let noteSeq = 0;
  let docSeq = 0;
  let documentFiles = 0;
  let missingFiles = 0;

  for (let i = 0; i < ctx.patients; i++) {
    const p: Patient = factory.next();
    const acct = String(100001 + i);
    const practice = rng.pick(practiceIds);
    const defect = w.patients.nextDefect();
    const warnings: string[] = [];
    const normalized = p.email.trim().toLowerCase();
    if (!rejecting(defect) && normalized !== '') {
      if (seenEmails.has(normalized)) warnings.push('SHARED_EMAIL');
      seenEmails.add(normalized);
    }
    let zip: string = p.household.place.zip;
    if (zip.startsWith('0') && rng.chance(0.7)) {
      zip = zip.replace(/^0+/, '');
      if (!rejecting(defect)) warnings.push('ZIP_RESTORED');
    }
    w.patients.write(
      {
        'Pt Acct #': acct,
        'Pt Last Name': p.lastName,
        'Pt First Name': p.firstName,
        'Pt MI': p.middleInitial,
        'Pt DOB': mdy(p.birth),
        'Pt SSN': rng.chance(0.6) ? `000-00-${String(rng.int(0, 9999)).padStart(4, '0')}` : '',
        'Pt Email': p.email,
        'Pt Home Phone': p.household.homePhone,
        'Pt Cell Phone': p.cellPhone,
        'Pt Address 1': p.household.street,
        'Pt Address 2': rng.chance(0.15) ? `Apt ${rng.int(1, 40)}` : '',
        'Pt City': p.household.place.city,
        'Pt State': p.household.place.state,
        'Pt Zip': zip,
        'Pt Occupation': rng.pick(OCCUPATIONS),
        'Practice ID': practice,
        'Date Created': mdyTime(p.created),
      },
      defect,
      warnings,
    );
    if (rejecting(defect)) {
      // The vendor exports the properties of every patient: these are skipped PIVOTED.
      // MALFORMED_ROW patients are excluded: their account number is unreadable anyway.
      if (defect !== 'MALFORMED_ROW')
        for (const prop of APMS_CUSTOM_PROPERTIES)
          if (orphanRng.chance(0.45))
            w.customProperties.writeSkipped(
              { PatientID: acct, PropertyName: prop.name, PropertyValue: propertyValue(orphanRng, prop) },
              'PIVOTED',
            );
      continue;
    }

    // Insurance payer coverage (most patients have one).
    let payerId = '';
    if (rng.chance(0.8)) {
      const d = w.insurancePayers.nextDefect();
      payerSeq++;
      const id = `PY${String(payerSeq).padStart(6, '0')}`;
      if (!rejecting(d)) payerId = id;
      w.insurancePayers.write(
        {
          'Payer ID': id,
          'Pt Acct #': acct,
          'Payer Name': rng.pick([
            'Aetna',
            'Cigna',
            'Humana',
            'Blue Cross Blue Shield',
            'UnitedHealthcare',
            'Kaiser',
          ]),
          'Policy Type': rng.pick(APMS_POLICY_TYPES),
          'Policy #': `POL-${rng.int(100000, 999999)}`,
          'Group #': rng.chance(0.7) ? `GRP${rng.int(1000, 9999)}` : '',
          'Coverage Notes': rng.chance(0.4) ? 'Deductible met; "in-network" only, café benefits n/a' : '',
          'Effective Date': mdy(daysAgo(rng, 30, 2000)),
        },
        d,
      );
    }

    for (let k = rng.count(0.6); k > 0; k--) {
      const d = w.cases.nextDefect();
      caseSeq++;
      const billed = rng.int(150, 25_000) + rng.int(0, 99) / 100;
      const status = rng.pick(APMS_CASE_STATUSES);
      const opened = daysAgo(rng, 5, 1500);
      w.cases.write(
        {
          'Case #': String(500000 + caseSeq),
          'Pt Acct #': acct,
          'Practice ID': practice,
          'Case Name': `${p.lastName} – ${rng.pick(APMS_CASE_TYPES)} ${caseSeq}`,
          'Case Type': rng.pick(APMS_CASE_TYPES),
          'Case Status': status,
          'Billed Amount': dollars(billed),
          'Expected Reimbursement': dollars(Math.round(billed * 70) / 100),
          'Opened Date': mdy(opened),
          'Closed Date': status.startsWith('Closed') ? mdy(opened + rng.int(1, 200) * 86_400_000) : '',
        },
        d,
      );
    }

    for (let k = rng.count(3); k > 0; k--) {
      const d = w.appointments.nextDefect();
      apptSeq++;
      const offset = rng.int(-900, 120);
      const when = clinicTime(rng, offset);
      const status =
        offset < 0
          ? rng.weighted([
              ['Completed', 8],
              ['Cancelled', 1],
              ['No Show', 1],
            ] as const)
          : rng.pick(['Scheduled', 'Confirmed'] as const);
      const provider = rng.pick(providers);
      w.appointments.write(
        {
          'Appt ID': String(700000 + apptSeq),
          'Pt Acct #': acct,
          'Practice ID': practice,
          'Appt Date': mdyTime(when).slice(0, 16),
          'Appt Type': rng.pick(APMS_APPT_TYPES),
          'Provider Email': provider.sourceEmail,
          'Appt Status': status,
          'Completed Date': status === 'Completed' ? mdy(when) : '',
          'Appt Notes': rng.chance(0.3) ? noteText(rng) : '',
        },
        d,
      );
    }

    for (let k = rng.count(1.2); k > 0; k--) {
      const d = w.claims.nextDefect();
      claimSeq++;
      const amount = rng.int(40, 4000) + rng.int(0, 99) / 100;
      const status = APMS_CLAIM_STATUSES[claimSeq % APMS_CLAIM_STATUSES.length] as string;
      const service = daysAgo(rng, 10, 1200);
      w.claims.write(
        {
          'Claim #': `CLM${String(claimSeq).padStart(7, '0')}`,
          'Pt Acct #': acct,
          'Practice ID': practice,
          'Payer ID': payerId,
          'Claim Amount': dollars(amount),
          'Paid Amount':
            status === 'Paid'
              ? dollars(amount)
              : status === 'Partially Paid'
                ? dollars(Math.round(amount * 50) / 100)
                : '',
          'Claim Status': status,
          'Claim Date': mdy(service + rng.int(1, 14) * 86_400_000),
          'Date of Service': mdy(service),
        },
        d,
      );
    }

    for (let k = rng.count(1.5); k > 0; k--) {
      const d = w.notes.nextDefect();
      noteSeq++;
      const author = rng.pick(providers);
      w.notes.write(
        {
          'Note ID': String(900000 + noteSeq),
          'Pt Acct #': acct,
          'Note Date': mdyTime(daysAgo(rng, 1, 1500) + rng.int(28_800, 64_800) * 1000),
          Author: `${author.firstName} ${author.lastName}, ${author.credentials}`,
          'Note Type': rng.pick(APMS_NOTE_TYPES),
          'Note Text': noteText(rng),
        },
        d,
      );
    }

    for (let k = rng.count(0.35); k > 0; k--) {
      const d = w.documents.nextDefect();
      docSeq++;
      const type = rng.pick(APMS_DOCUMENT_TYPES);
      const ext = rng.pick(['txt', 'pdf', 'png'] as const);
      const docId = `DOC${String(docSeq).padStart(6, '0')}`;
      const fileName =
        d === 'MISSING_REQUIRED' ? '' : `${docId}_${type.replace(/\s+/g, '-').toLowerCase()}.${ext}`;
      const body =
        ext === 'txt'
          ? Buffer.from(
              `${type} for account ${acct}\nScanned by front desk — synthetic test document.\n`,
              'utf8',
            )
          : ext === 'pdf'
            ? pdfBytes(type)
            : pngBytes(rng);
      if (fileName !== '' && d !== 'MISSING_FILE') {
        ctx.writeDocument(fileName, body);
        documentFiles++;
      } else {
        missingFiles++;
      }
      w.documents.write(
        {
          'Doc ID': docId,
          'Pt Acct #': acct,
          'Document Name': `${type} — ${p.firstName} ${p.lastName}`,
          'File Name': fileName,
          'Document Type': type,
          // Typed in by staff from the paper original: ISO from the date picker when clean.
          'Document Date': iso(daysAgo(rng, 1, 2000)),
          Uploaded: mdyTime(daysAgo(rng, 0, 1000) + rng.int(28_800, 64_800) * 1000),
        },
        d,
      );
    }

    for (const prop of APMS_CUSTOM_PROPERTIES) {
      if (!rng.chance(0.45)) continue;
      const d = w.customProperties.nextDefect();
      const value = propertyValue(rng, prop);
      w.customProperties.write({ PatientID: acct, PropertyName: prop.name, PropertyValue: value }, d);
    }
  }

  const workflows = [
    [
      'Appointment Reminder 48h',
      'Appointment scheduled',
      'status = Scheduled',
      'Send SMS 48h before; send email 24h before',
    ],
    ['Recall Due Notice', 'Recall date reached', 'no future appointment', 'Send postcard; add call task'],
    [
      'Claim Denial Follow-up',
      'Claim status changed',
      'status = Denied',
      'Create billing task; notify office manager',
    ],
    ['Birthday Greeting', 'Daily 9:00', 'birthday = today', 'Send email "Happy birthday, {FirstName}!"'],
    [
      'Balance Reminder',
      'Statement generated',
      'balance > $50',
      'Send statement email, repeat after 30 days',
    ],
    ['New Patient Welcome', 'Patient created', 'none', 'Send intake forms link; create intake task'],
  ] as const;
  workflows.forEach(([name, trigger, conditions, actions], i) => {
    w.workflows.writeSkipped(
      {
        'Workflow ID': `WF${String(i + 1).padStart(3, '0')}`,
        'Workflow Name': name,
        Trigger: trigger,
        Conditions: conditions,
        Actions: actions,
        Active: i % 4 === 3 ? 'No' : 'Yes',
        'Last Modified': mdyTime(daysAgo(rng, 10, 700)),
      },
      'NOT_MIGRATED_WORKFLOW',
    );
  });

  ctx.facts.documentFiles = documentFiles;
  ctx.facts.documentRowsWithoutFile = missingFiles;
  for (const writer of Object.values(w)) writer.close();
}
