import type { GenerateContext } from './context.ts';
import type { EntityLayout, RowDefect } from './entity-writer.ts';
import {
  DENTAL_PROCEDURES,
  INSURANCE_CARRIERS,
  OCCUPATIONS,
  REFERRAL_SOURCES,
  TOOTH_SURFACES,
} from './vocab.ts';
import {
  clinicTime,
  daysAgo,
  iso,
  isoTime,
  makeProviders,
  mdy,
  noteText,
  PatientFactory,
  writeProvider,
} from './world.ts';

/**
 * Practice by Numbers export layout: snake_case file names, Title Case headers, minimal
 * quoting, LF line ends, ISO timestamps, plain decimal amounts, US birthdates. The vendor
 * documents no format; these are the plausible report columns the `pbn` profile reads.
 */
export const PBN_LAYOUTS = {
  providers: {
    entity: 'providers',
    file: 'providers.csv',
    idColumn: 'Provider ID',
    columns: ['Provider ID', 'Provider Name', 'Email', 'Role', 'Specialty'],
    defects: {},
  },
  patients: {
    entity: 'patients',
    file: 'patients.csv',
    idColumn: 'Patient ID',
    columns: [
      'Patient ID',
      'First Name',
      'Last Name',
      'Email',
      'Cell Phone',
      'Home Phone',
      'Address 1',
      'Address 2',
      'City',
      'State',
      'Zip',
      'Birthdate',
      'Occupation',
      'Provider Email',
      'Insurance Carrier',
      'Referral Source',
      'Treatment Coordinator',
      'Recall Status',
      'Last Cleaning Date',
      'HIPAA Consent Date',
      'Created Date',
      'Modified Date',
    ],
    defects: {
      MISSING_REQUIRED: ['First Name', 'Last Name'],
      INVALID_EMAIL: 'Email',
      INVALID_PHONE: 'Cell Phone',
      INVALID_DATE: 'Birthdate',
      AMBIGUOUS_DATE: 'Last Cleaning Date',
      DUPLICATE_SOURCE_ID: true,
      UNMAPPED_VALUE: { column: 'Recall Status', value: 'Snoozed' },
      VALUE_TOO_LONG: { column: 'Treatment Coordinator', length: 300 },
      MALFORMED_ROW: true,
      ENCODING_ERROR: 'First Name',
    },
  },
  appointments: {
    entity: 'appointments',
    file: 'appointments.csv',
    idColumn: 'Appointment ID',
    columns: [
      'Appointment ID',
      'Patient ID',
      'Appointment Date',
      'Appointment Type',
      'Provider',
      'Provider Email',
      'Status',
      'Notes',
      'Created Date',
      'Modified Date',
    ],
    defects: {
      MISSING_REQUIRED: 'Appointment Date',
      INVALID_DATE: 'Appointment Date',
      DUPLICATE_SOURCE_ID: true,
      ORPHAN_REFERENCE: 'Patient ID',
      UNMAPPED_VALUE: { column: 'Status', value: 'Rescheduled-Pending' },
      VALUE_TOO_LONG: { column: 'Appointment Type', length: 300 },
      MALFORMED_ROW: true,
      ENCODING_ERROR: 'Notes',
    },
  },
  treatmentPlans: {
    entity: 'treatmentPlans',
    file: 'treatment_plans.csv',
    idColumn: 'Treatment Plan ID',
    columns: [
      'Treatment Plan ID',
      'Patient ID',
      'Plan Name',
      'Status',
      'Estimated Cost',
      'Actual Cost',
      'Presented Date',
      'Accepted Date',
    ],
    defects: {
      MISSING_REQUIRED: 'Plan Name',
      INVALID_DATE: 'Presented Date',
      DUPLICATE_SOURCE_ID: true,
      ORPHAN_REFERENCE: 'Patient ID',
      UNMAPPED_VALUE: { column: 'Status', value: 'On Hold' },
      VALUE_TOO_LONG: { column: 'Plan Name', length: 300 },
      MALFORMED_ROW: true,
      ENCODING_ERROR: 'Plan Name',
    },
  },
  treatmentPlanLineItems: {
    entity: 'treatmentPlanLineItems',
    file: 'treatment_plan_line_items.csv',
    idColumn: 'Line Item ID',
    columns: [
      'Line Item ID',
      'Treatment Plan ID',
      'Patient ID',
      'Procedure Code',
      'Description',
      'Tooth',
      'Surface',
      'Fee',
      'Status',
    ],
    defects: {
      MISSING_REQUIRED: 'Procedure Code',
      DUPLICATE_SOURCE_ID: true,
      ORPHAN_REFERENCE: 'Treatment Plan ID',
      UNMAPPED_VALUE: { column: 'Status', value: 'Deferred' },
      MALFORMED_ROW: true,
      ENCODING_ERROR: 'Description',
    },
  },
  billingRecords: {
    entity: 'billingRecords',
    file: 'patient_balances.csv',
    idColumn: 'Billing Record ID',
    columns: [
      'Billing Record ID',
      'Patient ID',
      'Current Balance',
      'Payment Plan Status',
      'Last Payment Date',
      'Last Payment Amount',
      'Statement Date',
    ],
    defects: {
      MISSING_REQUIRED: 'Current Balance',
      INVALID_DATE: 'Last Payment Date',
      DUPLICATE_SOURCE_ID: true,
      ORPHAN_REFERENCE: 'Patient ID',
      UNMAPPED_VALUE: { column: 'Payment Plan Status', value: 'Suspended' },
      MALFORMED_ROW: true,
    },
  },
  notes: {
    entity: 'notes',
    file: 'clinical_notes.csv',
    idColumn: 'Note ID',
    columns: ['Note ID', 'Patient ID', 'Note Type', 'Note', 'Created By', 'Created Date'],
    defects: {
      MISSING_REQUIRED: 'Note',
      INVALID_DATE: 'Created Date',
      DUPLICATE_SOURCE_ID: true,
      ORPHAN_REFERENCE: 'Patient ID',
      VALUE_TOO_LONG: { column: 'Note Type', length: 300 },
      MALFORMED_ROW: true,
      ENCODING_ERROR: 'Note',
    },
  },
  insuranceClaims: {
    entity: 'insuranceClaims',
    file: 'insurance_claims.csv',
    idColumn: 'Claim ID',
    columns: [
      'Claim ID',
      'Patient ID',
      'Carrier',
      'Status',
      'Submitted Date',
      'Submitted Amount',
      'Paid Amount',
      'Adjustment Amount',
      'Paid Date',
    ],
    defects: {
      MISSING_REQUIRED: 'Submitted Date',
      INVALID_DATE: 'Paid Date',
      DUPLICATE_SOURCE_ID: true,
      ORPHAN_REFERENCE: 'Patient ID',
      UNMAPPED_VALUE: { column: 'Status', value: 'Appeal Filed' },
      MALFORMED_ROW: true,
    },
  },
  communications: {
    entity: 'communications',
    file: 'communication_log.csv',
    idColumn: 'Communication ID',
    columns: ['Communication ID', 'Patient ID', 'Type', 'Channel', 'Message', 'Sent At', 'Delivery Status'],
    defects: {
      MISSING_REQUIRED: 'Sent At',
      INVALID_DATE: 'Sent At',
      DUPLICATE_SOURCE_ID: true,
      ORPHAN_REFERENCE: 'Patient ID',
      UNMAPPED_VALUE: { column: 'Delivery Status', value: 'Queued-Retry' },
      MALFORMED_ROW: true,
      ENCODING_ERROR: 'Message',
    },
  },
} as const satisfies Record<string, EntityLayout>;

