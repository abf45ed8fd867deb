import { describe, expect, it } from 'vitest';
import {
  inferColumnType,
  normalizeHeader,
  proposeMapping,
} from '../../../lambdas/core/mapping/auto-mapper.ts';
import { compileEntity } from '../../../lambdas/core/mapping/map-record.ts';
import { parseMappingSpec } from '../../../lambdas/core/mapping/spec.ts';

describe('normalizeHeader', () => {
  it.each([
    ['Pt First Nm', 'patient first name'],
    ['E-Mail Addr', 'email address'],
    ['Mobile #', 'mobile number'],
    ['Zip Cd', 'zip'],
    ['D.O.B.', 'birth date'],
    ['PatientID', 'patient id'],
    ['Addr1', 'address 1'],
  ])('normalizes %s', (header, expected) => {
    expect(normalizeHeader(header)).toBe(expected);
  });
});

describe('inferColumnType', () => {
  it('infers emails, phones, money, booleans, numbers and SSNs from values', () => {
    expect(inferColumnType(['a@x.org', 'b@y.com', '']).kind).toBe('email');
    expect(inferColumnType(['(212) 555-0100', '917.555.0199']).kind).toBe('phone');
    expect(inferColumnType(['$12.00', '(3.50)', '$1,200.00']).kind).toBe('money');
    expect(inferColumnType(['Y', 'N', 'Y']).kind).toBe('boolean');
    expect(inferColumnType(['12', '7', '1,024']).kind).toBe('number');
    expect(inferColumnType(['123-45-6789', '987-65-4321']).kind).toBe('ssn');
  });
  it('infers dates with their order, and ambiguous when values cannot tell', () => {
    expect(inferColumnType(['03/04/2021', '12/31/2020'])).toMatchObject({ kind: 'date', dateOrder: 'MDY' });
    expect(inferColumnType(['03/04/2021', '11/12/2020'])).toMatchObject({
      kind: 'date',
      dateOrder: 'ambiguous',
    });
    expect(inferColumnType(['2021-03-04 10:00', '2021-03-05 11:30'])).toMatchObject({ kind: 'dateTime' });
  });
  it('turns small repeated value sets into SELECT options and free text into text', () => {
    const statuses = ['Due', 'Overdue', 'Due', 'Scheduled', 'Due', 'Overdue', 'Scheduled', 'Due', 'Due'];
    expect(inferColumnType(statuses)).toMatchObject({
      kind: 'select',
      options: ['Due', 'Overdue', 'Scheduled'],
    });
    expect(inferColumnType(['Prefers mornings', 'Anxious about needles', 'Wheelchair'])).toMatchObject({
      kind: 'text',
    });
  });
});

// A layout the auto-mapper was not written for: renamed, reordered, abbreviated columns.
const HEADER = [
  'Zip Cd',
  'Pt Last Nm',
  'Chart #',
  'E-Mail Addr',
  'Pt First Nm',
  'D.O.B.',
  'Mobile #',
  'Home Tel',
  'Street Addr',
  'Town',
  'ST',
  'Soc Sec No',
  'Recall Status',
  'Last Cleaning Dt',
  'Outstanding Bal',
  'HIPAA Consent',
  'Office ID',
];
const SAMPLE = Array.from({ length: 12 }, (_, i) => [
  i % 2 ? '6103' : '10001',
  `Lastname${i}`,
  `C${100 + i}`,
  `pt${i}@example.org`,
  `First${i}`,
  `${1 + (i % 12)}/${13 + i}/19${50 + i}`,
  `(212) 555-01${10 + i}`,
  i % 2 ? '' : `917-555-02${10 + i}`,
  `${i} Elm St`,
  'Hartford',
  'CT',
  `900-00-00${10 + i}`,
  ['Due', 'Overdue', 'Scheduled'][i % 3] ?? '',
  `0${1 + (i % 9)}/2${i % 9}/2024`,
  `$${i}0.00`,
  i % 2 ? 'Y' : 'N',
  `OF${i % 3}`,
]);
const OFFICES = {
  stem: 'Offices',
  header: ['Office ID', 'Office Name', 'Web Site'],
  sample: [['OF0', 'A Dental', 'www.a-dental.com']],
};
const VISITS = {
  stem: 'ApptHistory',
  header: ['Appt Dt', 'Appt Type', 'Chart #', 'Comments', 'Visit No'],
  sample: [['2024-03-04 09:00', 'Cleaning', 'C100', 'Bring x-rays', 'V1']],
};

