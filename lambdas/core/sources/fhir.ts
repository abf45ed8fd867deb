import type { EntitySpecInput } from '../mapping/spec.ts';
import { INSURANCE_CLAIM_OBJECT } from './practice-entities.ts';
import { closedSelect, constantSelect, customField, type SourceProfile, taskType } from './profile.ts';

/**
 * FHIR R4 Bulk Data export (`$export`: a manifest and one NDJSON file per resource type). Segment
 * flattens each resource into its type's canonical columns (`fhir/flatten.ts`); this map reads
 * those columns. Patient → person, Organization → company, Practitioner → a provider person
 * unless a workspace member has their email, Coverage / Encounter / Claim + ExplanationOfBenefit
 * → custom objects, Appointment → task, DocumentReference → attachment (inline data or a file of
 * the drop folder). References resolve through the deterministic ids of the referenced resource;
 * a subject that is not in the export (or was refused) is an ORPHAN_REFERENCE.
 */

const GENDERS = ['male', 'female', 'other', 'unknown'];
const APPOINTMENT_STATUSES = [
  'proposed',
  'pending',
  'booked',
  'arrived',
  'fulfilled',
  'cancelled',
  'noshow',
  'entered-in-error',
  'checked-in',
  'waitlist',
];
const CLAIM_KINDS = ['Claim', 'Explanation of benefit'];

/** The canonical columns of the address `flatten.ts` keeps (the home one), as the ADDRESS composite reads them. */
const ADDRESS_COLUMNS = {
  street1: 'address.line1',
  street2: 'address.line2',
  city: 'address.city',
  state: 'address.state',
  postcode: 'address.postalCode',
  country: 'address.country',
};
const lastUpdated = customField('meta.lastUpdated', 'DATE_TIME', 'Source last updated');
const fhirId = customField('id', 'TEXT', 'FHIR id', { maxLength: 64 });

/** The FHIR resource type each entity of the map reads. */
export const FHIR_ENTITY_TYPES: Readonly<Record<string, string>> = {
  organizations: 'Organization',
  practitioners: 'Practitioner',
  patients: 'Patient',
  coverages: 'Coverage',
  encounters: 'Encounter',
  appointments: 'Appointment',
  claims: 'Claim',
  explanationsOfBenefit: 'ExplanationOfBenefit',
  documents: 'DocumentReference',
};

const patientOf = (
  from: string,
  targetFieldLabel: string,
): NonNullable<EntitySpecInput['relations']>[string] => ({
  entity: 'patients',
  from,
  joinColumn: 'personId',
  required: true,
  onMissing: 'reject',
  custom: { label: 'Patient', targetFieldLabel },
});

const organizationOf = (
  from: string,
  targetFieldLabel: string,
): NonNullable<EntitySpecInput['relations']>[string] => ({
  entity: 'organizations',
  from,
  joinColumn: 'companyId',
  onMissing: 'null',
  custom: { label: 'Organization', targetFieldLabel },
});

const claimFields = (kind: string): NonNullable<EntitySpecInput['fields']> => ({
  name: { from: 'id', required: true, maxLength: 64 },
  claimKind: constantSelect(kind, 'Claim kind', CLAIM_KINDS),
  claimStatus: customField('status', 'TEXT', 'Claim status', { maxLength: 32 }),
  claimUse: customField('use', 'TEXT', 'Use', { maxLength: 32 }),
  claimType: customField('type', 'TEXT', 'Claim type', { maxLength: 100 }),
  claimCreated: customField('created', 'DATE_TIME', 'Created'),
  totalAmount: customField('total.value', 'CURRENCY', 'Total'),
  sourceUpdatedAt: lastUpdated,
});

const ENCOUNTER_STAGES = {
  planned: 'NEW',
  arrived: 'MEETING',
  triaged: 'MEETING',
  'in-progress': 'MEETING',
  onleave: 'MEETING',
  finished: 'CUSTOMER',
  cancelled: 'NEW',
  'entered-in-error': 'NEW',
  unknown: 'NEW',
};

/**
 * Encounters as opportunities (run option `fhirEncounters: opportunity`), for a practice that tracks
 * visits in its pipeline: the patient is the point of contact, the organization the company, the
 * encounter status sets the stage; the encounter's own values stay in the same custom fields.
 */
export const ENCOUNTERS_AS_OPPORTUNITIES: EntitySpecInput = {
  files: ['Encounter*.ndjson'],
  headerSignature: ['resourceType', 'id', 'class', 'serviceProvider'],
  target: 'opportunity',
  idColumn: 'id',
  fields: {
    name: { from: ['type', 'period.start'], maxLength: 255 },
    stage: {
      from: 'status',
      transform: 'select',
      valueMap: ENCOUNTER_STAGES,
      unmapped: 'default',
      default: 'NEW',
    },
    closeDate: { from: 'period.end', transform: 'dateTime' },
    encounterStatus: customField('status', 'TEXT', 'Encounter status', { maxLength: 32 }),
    encounterClass: customField('class', 'TEXT', 'Class', { maxLength: 64 }),
    startedAt: customField('period.start', 'DATE_TIME', 'Start'),
    reason: customField('reason', 'TEXT', 'Reason', { maxLength: 255 }),
    practitionerReference: customField('practitioner', 'TEXT', 'Practitioner (FHIR id)', { maxLength: 64 }),
    sourceUpdatedAt: lastUpdated,
  },
  relations: {
    patient: {
      entity: 'patients',
      from: 'subject',
      joinColumn: 'pointOfContactId',
      required: true,
      onMissing: 'reject',
    },
    serviceProvider: {
      entity: 'organizations',
      from: 'serviceProvider',
      joinColumn: 'companyId',
      onMissing: 'null',
    },
  },
};

