import {
  appointmentEntity,
  INSURANCE_CLAIM_OBJECT,
  noteEntity,
  patientEntity,
  patientRelation,
  providerEmailField,
  providerEntity,
} from './practice-entities.ts';
import { closedSelect, customField, openSelect, type SourceProfile, taskType } from './profile.ts';

const RECALL_STATUSES = ['Due', 'Overdue', 'Scheduled', 'Inactive', 'Not Due'];
const APPOINTMENT_STATUSES = ['Scheduled', 'Confirmed', 'Completed', 'Broken', 'Cancelled'];
const PLAN_STATUSES = ['Proposed', 'Accepted', 'In Progress', 'Completed', 'Declined'];
const LINE_ITEM_STATUSES = ['Proposed', 'Scheduled', 'Completed', 'Declined'];
const PAYMENT_PLAN_STATUSES = ['None', 'Active', 'Completed', 'Defaulted'];
const CLAIM_STATUSES = ['Submitted', 'Pending', 'Paid', 'Denied'];
const DELIVERY_STATUSES = ['Delivered', 'Failed', 'Bounced', 'Opened', 'Pending'];

/** A custom object's link to its patient (PbN's `Patient ID`, person's `personId` join column). */
const toPatient = (targetFieldLabel: string) => patientRelation('Patient ID', 'personId', targetFieldLabel);

/**
 * Practice by Numbers: snake_case report files, ISO timestamps, US birthdates. Patients →
 * person (insurance carrier and referral source as SELECTs with one option per distinct value,
 * PbN custom fields kept with their types), appointments and the communication log → tasks,
 * notes → notes, treatment plans (line items flattened onto treatmentPlan records), balances
 * and insurance claims → custom objects. Provider emails resolve to workspace members.
 */
