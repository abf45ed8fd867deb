import type { CustomObjectSpec, EntitySpecInput, FieldSpecInput } from '../mapping/spec.ts';
import { closedSelect, customField, taskType } from './profile.ts';

/**
 * The entities every practice-management profile has, built one way. APMS and PbN name their columns
 * differently and carry different extra fields, but a patient, a provider, an appointment and a note
 * map to Twenty the same: these builders take the system's column names (and its extra fields, in the
 * order its mapping lists them) and return the entity spec in the mapping's input form.
 */

/**
 * The `insuranceClaim` custom object. PbN's claims and FHIR's Claim/ExplanationOfBenefit resources load
 * into the same Twenty object, so both profiles declare it from this one definition and cannot drift apart.
 */
export const INSURANCE_CLAIM_OBJECT: CustomObjectSpec = {
  nameSingular: 'insuranceClaim',
  namePlural: 'insuranceClaims',
  labelSingular: 'Insurance claim',
  labelPlural: 'Insurance claims',
  icon: 'IconReceipt',
};

/** Which files an entity reads (its name patterns and the header that identifies them) and its id column. */
export interface EntityFile {
  readonly files: readonly string[];
  readonly headerSignature: readonly string[];
  readonly id: string;
}

/** The head of an entity spec: its files, their header signature, its Twenty object and its id column. */
function fileOf(columns: EntityFile, target: string) {
  return {
    files: [...columns.files],
    headerSignature: [...columns.headerSignature],
    target,
    idColumn: columns.id,
  };
}

/** The columns of a patient's postal address (Twenty's ADDRESS sub-fields). */
export interface AddressColumns {
  readonly street1: string;
  readonly street2: string;
  readonly city: string;
  readonly state: string;
  readonly postcode: string;
}

/** Where a patient file keeps what every profile maps. */
export interface PatientColumns extends EntityFile {
  /** Name parts in display order (first, middle…, last). */
  readonly name: readonly string[];
  readonly email: string;
  /** Phone columns, the preferred number first. */
  readonly phones: readonly string[];
  readonly address: AddressColumns;
  readonly occupation: string;
  readonly birthDate: string;
}

/**
 * A patient → person: full name, email (a family's shared address kept as an additional email),
 * phones, home address (a custom ADDRESS field: `address` is reserved in Twenty), city, job title and
 * date of birth, then the system's own fields; relations and a pivot of custom properties when it has
 * them.
 */
export function patientEntity(
  columns: PatientColumns,
  extra: {
    readonly fields: Readonly<Record<string, FieldSpecInput>>;
    readonly relations?: EntitySpecInput['relations'];
    readonly pivot?: EntitySpecInput['pivot'];
  },
): EntitySpecInput {
  return {
    ...fileOf(columns, 'person'),
    fields: {
      name: { from: [...columns.name], transform: 'fullName', required: true },
      emails: { from: columns.email, transform: 'email' },
      phones: { from: [...columns.phones], transform: 'phones' },
      // `address` is a reserved field name in Twenty (company.address is standard, people have none).
      homeAddress: {
        from: { ...columns.address },
        transform: 'address',
        custom: { type: 'ADDRESS', label: 'Address' },
      },
      // Standard on v1 people only: ApplySchema creates it as a custom field on v2 workspaces.
      city: { from: columns.address.city, maxLength: 100, custom: { type: 'TEXT', label: 'City' } },
      jobTitle: { from: columns.occupation, maxLength: 255 },
      dateOfBirth: customField(columns.birthDate, 'DATE', 'Date of birth', { validate: 'birthDate' }),
      ...extra.fields,
    },
    ...(extra.relations === undefined ? {} : { relations: extra.relations }),
    sharedEmail: 'additional',
    ...(extra.pivot === undefined ? {} : { pivot: extra.pivot }),
  };
}

/**
 * A provider → person flagged as a provider; one who is a workspace member (matched by email) is
 * already in Twenty as a user and is skipped rather than loaded twice.
 */