export const fhirProfile: SourceProfile = {
  source: 'fhir',
  label: 'FHIR R4 Bulk Data export',
  mapping: {
    version: 1,
    source: 'fhir',
    options: { dateOrder: 'YMD', defaultCountry: 'US', currency: 'USD', timezone: 'UTC' },
    customObjects: [
      {
        nameSingular: 'insuranceCoverage',
        namePlural: 'insuranceCoverages',
        labelSingular: 'Insurance coverage',
        labelPlural: 'Insurance coverages',
        icon: 'IconShieldCheck',
      },
      {
        nameSingular: 'encounter',
        namePlural: 'encounters',
        labelSingular: 'Encounter',
        labelPlural: 'Encounters',
        icon: 'IconStethoscope',
      },
      INSURANCE_CLAIM_OBJECT,
    ],
    entities: {
      organizations: {
        files: ['Organization*.ndjson'],
        headerSignature: ['resourceType', 'id', 'name', 'partOf'],
        target: 'company',
        idColumn: 'id',
        fields: {
          name: { from: 'name', required: true, maxLength: 255 },
          domainName: { from: 'telecom.url', transform: 'links' },
          mainPhone: {
            from: 'telecom.phone',
            transform: 'phones',
            custom: { type: 'PHONES', label: 'Main phone' },
          },
          address: {
            from: ADDRESS_COLUMNS,
            transform: 'address',
          },
          organizationIdentifier: customField('identifier', 'TEXT', 'Identifier (NPI)', { maxLength: 64 }),
          sourceUpdatedAt: lastUpdated,
        },
        relations: {
          parentOrganization: {
            entity: 'organizations',
            from: 'partOf',
            joinColumn: 'parentOrganizationId',
            onMissing: 'null',
            custom: { label: 'Parent organization', targetFieldLabel: 'Member organizations' },
          },
        },
      },
      practitioners: {
        files: ['Practitioner*.ndjson'],
        headerSignature: ['resourceType', 'id', 'name.family', 'qualification'],
        target: 'person',
        idColumn: 'id',
        fields: {
          name: { from: ['name.given', 'name.family'], transform: 'fullName', required: true },
          emails: { from: 'telecom.email', transform: 'email' },
          phones: { from: 'telecom.phone', transform: 'phones' },
          credentials: customField('qualification', 'TEXT', 'Credentials', { maxLength: 100 }),
          providerIdentifier: customField('identifier', 'TEXT', 'Identifier (NPI)', { maxLength: 64 }),
          isProvider: { value: true, transform: 'boolean', custom: { type: 'BOOLEAN', label: 'Provider' } },
          sourceUpdatedAt: lastUpdated,
        },
        skipIfMember: { from: 'telecom.email' },
      },
      patients: {
        files: ['Patient*.ndjson'],
        headerSignature: ['resourceType', 'id', 'birthDate', 'managingOrganization'],
        target: 'person',
        idColumn: 'id',
        fields: {
          name: { from: ['name.given', 'name.family'], transform: 'fullName', required: true },
          emails: { from: 'telecom.email', transform: 'email' },
          phones: { from: ['telecom.phone', 'telecom.phone2'], transform: 'phones' },
          homeAddress: {
            from: ADDRESS_COLUMNS,
            transform: 'address',
            custom: { type: 'ADDRESS', label: 'Address' },
          },
          dateOfBirth: customField('birthDate', 'DATE', 'Date of birth', { validate: 'birthDate' }),
          dateOfBirthPartial: customField('birthDate.partial', 'TEXT', 'Date of birth (partial)', {
            maxLength: 7,
          }),
          gender: closedSelect('gender', 'Gender', GENDERS),
          medicalRecordNumber: customField('identifier', 'TEXT', 'Medical record number', { maxLength: 64 }),
          otherIdentifiers: customField('identifier.others', 'TEXT', 'Other identifiers', {
            maxLength: 1000,
          }),
          sourceUpdatedAt: lastUpdated,
        },
        relations: {
          organization: {
            entity: 'organizations',
            from: 'managingOrganization',
            joinColumn: 'companyId',
            onMissing: 'null',
          },
        },
        sharedEmail: 'additional',
      },
      coverages: {
        files: ['Coverage*.ndjson'],
        headerSignature: ['resourceType', 'id', 'beneficiary', 'subscriberId'],
        target: 'insuranceCoverage',
        idColumn: 'id',
        fields: {
          name: { from: ['payor.name', 'type'], maxLength: 255 },
          coverageStatus: customField('status', 'TEXT', 'Coverage status', { maxLength: 32 }),
          subscriberId: customField('subscriberId', 'TEXT', 'Subscriber id', { maxLength: 64 }),
          relationship: customField('relationship', 'TEXT', 'Relationship', { maxLength: 64 }),
          periodStart: customField('period.start', 'DATE', 'Coverage start'),
          periodEnd: customField('period.end', 'DATE', 'Coverage end'),
          fhirId,
          sourceUpdatedAt: lastUpdated,
        },
        relations: {
          patient: patientOf('beneficiary', 'Insurance coverages'),
          payor: organizationOf('payor', 'Insurance coverages'),
        },
      },
      encounters: {
        files: ['Encounter*.ndjson'],
        headerSignature: ['resourceType', 'id', 'class', 'serviceProvider'],
        target: 'encounter',
        idColumn: 'id',
        fields: {
          name: { from: ['type', 'period.start'], maxLength: 255 },
          encounterStatus: customField('status', 'TEXT', 'Encounter status', { maxLength: 32 }),
          encounterClass: customField('class', 'TEXT', 'Class', { maxLength: 64 }),
          encounterType: customField('type', 'TEXT', 'Encounter type', { maxLength: 255 }),
          startedAt: customField('period.start', 'DATE_TIME', 'Start'),
          endedAt: customField('period.end', 'DATE_TIME', 'End'),
          reason: customField('reason', 'TEXT', 'Reason', { maxLength: 255 }),
          practitionerReference: customField('practitioner', 'TEXT', 'Practitioner (FHIR id)', {
            maxLength: 64,
          }),
          sourceUpdatedAt: lastUpdated,
        },
        relations: {
          patient: patientOf('subject', 'Encounters'),
          serviceProvider: organizationOf('serviceProvider', 'Encounters'),
        },
      },
      appointments: {
        files: ['Appointment*.ndjson'],
        headerSignature: ['resourceType', 'id', 'start', 'serviceType'],
        target: 'task',
        idColumn: 'id',
        fields: {
          title: { from: 'serviceType', maxLength: 255 },
          // A proposed or cancelled Appointment may have no start (FHIR makes it optional): still a task.
          dueAt: { from: 'start', transform: 'dateTime' },
          status: {
            from: 'status',
            transform: 'select',
            unmapped: 'reject',
            valueMap: {
              proposed: 'TODO',
              pending: 'TODO',
              booked: 'TODO',
              waitlist: 'TODO',
              arrived: 'IN_PROGRESS',
              'checked-in': 'IN_PROGRESS',
              fulfilled: 'DONE',
              cancelled: 'DONE',
              noshow: 'DONE',
              'entered-in-error': 'DONE',
            },
          },
          appointmentStatus: closedSelect('status', 'Appointment status', APPOINTMENT_STATUSES),
          appointmentDescription: customField('description', 'TEXT', 'Description', { maxLength: 1000 }),
          bodyV2: { from: 'comment', transform: 'richText' },
          taskType: taskType('Appointment'),
          sourceUpdatedAt: lastUpdated,
        },
        // A practitioner who is a workspace member (by email) is the task's assignee.
        owner: { from: 'practitioner.email', joinColumn: 'assigneeId' },
        targets: [
          { entity: 'patients', from: 'patient', onMissing: 'reject' },
          { entity: 'practitioners', from: 'practitioner', onMissing: 'null' },
        ],
      },
      claims: {
        files: ['Claim*.ndjson'],
        headerSignature: ['resourceType', 'id', 'insurer', 'coverage'],
        target: 'insuranceClaim',
        idColumn: 'id',
        fields: claimFields('Claim'),
        relations: {
          patient: patientOf('patient', 'Insurance claims'),
          insurer: organizationOf('insurer', 'Insurance claims'),
        },
      },
      explanationsOfBenefit: {
        files: ['ExplanationOfBenefit*.ndjson'],
        headerSignature: ['resourceType', 'id', 'outcome', 'payment.value'],
        target: 'insuranceClaim',
        idColumn: 'id',
        fields: {
          ...claimFields('Explanation of benefit'),
          outcome: customField('outcome', 'TEXT', 'Outcome', { maxLength: 32 }),
          paidAmount: customField('payment.value', 'CURRENCY', 'Paid'),
        },
        relations: {
          patient: patientOf('patient', 'Insurance claims'),
          insurer: organizationOf('insurer', 'Insurance claims'),
        },
      },
      documents: {
        files: ['DocumentReference*.ndjson'],
        headerSignature: ['resourceType', 'id', 'attachment.contentType', 'attachment.path'],
        target: 'attachment',
        idColumn: 'id',
        fields: {
          name: { from: ['attachment.title'], maxLength: 255 },
          documentType: customField('type', 'TEXT', 'Document type', { maxLength: 100 }),
          documentDate: customField('date', 'DATE_TIME', 'Document date'),
          sourceUpdatedAt: lastUpdated,
        },
        file: { from: 'attachment.path', baseDir: '' },
        targets: [{ entity: 'patients', from: 'subject', onMissing: 'reject' }],
      },
    },
  },
  headerAliases: {},
  pivots: [],
  references: [],
};