describe('proposeMapping', () => {
  const proposal = proposeMapping([
    { stem: 'PtDemographics', header: HEADER, sample: SAMPLE },
    OFFICES,
    VISITS,
  ]);
  const patients = proposal.spec.entities.patients;

  it('maps the columns a person would map onto standard person fields', () => {
    expect(patients?.target).toBe('person');
    expect(patients?.idColumn).toBe('Chart #');
    expect(patients?.fields?.name).toEqual({ from: ['Pt First Nm', 'Pt Last Nm'], transform: 'fullName' });
    expect(patients?.fields?.emails).toEqual({ from: 'E-Mail Addr', transform: 'email' });
    expect(patients?.fields?.phones).toEqual({ from: ['Mobile #', 'Home Tel'], transform: 'phones' });
    // People have no standard address (and `address` is reserved): a custom ADDRESS field.
    expect(patients?.fields?.homeAddress).toEqual({
      from: { street1: 'Street Addr', city: 'Town', state: 'ST', postcode: 'Zip Cd' },
      transform: 'address',
      custom: { type: 'ADDRESS', label: 'Address' },
    });
    expect(patients?.relations?.company).toMatchObject({
      entity: 'practices',
      from: 'Office ID',
      joinColumn: 'companyId',
    });
  });

  it('reports the other columns as custom fields with inferred types', () => {
    const byColumn = Object.fromEntries(
      proposal.unmapped.map((u) => [u.column, u.proposedCustomField?.type]),
    );
    expect(byColumn).toEqual({
      'D.O.B.': 'DATE',
      'Recall Status': 'SELECT',
      'Last Cleaning Dt': 'DATE',
      'Outstanding Bal': 'CURRENCY',
      'HIPAA Consent': 'BOOLEAN',
    });
    expect(patients?.fields?.birthDate).toMatchObject({
      transform: 'date',
      validate: 'birthDate',
      dateOrder: 'MDY',
    });
  });

  it('excludes the SSN column and reports it instead of mapping it', () => {
    expect(proposal.excluded).toEqual([
      { file: 'PtDemographics', column: 'Soc Sec No', rule: 'SSN column name' },
    ]);
    expect(JSON.stringify(patients)).not.toContain('Soc Sec No');
  });

  it('detects companies and tasks from file names and links tasks to patients', () => {
    expect(proposal.spec.entities.practices).toMatchObject({
      target: 'company',
      idColumn: 'Office ID',
      fields: { name: { from: 'Office Name' }, domainName: { from: 'Web Site', transform: 'links' } },
    });
    expect(proposal.spec.entities.appointments).toMatchObject({
      target: 'task',
      idColumn: 'Visit No',
      fields: {
        dueAt: { from: 'Appt Dt', transform: 'dateTime' },
        title: { from: 'Appt Type' },
        bodyV2: { from: 'Comments' },
      },
      targets: [{ entity: 'patients', from: 'Chart #' }],
    });
  });

  it('gives per-column confidence and proposes a spec that parses and compiles', () => {
    expect(proposal.confidence.patients?.['Pt First Nm']).toBe(1);
    expect(proposal.confidence.patients?.['Recall Status']).toBeLessThan(0.6);
    const spec = parseMappingSpec(proposal.spec, 'proposal');
    expect(() =>
      compileEntity('patients', spec.entities.patients!, { options: spec.options, now: 0 }),
    ).not.toThrow();
  });

  it('identifies rows of a file with no id column by a composite of the columns that tell them apart', () => {
    const r = proposeMapping([
      { stem: 'patients', header: ['Patient ID'], sample: [['P1'], ['P2']] },
      {
        stem: 'notes',
        header: ['Patient ID', 'Note Text'],
        sample: [
          ['P1', 'Called back'],
          ['P1', 'Left a message'],
          ['P2', 'Called back'],
        ],
      },
    ]);
    expect(r.spec.entities.notes?.idColumns).toEqual(['Patient ID', 'Note Text']);
    expect(r.confidence.notes?.['Patient ID']).toBeGreaterThanOrEqual(0.5);
    // Each part still feeds what it is: the patient reference stays a note target.
    expect(r.spec.entities.notes?.targets).toEqual([{ entity: 'patients', from: 'Patient ID' }]);
  });

  it('matches providers to workspace members first, by their own email column', () => {
    const r = proposeMapping([
      {
        stem: 'Providers',
        header: ['Provider ID', 'First Name', 'Last Name', 'Email'],
        sample: [
          ['DR1', 'Avery', 'Lind', 'avery@clinic.example'],
          ['DR2', 'Bo', 'Oka', 'bo@clinic.example'],
        ],
      },
    ]);
    expect(r.spec.entities.providers).toMatchObject({
      target: 'person',
      fields: { emails: { from: 'Email' } },
      skipIfMember: { from: 'Email' },
    });
  });

  it('turns an unknown file into a custom object', () => {
    const r = proposeMapping([
      { stem: 'sterilization_cycles', header: ['Cycle ID', 'Sterilizer'], sample: [['S1', 'Autoclave A']] },
    ]);
    expect(r.spec.entities.sterilizationCycles).toMatchObject({
      target: 'sterilizationCycle',
      idColumn: 'Cycle ID',
    });
    expect(r.spec.customObjects).toEqual([
      {
        nameSingular: 'sterilizationCycle',
        namePlural: 'sterilizationCycles',
        labelSingular: 'Sterilization cycle',
        labelPlural: 'Sterilization cycles',
      },
    ]);
  });

  it('reads treatment plans as opportunities and their line items as a custom object linked to the plan', () => {
    const r = proposeMapping([
      {
        stem: 'treatment_plans',
        header: ['Plan ID', 'Plan Name', 'Total Fee'],
        sample: [
          ['T1', 'Crowns', '$1,200.00'],
          ['T2', 'Implant', '$3,400.00'],
        ],
      },
      {
        stem: 'Tx Plan Items',
        header: ['Item ID', 'Plan ID', 'ADA Code'],
        sample: [
          ['I1', 'T1', 'D2740'],
          ['I2', 'T1', 'D2740'],
          ['I3', 'T2', 'D6010'],
        ],
      },
    ]);
    expect(r.spec.entities.treatmentPlans).toMatchObject({
      target: 'opportunity',
      idColumn: 'Plan ID',
      fields: { name: { from: 'Plan Name' }, amount: { from: 'Total Fee', transform: 'money' } },
    });
    expect(r.spec.entities.treatmentPlanItems?.target).toBe('treatmentPlanItem');
    expect(Object.values(r.spec.entities.treatmentPlanItems?.relations ?? {})).toEqual([
      expect.objectContaining({ entity: 'treatmentPlans', from: 'Plan ID' }),
    ]);
  });
});