export const pbnProfile: SourceProfile = {
  source: 'pbn',
  label: 'Practice by Numbers',
  mapping: {
    version: 1,
    source: 'pbn',
    options: { dateOrder: 'MDY', defaultCountry: 'US', currency: 'USD', timezone: 'America/Chicago' },
    customObjects: [
      {
        nameSingular: 'treatmentPlan',
        namePlural: 'treatmentPlans',
        labelSingular: 'Treatment plan',
        labelPlural: 'Treatment plans',
        icon: 'IconDental',
      },
      {
        nameSingular: 'billingRecord',
        namePlural: 'billingRecords',
        labelSingular: 'Billing record',
        labelPlural: 'Billing records',
        icon: 'IconCash',
      },
      INSURANCE_CLAIM_OBJECT,
    ],
    entities: {
      providers: providerEntity(
        {
          files: ['providers.csv', 'provider*.csv', 'staff*.csv'],
          headerSignature: ['Provider ID', 'Provider Name', 'Role'],
          id: 'Provider ID',
          name: 'Provider Name',
          email: 'Email',
        },
        {
          fields: {
            // `role` is a reserved field name in Twenty.
            staffRole: customField('Role', 'TEXT', 'Role', { maxLength: 100 }),
            specialty: customField('Specialty', 'TEXT', 'Specialty', { maxLength: 100 }),
          },
        },
      ),
      patients: patientEntity(
        {
          files: ['patients.csv', 'patient*.csv'],
          headerSignature: ['Patient ID', 'First Name', 'Last Name', 'Birthdate', 'Recall Status'],
          id: 'Patient ID',
          name: ['First Name', 'Last Name'],
          email: 'Email',
          phones: ['Cell Phone', 'Home Phone'],
          address: {
            street1: 'Address 1',
            street2: 'Address 2',
            city: 'City',
            state: 'State',
            postcode: 'Zip',
          },
          occupation: 'Occupation',
          birthDate: 'Birthdate',
        },
        {
          fields: {
            // Twenty's person has no owner field: the primary provider stays a custom field (no `owner`).
            primaryProviderEmail: customField('Provider Email', 'TEXT', 'Primary provider email', {
              maxLength: 254,
            }),
            insuranceCarrier: openSelect('Insurance Carrier', 'Insurance carrier'),
            referralSource: openSelect('Referral Source', 'Referral source'),
            treatmentCoordinator: customField('Treatment Coordinator', 'TEXT', 'Treatment coordinator', {
              maxLength: 100,
            }),
            recallStatus: closedSelect('Recall Status', 'Recall status', RECALL_STATUSES),
            // A PbN custom field typed by staff: ISO when picked, slash dates when typed — order unknown.
            lastCleaningDate: customField('Last Cleaning Date', 'DATE', 'Last cleaning date', {
              dateOrder: 'auto',
            }),
            hipaaConsentDate: customField('HIPAA Consent Date', 'DATE', 'HIPAA consent date'),
            originalCreatedAt: customField('Created Date', 'DATE_TIME', 'Original create date'),
            originalModifiedAt: customField('Modified Date', 'DATE_TIME', 'Original modified date'),
          },
        },
      ),
      appointments: appointmentEntity(
        {
          files: ['appointments.csv', 'appointment*.csv', 'appt*.csv'],
          headerSignature: ['Appointment ID', 'Appointment Date', 'Appointment Type'],
          id: 'Appointment ID',
          type: 'Appointment Type',
          date: 'Appointment Date',
          status: 'Status',
          statuses: APPOINTMENT_STATUSES,
          providerEmail: 'Provider Email',
        },
        {
          fields: {
            bodyV2: { from: ['Provider', 'Notes'], transform: 'richText' },
            providerEmail: providerEmailField('Provider Email'),
            originalCreatedAt: customField('Created Date', 'DATE_TIME', 'Original create date'),
            originalModifiedAt: customField('Modified Date', 'DATE_TIME', 'Original modified date'),
          },
          targets: [{ entity: 'patients', from: 'Patient ID', onMissing: 'reject' }],
        },
      ),
      treatmentPlans: {
        files: ['treatment_plans.csv', 'treatment*plan*.csv'],
        headerSignature: ['Treatment Plan ID', 'Plan Name', 'Estimated Cost'],
        target: 'treatmentPlan',
        idColumn: 'Treatment Plan ID',
        fields: {
          name: { from: 'Plan Name', required: true, maxLength: 255 },
          status: closedSelect('Status', 'Status', PLAN_STATUSES),
          estimatedCost: customField('Estimated Cost', 'CURRENCY', 'Estimated cost'),
          actualCost: customField('Actual Cost', 'CURRENCY', 'Actual cost'),
          presentedDate: customField('Presented Date', 'DATE', 'Presented date'),
          acceptedDate: customField('Accepted Date', 'DATE', 'Accepted date'),
        },
        relations: { patient: toPatient('Treatment plans') },
      },
      treatmentPlanLineItems: {
        files: ['treatment_plan_line_items.csv', 'treatment*line*item*.csv', '*line_items*.csv'],
        headerSignature: ['Line Item ID', 'Treatment Plan ID', 'Procedure Code'],
        // Flattened: each procedure is a treatmentPlan record carrying its line-item fields,
        // linked to the plan it belongs to.
        target: 'treatmentPlan',
        idColumn: 'Line Item ID',
        fields: {
          name: { from: 'Description', maxLength: 255 },
          procedureCode: customField('Procedure Code', 'TEXT', 'Procedure code', {
            required: true,
            maxLength: 16,
          }),
          toothSurface: customField(['Tooth', 'Surface'], 'TEXT', 'Tooth / surface', { maxLength: 32 }),
          fee: customField('Fee', 'CURRENCY', 'Fee'),
          lineItemStatus: closedSelect('Status', 'Line item status', LINE_ITEM_STATUSES),
        },
        relations: {
          patient: toPatient('Treatment plans'),
          plan: {
            entity: 'treatmentPlans',
            from: 'Treatment Plan ID',
            joinColumn: 'parentPlanId',
            required: true,
            onMissing: 'reject',
            custom: { label: 'Parent plan', targetFieldLabel: 'Line items' },
          },
        },
      },
      billingRecords: {
        files: ['patient_balances.csv', '*balance*.csv', 'billing*.csv'],
        headerSignature: ['Billing Record ID', 'Current Balance', 'Payment Plan Status'],
        target: 'billingRecord',
        idColumn: 'Billing Record ID',
        fields: {
          name: { from: 'Billing Record ID', required: true, maxLength: 64 },
          balance: customField('Current Balance', 'CURRENCY', 'Balance', { required: true }),
          paymentPlanStatus: closedSelect(
            'Payment Plan Status',
            'Payment plan status',
            PAYMENT_PLAN_STATUSES,
          ),
          lastPaymentDate: customField('Last Payment Date', 'DATE', 'Last payment date'),
          lastPaymentAmount: customField('Last Payment Amount', 'CURRENCY', 'Last payment amount'),
          statementDate: customField('Statement Date', 'DATE', 'Statement date'),
        },
        relations: { patient: toPatient('Billing records') },
      },
      notes: noteEntity(
        {
          files: ['clinical_notes.csv', '*notes*.csv'],
          headerSignature: ['Note ID', 'Note Type', 'Note'],
          id: 'Note ID',
          type: 'Note Type',
          text: 'Note',
          patient: 'Patient ID',
        },
        {
          author: customField('Created By', 'TEXT', 'Author', { maxLength: 255 }),
          originalCreatedAt: customField('Created Date', 'DATE_TIME', 'Original create date'),
        },
      ),
      insuranceClaims: {
        files: ['insurance_claims.csv', '*claim*.csv'],
        headerSignature: ['Claim ID', 'Carrier', 'Submitted Amount'],
        target: 'insuranceClaim',
        idColumn: 'Claim ID',
        fields: {
          name: { from: 'Claim ID', required: true, maxLength: 64 },
          carrier: customField('Carrier', 'TEXT', 'Carrier', { maxLength: 255 }),
          status: closedSelect('Status', 'Claim status', CLAIM_STATUSES),
          submittedDate: customField('Submitted Date', 'DATE', 'Submitted date', { required: true }),
          submittedAmount: customField('Submitted Amount', 'CURRENCY', 'Submitted amount'),
          paidAmount: customField('Paid Amount', 'CURRENCY', 'Paid amount'),
          adjustmentAmount: customField('Adjustment Amount', 'CURRENCY', 'Adjustment amount'),
          paidDate: customField('Paid Date', 'DATE', 'Paid date'),
        },
        relations: { patient: toPatient('Insurance claims') },
      },
      communications: {
        files: ['communication_log.csv', 'communication*.csv', '*reminder*.csv'],
        headerSignature: ['Communication ID', 'Channel', 'Delivery Status'],
        target: 'task',
        idColumn: 'Communication ID',
        fields: {
          title: { from: 'Type', required: true, maxLength: 100 },
          bodyV2: { from: 'Message', transform: 'richText' },
          dueAt: { from: 'Sent At', transform: 'dateTime', required: true },
          channel: openSelect('Channel', 'Channel'),
          // The task's status says whether the message still has to go out; the exact outcome stays
          // in deliveryStatus (three statuses cannot tell a failed message from a delivered one).
          status: {
            from: 'Delivery Status',
            transform: 'select',
            valueMap: { Delivered: 'DONE', Failed: 'DONE', Bounced: 'DONE', Opened: 'DONE', Pending: 'TODO' },
            unmapped: 'default',
            default: 'DONE',
          },
          deliveryStatus: closedSelect('Delivery Status', 'Delivery status', DELIVERY_STATUSES),
          taskType: taskType('Communication'),
        },
        targets: [{ entity: 'patients', from: 'Patient ID', onMissing: 'reject' }],
      },
    },
  },
  headerAliases: {
    'Patient ID': ['PatientID', 'Patient #', 'Patient Number', 'Pat ID', 'Pt ID', 'Chart #', 'Chart Number'],
    'First Name': ['FirstName', 'First', 'Given Name', 'Patient First Name'],
    'Last Name': ['LastName', 'Last', 'Surname', 'Family Name', 'Patient Last Name'],
    Email: ['E-mail', 'Email Address', 'E-mail Address', 'Patient Email'],
    'Cell Phone': ['Mobile', 'Mobile Phone', 'Cell', 'Wireless Phone'],
    'Home Phone': ['Home', 'Phone', 'Home Ph'],
    'Address 1': ['Address', 'Address Line 1', 'Street Address', 'Street'],
    'Address 2': ['Address Line 2', 'Apt/Suite'],
    Zip: ['Zip Code', 'ZIP', 'Postal Code', 'Zipcode'],
    State: ['ST', 'Province'],
    Birthdate: ['DOB', 'Date of Birth', 'Birth Date', 'Birthday'],
    'Provider Email': ['Primary Provider Email', 'Provider E-mail'],
    'Insurance Carrier': ['Carrier', 'Primary Insurance', 'Ins Carrier', 'Insurance'],
    'Referral Source': ['Referred By', 'Referral', 'Lead Source'],
    'Recall Status': ['Recall'],
    'HIPAA Consent Date': ['Hipaa_Consent_Date__c', 'HIPAA Consent', 'HIPAA Signed Date'],
    'Created Date': ['Date Created', 'Created', 'Created On', 'Create Date'],
    'Modified Date': ['Date Modified', 'Last Modified', 'Modified', 'Updated At'],
    'Appointment Date': ['Appt Date', 'Scheduled For', 'Start Time'],
    'Appointment Type': ['Appt Type', 'Type'],
  },
  pivots: [],
  references: [],
};