export function providerEntity(
  columns: EntityFile & {
    readonly name: string;
    readonly email: string;
  },
  extra: {
    readonly fields: Readonly<Record<string, FieldSpecInput>>;
    readonly relations?: EntitySpecInput['relations'];
  },
): EntitySpecInput {
  return {
    ...fileOf(columns, 'person'),
    fields: {
      name: { from: columns.name, transform: 'fullName', required: true },
      emails: { from: columns.email, transform: 'email' },
      ...extra.fields,
      // Providers that match no workspace member are loaded as people flagged as providers.
      isProvider: { value: true, transform: 'boolean', custom: { type: 'BOOLEAN', label: 'Provider' } },
    },
    // A provider who is a workspace member is already in Twenty as a user: not a person too.
    skipIfMember: { from: columns.email },
    ...(extra.relations === undefined ? {} : { relations: extra.relations }),
  };
}

/** Where an appointment file keeps what every profile maps. */
export interface AppointmentColumns extends EntityFile {
  readonly type: string;
  readonly date: string;
  readonly status: string;
  /** Every status the system writes, in its own order (Scheduled and Confirmed leave the task to do). */
  readonly statuses: readonly string[];
  readonly providerEmail: string;
}

/** Appointment statuses that leave the task to do; every other status closes it. */
const OPEN_APPOINTMENT_STATUSES: ReadonlySet<string> = new Set(['Scheduled', 'Confirmed']);

/**
 * An appointment → task: its type as title, its date as due date, its status both as the task's
 * TODO/DONE and as a closed appointment-status select, the type kept as a custom field, the system's
 * own fields, the Appointment task type; assigned to the provider by email, linked to its targets.
 */
export function appointmentEntity(
  columns: AppointmentColumns,
  extra: {
    readonly fields: Readonly<Record<string, FieldSpecInput>>;
    readonly targets: NonNullable<EntitySpecInput['targets']>;
  },
): EntitySpecInput {
  return {
    ...fileOf(columns, 'task'),
    fields: {
      title: { from: columns.type, required: true, maxLength: 100 },
      dueAt: { from: columns.date, transform: 'dateTime', required: true },
      status: {
        from: columns.status,
        transform: 'select',
        unmapped: 'reject',
        valueMap: Object.fromEntries(
          columns.statuses.map((status) => [status, OPEN_APPOINTMENT_STATUSES.has(status) ? 'TODO' : 'DONE']),
        ),
      },
      appointmentStatus: closedSelect(columns.status, 'Appointment status', columns.statuses),
      appointmentType: customField(columns.type, 'TEXT', 'Appointment type', { maxLength: 100 }),
      ...extra.fields,
      taskType: taskType('Appointment'),
    },
    owner: { from: columns.providerEmail, joinColumn: 'assigneeId' },
    targets: extra.targets,
  };
}

/** The provider's email on an appointment, kept as text beside the assignee it resolves to. */
export function providerEmailField(column: string): FieldSpecInput {
  return customField(column, 'TEXT', 'Provider email', { maxLength: 254 });
}

/**
 * A clinical note → note: its type as title, its text as the body (required), then the system's own
 * fields; attached to its patient.
 */
export function noteEntity(
  columns: EntityFile & {
    readonly type: string;
    readonly text: string;
    readonly patient: string;
  },
  fields: Readonly<Record<string, FieldSpecInput>>,
): EntitySpecInput {
  return {
    ...fileOf(columns, 'note'),
    fields: {
      title: { from: columns.type, maxLength: 255 },
      bodyV2: { from: columns.text, transform: 'richText', required: true },
      ...fields,
    },
    targets: [{ entity: 'patients', from: columns.patient, onMissing: 'reject' }],
  };
}

/**
 * A custom object's required link to the patient it belongs to (a row whose patient did not load is
 * rejected), with the inverse field on the person labelled `targetFieldLabel`.
 */
export function patientRelation(from: string, joinColumn: string, targetFieldLabel: string) {
  return {
    entity: 'patients',
    from,
    joinColumn,
    required: true,
    onMissing: 'reject' as const,
    custom: { label: 'Patient', targetFieldLabel },
  };
}