describe('a communication log', () => {
  const patients = {
    stem: 'patients',
    header: ['Patient ID', 'First Name', 'Last Name'],
    sample: [
      ['P1', 'Ada', 'Reyes'],
      ['P2', 'Bo', 'Lind'],
      ['P3', 'Cy', 'Marsh'],
    ],
  };
  const log = {
    stem: 'Reminder Log',
    header: ['Message ID', 'Patient ID', 'Sent', 'Campaign', 'Delivery Status'],
    sample: [
      ['M1', 'P1', '2024-03-01 09:00', 'Recall', 'Delivered'],
      ['M2', 'P2', '2024-03-01 09:05', 'Recall', 'Failed'],
      ['M3', 'P3', '2024-03-02 10:00', 'Birthday', 'Queued'],
      ['M4', 'P1', '2024-03-02 10:05', 'Birthday', 'Confirmed'],
    ],
  };

  it('is a Communication task: the outcome sets its status and stays verbatim, the campaign titles it', () => {
    const { spec } = proposeMapping([patients, log]);
    const entity = spec.entities.communications;
    expect(entity?.target).toBe('task');
    expect(entity?.fields?.taskType?.value).toBe('Communication');
    expect(entity?.fields?.title?.from).toBe('Campaign');
    expect(entity?.fields?.dueAt?.from).toBe('Sent');
    // Sent, failed, confirmed: the attempt is over; queued: still to go out.
    expect(entity?.fields?.status).toMatchObject({
      from: 'Delivery Status',
      valueMap: { Delivered: 'DONE', Failed: 'DONE', Queued: 'TODO', Confirmed: 'DONE' },
      unmapped: 'default',
      default: 'DONE',
    });
    const kept = Object.values(entity?.fields ?? {}).find(
      (f) => f.from === 'Delivery Status' && f.custom?.type === 'SELECT',
    );
    expect(kept?.custom?.options?.map((o) => o.label)).toEqual([
      'Delivered',
      'Failed',
      'Queued',
      'Confirmed',
    ]);
  });

  it('leaves an appointment list reading "Confirmed" as a visit still to come', () => {
    const appointments = {
      stem: 'appointments',
      header: ['Appt ID', 'Patient ID', 'Appt Date', 'Status'],
      sample: [
        ['A1', 'P1', '2024-03-01 09:00', 'Confirmed'],
        ['A2', 'P2', '2024-03-01 10:00', 'Completed'],
        ['A3', 'P3', '2024-03-01 11:00', 'Scheduled'],
      ],
    };
    const { spec } = proposeMapping([patients, appointments]);
    expect(spec.entities.appointments?.fields?.status?.valueMap).toMatchObject({
      Confirmed: 'TODO',
      Completed: 'DONE',
    });
  });
});