export const PBN_RECALL_STATUSES = ['Due', 'Overdue', 'Scheduled', 'Inactive', 'Not Due'] as const;
export const PBN_APPOINTMENT_TYPES = [
  'New Patient Exam',
  'Prophy',
  'Perio Maintenance',
  'Crown Prep',
  'Emergency',
  'Ortho Adjustment',
  'Consult',
] as const;
export const PBN_APPOINTMENT_STATUSES = [
  'Scheduled',
  'Confirmed',
  'Completed',
  'Broken',
  'Cancelled',
] as const;
export const PBN_PLAN_STATUSES = ['Proposed', 'Accepted', 'In Progress', 'Completed', 'Declined'] as const;
export const PBN_LINE_ITEM_STATUSES = ['Proposed', 'Scheduled', 'Completed', 'Declined'] as const;
export const PBN_PAYMENT_PLAN_STATUSES = ['None', 'Active', 'Completed', 'Defaulted'] as const;
export const PBN_CLAIM_STATUSES = ['Submitted', 'Pending', 'Paid', 'Denied'] as const;
export const PBN_NOTE_TYPES = ['Clinical', 'Hygiene', 'Treatment', 'General', 'Financial'] as const;
export const PBN_COMMUNICATION_TYPES = [
  'Appointment Reminder',
  'Recall Message',
  'Follow-up',
  'Birthday Greeting',
  'Review Request',
] as const;
export const PBN_CHANNELS = ['SMS', 'Email', 'Voice'] as const;
export const PBN_DELIVERY_STATUSES = ['Delivered', 'Failed', 'Bounced', 'Opened', 'Pending'] as const;

