import {
  type MappingSpec,
  type MappingSpecInput,
  parseMappingSpec,
} from '../../../lambdas/core/mapping/spec.ts';

/**
 * A hand-written mapping with everything ApplySchema handles: two custom objects, a v1-only standard
 * field (person.city) with a custom spec, a SELECT with a value map, an addOption SELECT, custom
 * relations whose inverse labels collide, activity targets and an owner column. Synthetic only.
 */
export function clinicMappingInput(): MappingSpecInput {
  return {
    version: 1,
    source: 'generic',
    customObjects: [
      {
        nameSingular: 'treatmentPlan',
        namePlural: 'treatmentPlans',
        labelSingular: 'Treatment plan',
        labelPlural: 'Treatment plans',
      },
      {
        nameSingular: 'insuranceClaim',
        namePlural: 'insuranceClaims',
        labelSingular: 'Insurance claim',
        labelPlural: 'Insurance claims',
      },
    ],
    entities: {
      patients: {
        files: ['patients.csv'],
        target: 'person',
        idColumn: 'Patient ID',
        fields: {
          name: { from: ['First', 'Last'], transform: 'fullName' },
          emails: { from: 'Email', transform: 'email' },
          jobTitle: { from: 'Occupation' },
          city: { from: 'City', custom: { type: 'TEXT', label: 'City' } },
          referral: {
            from: 'Referral',
            transform: 'select',
            unmapped: 'addOption',
            custom: { type: 'SELECT', label: 'Referral source', options: [] },
          },
          recallStatus: {
            from: 'Recall',
            transform: 'select',
            valueMap: { Due: 'DUE', 'Not due': 'NOT_DUE', 'Over due': 'OVERDUE' },
            custom: { type: 'SELECT', label: 'Recall status', options: [{ value: 'DUE', label: 'Due' }] },
          },
        },
      },
      plans: {
        files: ['plans.csv'],
        target: 'treatmentPlan',
        idColumn: 'Plan ID',
        fields: {
          name: { from: 'Plan Name' },
          status: {
            from: 'Status',
            transform: 'select',
            valueMap: { Proposed: 'PROPOSED', Accepted: 'ACCEPTED' },
            custom: { type: 'SELECT', label: 'Status' },
          },
          cost: { from: 'Cost', transform: 'money', custom: { type: 'CURRENCY', label: 'Cost' } },
        },
        relations: {
          patient: {
            entity: 'patients',
            from: 'Patient ID',
            joinColumn: 'personId',
            custom: { label: 'Patient', targetFieldLabel: 'Treatment plans' },
          },
        },
      },
      claims: {
        files: ['claims.csv'],
        target: 'insuranceClaim',
        idColumn: 'Claim ID',
        fields: { name: { from: 'Claim ID' } },
        relations: {
          patient: {
            entity: 'patients',
            from: 'Patient ID',
            joinColumn: 'personId',
            custom: { label: 'Patient', targetFieldLabel: 'Treatment plans' },
          },
        },
      },
      appointments: {
        files: ['appointments.csv'],
        target: 'task',
        idColumn: 'Appt ID',
        fields: {
          title: { from: 'Type' },
          status: { from: 'Status', transform: 'select', valueMap: { Booked: 'TODO', Done: 'DONE' } },
        },
        targets: [{ entity: 'patients', from: 'Patient ID' }],
        owner: { from: 'Provider Email', joinColumn: 'assigneeId' },
      },
    },
  };
}

export function clinicMapping(edit?: (input: MappingSpecInput) => void): MappingSpec {
  const input = clinicMappingInput();
  edit?.(input);
  return parseMappingSpec(input, 'clinic-mapping');
}

/** Synthetic rows for the clinic mapping's files. */
export function clinicFiles(): Record<string, Array<Record<string, string>>> {
  return {
    'patients.csv': [
      {
        'Patient ID': 'P1',
        First: 'Ann',
        Last: 'Alpha',
        Email: 'ann@example.test',
        Occupation: 'x',
        City: 'c',
        Referral: 'Google',
        Recall: 'Due',
      },
      {
        'Patient ID': 'P2',
        First: 'Bob',
        Last: 'Beta',
        Email: '',
        Occupation: '',
        City: '',
        Referral: ' google ',
        Recall: 'Over due',
      },
      {
        'Patient ID': 'P3',
        First: 'Cy',
        Last: 'Gamma',
        Email: '',
        Occupation: '',
        City: '',
        Referral: 'Friend / family',
        Recall: '',
      },
      {
        'Patient ID': 'P4',
        First: 'Di',
        Last: 'Delta',
        Email: '',
        Occupation: '',
        City: '',
        Referral: '',
        Recall: 'Not due',
      },
    ],
    'plans.csv': [
      { 'Plan ID': 'T1', 'Patient ID': 'P1', 'Plan Name': 'Crown', Status: 'Proposed', Cost: '100' },
    ],
    'claims.csv': [{ 'Claim ID': 'C1', 'Patient ID': 'P1' }],
    'appointments.csv': [
      {
        'Appt ID': 'A1',
        'Patient ID': 'P1',
        Type: 'Cleaning',
        Status: 'Booked',
        'Provider Email': ' Dr.Known@Clinic.test ',
      },
      {
        'Appt ID': 'A2',
        'Patient ID': 'P2',
        Type: 'Exam',
        Status: 'Done',
        'Provider Email': 'dr.known@clinic.test',
      },
      {
        'Appt ID': 'A3',
        'Patient ID': 'P3',
        Type: 'Exam',
        Status: 'Done',
        'Provider Email': 'locum@clinic.test',
      },
      { 'Appt ID': 'A4', 'Patient ID': 'P4', Type: 'Exam', Status: 'Done', 'Provider Email': '  ' },
    ],
  };
}