describe('a date column and a time column', () => {
  it('make one date-time, read with the US date order the values show', () => {
    const { spec: input } = proposeMapping([
      { stem: 'patients', header: ['Patient ID', 'Name'], sample: [['P1', 'Ada Reyes']] },
      {
        stem: 'appointments',
        header: ['Appt ID', 'Patient ID', 'Appt Date', 'Appt Time', 'Reason'],
        sample: [
          ['A1', 'P1', '03/14/2024', '9:30 AM', 'Cleaning'],
          ['A2', 'P1', '04/02/2024', '2:15 PM', 'Exam'],
        ],
      },
    ]);
    expect(input.entities.appointments?.fields?.dueAt).toMatchObject({
      from: ['Appt Date', 'Appt Time'],
      transform: 'dateTime',
      dateOrder: 'MDY',
    });
    const spec = parseMappingSpec(input, 'proposal');
    const appointments = compileEntity('appointments', spec.entities.appointments!, {
      options: spec.options,
      now: 0,
    });
    const row = appointments.mapRow({
      'Appt ID': 'A2',
      'Patient ID': 'P1',
      'Appt Date': '04/02/2024',
      'Appt Time': '2:15 PM',
      Reason: 'Exam',
    });
    expect(row.ok && row.record.fields.dueAt).toBe('2024-04-02T14:15:00.000Z');
  });
});

describe('the date order of a known system', () => {
  const files = [
    {
      stem: 'patients',
      header: ['Patient ID', 'First Name', 'Last Name', 'Last Visit'],
      sample: [
        ['P1', 'Ada', 'Reyes', '03/04/2024'],
        ['P2', 'Bo', 'Lind', '05/06/2024'],
      ],
    },
  ];
  const order = (hints?: Parameters<typeof proposeMapping>[1]) =>
    Object.values(proposeMapping(files, hints).spec.entities.patients?.fields ?? {}).find(
      (f) => f.from === 'Last Visit',
    )?.dateOrder;

  it('reads a date column whose sampled values leave the order open in that order', () => {
    expect(order({ source: 'pbn', dateOrder: 'MDY' })).toBe('MDY');
  });
  it('leaves it open (an ambiguous value is rejected, not guessed) when the system is not known', () => {
    expect(order()).toBe('auto');
  });
});