const rejecting = (d: RowDefect | null): boolean => d !== null && d !== 'DUPLICATE_SOURCE_ID';
const money = (n: number): string => n.toFixed(2);

/** Generates every PbN entity file, patient by patient, in constant memory. */
export function generatePbn(ctx: GenerateContext): void {
  const { rng } = ctx;
  const L = PBN_LAYOUTS;
  const w = {
    providers: ctx.open(L.providers),
    patients: ctx.open(L.patients),
    appointments: ctx.open(L.appointments),
    treatmentPlans: ctx.open(L.treatmentPlans),
    treatmentPlanLineItems: ctx.open(L.treatmentPlanLineItems),
    billingRecords: ctx.open(L.billingRecords),
    notes: ctx.open(L.notes),
    insuranceClaims: ctx.open(L.insuranceClaims),
    communications: ctx.open(L.communications),
  };

  const { providers, members } = makeProviders(rng, 4 + Math.min(20, Math.floor(ctx.patients / 1000)), '');
  ctx.members.push(...members);
  ctx.facts.providersMatchingMembers = providers.filter((p) => p.isMember).length;
  ctx.facts.providersWithoutMember = providers.filter((p) => !p.isMember).length;
  providers.forEach((p, i) => {
    writeProvider(w.providers, p, {
      'Provider ID': String(i + 1),
      'Provider Name': `Dr. ${p.firstName} ${p.lastName}`,
      Email: p.sourceEmail,
      Role: i % 4 === 3 ? 'Hygienist' : 'Dentist',
      Specialty: p.specialty,
    });
  });
  const coordinators = ['Maria', 'Devon', 'Aiko', 'Grace L.', 'Sam'] as const;

  const factory = new PatientFactory(rng);
  const seenEmails = new Set<string>();
  let apptSeq = 0;
  let planSeq = 0;
  let itemSeq = 0;
  let billSeq = 0;
  let noteSeq = 0;
  let claimSeq = 0;
  let commSeq = 0;

  for (let i = 0; i < ctx.patients; i++) {
    const p = factory.next();
    const id = String(10001 + i);
    const provider = rng.pick(providers);
    const defect = w.patients.nextDefect();
    const warnings: string[] = [];
    const normalized = p.email.trim().toLowerCase();
    if (!rejecting(defect) && normalized !== '') {
      if (seenEmails.has(normalized)) warnings.push('SHARED_EMAIL');
      seenEmails.add(normalized);
    }
    w.patients.write(
      {
        'Patient ID': id,
        'First Name': p.firstName,
        'Last Name': p.lastName,
        Email: p.email,
        'Cell Phone': p.cellPhone,
        'Home Phone': p.household.homePhone,
        'Address 1': p.household.street,
        'Address 2': rng.chance(0.1) ? `Unit ${rng.int(1, 30)}` : '',
        City: p.household.place.city,
        State: p.household.place.state,
        Zip: p.household.place.zip,
        Birthdate: mdy(p.birth),
        Occupation: rng.pick(OCCUPATIONS),
        'Provider Email': provider.sourceEmail,
        'Insurance Carrier': rng.pick(INSURANCE_CARRIERS),
        'Referral Source': rng.chance(0.85) ? rng.pick(REFERRAL_SOURCES) : '',
        'Treatment Coordinator': rng.chance(0.7) ? rng.pick(coordinators) : '',
        'Recall Status': rng.pick(PBN_RECALL_STATUSES),
        // Free-entered custom field: ISO from the date picker when clean (see the profile's dateOrder).
        'Last Cleaning Date': rng.chance(0.75) ? iso(daysAgo(rng, 20, 900)) : '',
        'HIPAA Consent Date': rng.chance(0.9) ? mdy(daysAgo(rng, 30, 3000)) : '',
        'Created Date': isoTime(p.created),
        'Modified Date': isoTime(p.modified),
      },
      defect,
      warnings,
    );
    if (rejecting(defect)) continue;

    for (let k = rng.count(2.5); k > 0; k--) {
      const d = w.appointments.nextDefect();
      apptSeq++;
      const offset = rng.int(-900, 120);
      const when = clinicTime(rng, offset);
      const status =
        offset < 0
          ? rng.weighted([
              ['Completed', 8],
              ['Broken', 1],
              ['Cancelled', 1],
            ] as const)
          : rng.pick(['Scheduled', 'Confirmed'] as const);
      const doc = rng.pick(providers);
      const created = Math.min(when, p.created) + rng.int(0, 30) * 86_400_000;
      w.appointments.write(
        {
          'Appointment ID': String(200000 + apptSeq),
          'Patient ID': id,
          'Appointment Date': isoTime(when).slice(0, 16),
          'Appointment Type': rng.pick(PBN_APPOINTMENT_TYPES),
          Provider: `Dr. ${doc.lastName}`,
          'Provider Email': doc.sourceEmail,
          Status: status,
          Notes: rng.chance(0.25) ? noteText(rng) : '',
          'Created Date': isoTime(created),
          'Modified Date': isoTime(created + rng.int(0, 5) * 86_400_000),
        },
        d,
      );
    }

    for (let k = rng.count(0.4); k > 0; k--) {
      const d = w.treatmentPlans.nextDefect();
      planSeq++;
      const planId = String(300000 + planSeq);
      const status = PBN_PLAN_STATUSES[planSeq % PBN_PLAN_STATUSES.length] as string;
      const procs = rng.int(1, 4);
      let estimate = 0;
      const items: Array<(typeof DENTAL_PROCEDURES)[number]> = [];
      for (let j = 0; j < procs; j++) {
        const proc = rng.pick(DENTAL_PROCEDURES);
        items.push(proc);
        estimate += proc.fee;
      }
      const presented = daysAgo(rng, 5, 800);
      w.treatmentPlans.write(
        {
          'Treatment Plan ID': planId,
          'Patient ID': id,
          'Plan Name': `${items[0]?.description ?? 'Treatment'} – phase ${rng.int(1, 3)}`,
          Status: status,
          'Estimated Cost': money(estimate),
          'Actual Cost': status === 'Completed' ? money(Math.round(estimate * 0.93 * 100) / 100) : '',
          'Presented Date': mdy(presented),
          'Accepted Date':
            status === 'Proposed' || status === 'Declined'
              ? ''
              : mdy(presented + rng.int(0, 30) * 86_400_000),
        },
        d,
      );
      if (rejecting(d)) continue;
      for (const proc of items) {
        const li = w.treatmentPlanLineItems.nextDefect();
        itemSeq++;
        const surface = rng.pick(TOOTH_SURFACES);
        w.treatmentPlanLineItems.write(
          {
            'Line Item ID': String(400000 + itemSeq),
            'Treatment Plan ID': planId,
            'Patient ID': id,
            'Procedure Code': proc.code,
            Description: proc.description,
            Tooth: surface === '' ? '' : String(rng.int(1, 32)),
            Surface: surface,
            Fee: money(proc.fee),
            Status: rng.pick(PBN_LINE_ITEM_STATUSES),
          },
          li,
        );
      }
    }

    if (rng.chance(0.5)) {
      const d = w.billingRecords.nextDefect();
      billSeq++;
      const plan = rng.pick(PBN_PAYMENT_PLAN_STATUSES);
      const paid = rng.chance(0.7);
      w.billingRecords.write(
        {
          'Billing Record ID': String(500000 + billSeq),
          'Patient ID': id,
          'Current Balance': money(rng.chance(0.3) ? 0 : rng.int(5, 3000) + rng.int(0, 99) / 100),
          'Payment Plan Status': plan,
          'Last Payment Date': paid ? mdy(daysAgo(rng, 1, 400)) : '',
          'Last Payment Amount': paid ? money(rng.int(10, 800)) : '',
          'Statement Date': mdy(daysAgo(rng, 1, 60)),
        },
        d,
      );
    }

    for (let k = rng.count(1.2); k > 0; k--) {
      const d = w.notes.nextDefect();
      noteSeq++;
      const author = rng.pick(providers);
      w.notes.write(
        {
          'Note ID': String(600000 + noteSeq),
          'Patient ID': id,
          'Note Type': rng.pick(PBN_NOTE_TYPES),
          Note: noteText(rng),
          'Created By': `${author.firstName} ${author.lastName}`,
          'Created Date': isoTime(daysAgo(rng, 1, 1500) + rng.int(28_800, 64_800) * 1000),
        },
        d,
      );
    }

    for (let k = rng.count(0.9); k > 0; k--) {
      const d = w.insuranceClaims.nextDefect();
      claimSeq++;
      const status = PBN_CLAIM_STATUSES[claimSeq % PBN_CLAIM_STATUSES.length] as string;
      const amount = rng.int(60, 3000) + rng.int(0, 99) / 100;
      const submitted = daysAgo(rng, 5, 900);
      const paid = status === 'Paid';
      w.insuranceClaims.write(
        {
          'Claim ID': String(700000 + claimSeq),
          'Patient ID': id,
          Carrier: rng.pick(INSURANCE_CARRIERS.slice(0, -1)),
          Status: status,
          'Submitted Date': mdy(submitted),
          'Submitted Amount': money(amount),
          'Paid Amount': paid ? money(Math.round(amount * 80) / 100) : '',
          'Adjustment Amount': paid ? money(Math.round(amount * 20) / 100) : '',
          'Paid Date': paid ? mdy(submitted + rng.int(7, 60) * 86_400_000) : '',
        },
        d,
      );
    }

    for (let k = rng.count(2); k > 0; k--) {
      const d = w.communications.nextDefect();
      commSeq++;
      const type = rng.pick(PBN_COMMUNICATION_TYPES);
      const channel = rng.pick(PBN_CHANNELS);
      w.communications.write(
        {
          'Communication ID': String(800000 + commSeq),
          'Patient ID': id,
          Type: type,
          Channel: channel,
          Message: `Hi ${p.firstName}, ${type.toLowerCase()} from your dental office. Reply C to confirm, R to reschedule.`,
          'Sent At': isoTime(daysAgo(rng, 0, 700) + rng.int(28_800, 72_000) * 1000),
          'Delivery Status': rng.pick(PBN_DELIVERY_STATUSES),
        },
        d,
      );
    }
  }
  for (const writer of Object.values(w)) writer.close();
}