describe('a file whose name says nothing', () => {
  it('is read as notes from a long free-text column beside a patient reference, not from its name', () => {
    const { spec } = proposeMapping([
      {
        stem: 'patients',
        header: ['Patient ID', 'First Name', 'Last Name'],
        sample: [['P1', 'Ada', 'Reyes']],
      },
      {
        stem: 'export_3',
        header: ['Entry', 'Patient ID', 'Entered', 'Text'],
        sample: [
          [
            'E1',
            'P1',
            '2024-03-04',
            'Patient reports sensitivity on the lower left molar when drinking cold water; no swelling, no pain on percussion. Recheck in two weeks.',
          ],
          [
            'E2',
            'P1',
            '2024-04-11',
            'Reviewed home care; recommended a soft brush and a fluoride rinse twice daily. Bleeding on probing reduced since the last visit in March.',
          ],
          [
            'E3',
            'P1',
            '2024-05-02',
            'Discussed the treatment plan and the estimate; patient will call back to schedule.',
          ],
        ],
      },
    ]);
    const notes = Object.values(spec.entities).find((e) => e.files?.includes('export_3.csv'));
    expect(notes?.target).toBe('note');
    expect(notes?.targets).toEqual([{ entity: 'patients', from: 'Patient ID' }]);
  });
});

describe('status values written as a code and a label', () => {
  it('are read by their label ("3 - Checked Out" is done, "o - Open" to do)', () => {
    const { spec } = proposeMapping([
      { stem: 'patients', header: ['Patient ID', 'Name'], sample: [['P1', 'Ada Reyes']] },
      {
        stem: 'appointments',
        header: ['Appt ID', 'Patient ID', 'Appt Date', 'Appt Status'],
        sample: [
          ['A1', 'P1', '2024-03-01 09:00', '3 - Checked Out'],
          ['A2', 'P1', '2024-03-02 09:00', 'o - Open'],
          ['A3', 'P1', '2024-03-03 09:00', '2 - Checked In'],
          ['A4', 'P1', '2024-03-04 09:00', 'x - Cancelled'],
        ],
      },
    ]);
    expect(spec.entities.appointments?.fields?.status?.valueMap).toEqual({
      '3 - Checked Out': 'DONE',
      'o - Open': 'TODO',
      '2 - Checked In': 'IN_PROGRESS',
      'x - Cancelled': 'DONE',
    });
  });
});

describe('an ISO date column and a 12-hour start column', () => {
  it('make one date-time (a scheduler export: Date + Start)', () => {
    const { spec: input } = proposeMapping([
      { stem: 'patients', header: ['Patient ID', 'Name'], sample: [['P1', 'Ada Reyes']] },
      {
        stem: 'scheduler',
        header: ['Appointment ID', 'Patient ID', 'Date', 'Start', 'End'],
        sample: [
          ['1', 'P1', '2024-02-05', '12:00 PM', '12:45 PM'],
          ['2', 'P1', '2024-02-06', '9:30 AM', '10:15 AM'],
        ],
      },
    ]);
    expect(input.entities.appointments?.fields?.dueAt?.from).toEqual(['Date', 'Start']);
    const spec = parseMappingSpec(input, 'proposal');
    const scheduler = compileEntity('appointments', spec.entities.appointments!, {
      options: spec.options,
      now: 0,
    });
    const at = (date: string, start: string) => {
      const row = scheduler.mapRow({
        'Appointment ID': '1',
        'Patient ID': 'P1',
        Date: date,
        Start: start,
        End: '',
      });
      return row.ok ? row.record.fields.dueAt : row.rejects;
    };
    expect(at('2024-02-05', '12:00 PM')).toBe('2024-02-05T12:00:00.000Z');
    expect(at('2024-02-05', '12:30 AM')).toBe('2024-02-05T00:30:00.000Z');
    expect(at('2024-02-06', '9:30 AM')).toBe('2024-02-06T09:30:00.000Z');
  });
});
