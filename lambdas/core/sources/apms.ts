import {
  appointmentEntity,
  noteEntity,
  patientEntity,
  patientRelation,
  providerEmailField,
  providerEntity,
} from './practice-entities.ts';
import { closedSelect, customField, openSelect, type SourceProfile } from './profile.ts';

/** APMS custom patient properties: long format, joined into the patient rows (see pivot.ts). */
const CUSTOM_PROPERTIES = {
  files: ['PatientCustomProperties.csv', '*CustomPropert*.csv', '*CustomField*.csv'],
  headerSignature: ['PatientID', 'PropertyName', 'PropertyValue'],
  idColumn: 'PatientID',
  nameColumn: 'PropertyName',
  valueColumn: 'PropertyValue',
};

const POLICY_TYPES = ['PPO', 'HMO', 'EPO', 'POS', 'Medicare', 'Medicaid', 'Indemnity'];
const CASE_STATUSES = [
  'Open',
  'In Progress',
  'Pending Insurance',
  'Won',
  'Closed - Paid',
  'Closed - Written Off',
  'Cancelled',
];
const APPT_STATUSES = ['Scheduled', 'Confirmed', 'Completed', 'Cancelled', 'No Show'];
const CLAIM_STATUSES = [
  'Submitted',
  'Pending',
  'Paid',
  'Partially Paid',
  'Denied',
  'Rejected-Resubmit',
  'Appealed',
];

/**
 * Advance Practice Management Suite: one report per entity, "Pt …" columns, US (MDY) dates.
 * Patients → person, practices → company, cases → opportunity (status through a stage value
 * map), appointments → task, notes → note, documents → attachment, payers and claims → custom
 * objects; custom patient properties are pivoted into person fields; workflows are exported as
 * a rebuild reference only. SSN columns are never mapped.
 */
export const apmsProfile: SourceProfile = {
  source: 'apms',
  label: 'Advance Practice Management Suite',
  mapping: {
    version: 1,
    source: 'apms',
    options: { dateOrder: 'MDY', defaultCountry: 'US', currency: 'USD', timezone: 'America/New_York' },
    customObjects: [
      {
        nameSingular: 'insurancePayer',
        namePlural: 'insurancePayers',
        labelSingular: 'Insurance payer',
        labelPlural: 'Insurance payers',
        icon: 'IconShieldCheck',
      },
      {
        nameSingular: 'billingClaim',
        namePlural: 'billingClaims',
        labelSingular: 'Billing claim',
        labelPlural: 'Billing claims',
        icon: 'IconReceipt',
      },
    ],
    entities: {
      practices: {
        files: ['Practices.csv', 'Practice*.csv', 'Organization*.csv'],
        headerSignature: ['Practice ID', 'Practice Name', 'Website'],
        target: 'company',
        idColumn: 'Practice ID',
        fields: {
          name: { from: 'Practice Name', required: true, maxLength: 255 },
          domainName: { from: 'Website', transform: 'links' },
          // company has no standard phone field: the practice's main line goes to a custom PHONES field.
          mainPhone: { from: 'Phone', transform: 'phones', custom: { type: 'PHONES', label: 'Main phone' } },
          address: {
            from: { street1: 'Address', city: 'City', state: 'State', postcode: 'Zip' },
            transform: 'address',
          },
          industry: {
            from: 'Industry',
            transform: 'select',
            unmapped: 'addOption',
            default: 'HEALTHCARE',
            custom: {
              type: 'SELECT',
              label: 'Industry',
              options: [{ value: 'HEALTHCARE', label: 'Healthcare' }],
            },
          },
        },
        relations: {
          parentPractice: {
            entity: 'practices',
            from: 'Parent Practice ID',
            joinColumn: 'parentPracticeId',
            onMissing: 'null',
            custom: { label: 'Parent practice', targetFieldLabel: 'Member practices' },
          },
        },
      },
      providers: providerEntity(
        {
          files: ['Providers.csv', 'Provider*.csv', 'Staff*.csv'],
          headerSignature: ['Provider ID', 'Provider Name', 'Credentials'],
          id: 'Provider ID',
          name: 'Provider Name',
          email: 'Email',
        },
        {
          fields: {
            phones: { from: 'Phone', transform: 'phones' },
            specialty: customField('Specialty', 'TEXT', 'Specialty', { maxLength: 100 }),
            credentials: customField('Credentials', 'TEXT', 'Credentials', { maxLength: 50 }),
          },
          relations: {
            // The provider's home practice: person's standard company link, as for patients.
            practice: {
              entity: 'practices',
              from: 'Practice ID',
              joinColumn: 'companyId',
              onMissing: 'null',
            },
          },
        },
      ),
      patients: patientEntity(
        {
          files: ['PatientDemographics.csv', 'Patient*.csv', 'Contact*.csv'],
          headerSignature: ['Pt Acct #', 'Pt Last Name', 'Pt First Name', 'Pt DOB'],
          id: 'Pt Acct #',
          name: ['Pt First Name', 'Pt MI', 'Pt Last Name'],
          email: 'Pt Email',
          phones: ['Pt Cell Phone', 'Pt Home Phone'],
          address: {
            street1: 'Pt Address 1',
            street2: 'Pt Address 2',
            city: 'Pt City',
            state: 'Pt State',
            postcode: 'Pt Zip',
          },
          occupation: 'Pt Occupation',
          birthDate: 'Pt DOB',
        },
        {
          fields: { originalCreatedAt: customField('Date Created', 'DATE_TIME', 'Original create date') },
          relations: {
            practice: {
              entity: 'practices',
              from: 'Practice ID',
              joinColumn: 'companyId',
              onMissing: 'reject',
            },
          },
          // Custom properties become fields here once Inventory has inferred them (bindPivots).
          pivot: CUSTOM_PROPERTIES,
        },
      ),
      insurancePayers: {
        files: ['InsurancePayers.csv', 'Insurance*.csv', 'Payer*.csv'],
        headerSignature: ['Payer ID', 'Payer Name', 'Policy Type'],
        target: 'insurancePayer',
        idColumn: 'Payer ID',
        fields: {
          name: { from: 'Payer Name', required: true, maxLength: 255 },
          policyType: closedSelect('Policy Type', 'Policy type', POLICY_TYPES),
          policyNumber: customField('Policy #', 'TEXT', 'Policy number', { maxLength: 64 }),
          groupNumber: customField('Group #', 'TEXT', 'Group number', { maxLength: 64 }),
          coverageNotes: customField('Coverage Notes', 'TEXT', 'Coverage notes', { maxLength: 2000 }),
          effectiveDate: customField('Effective Date', 'DATE', 'Effective date'),
        },
        relations: { patient: patientRelation('Pt Acct #', 'personId', 'Insurance payers') },
      },
      cases: {
        files: ['Cases.csv', 'Case*.csv', 'Encounter*.csv'],
        headerSignature: ['Case #', 'Case Name', 'Case Status'],
        target: 'opportunity',
        idColumn: 'Case #',
        fields: {
          name: { from: 'Case Name', required: true, maxLength: 255 },
          stage: {
            from: 'Case Status',
            transform: 'select',
            unmapped: 'reject',
            valueMap: {
              Open: 'NEW',
              Cancelled: 'NEW',
              'In Progress': 'SCREENING',
              'Pending Insurance': 'PROPOSAL',
              Won: 'CUSTOMER',
              'Closed - Paid': 'CUSTOMER',
              'Closed - Written Off': 'CUSTOMER',
            },
          },
          caseStatus: closedSelect('Case Status', 'Case status', CASE_STATUSES),
          caseType: openSelect('Case Type', 'Case type'),
          amount: { from: 'Expected Reimbursement', transform: 'money' },
          billedAmount: customField('Billed Amount', 'CURRENCY', 'Billed amount'),
          openedDate: customField('Opened Date', 'DATE', 'Opened date'),
          closeDate: { from: 'Closed Date', transform: 'date' },
        },
        relations: {
          patient: { entity: 'patients', from: 'Pt Acct #', joinColumn: 'pointOfContactId', required: true },
          practice: { entity: 'practices', from: 'Practice ID', joinColumn: 'companyId', onMissing: 'null' },
        },
      },
      appointments: appointmentEntity(
        {
          files: ['Appointments.csv', 'Appointment*.csv', 'Appt*.csv', 'Schedule*.csv'],
          headerSignature: ['Appt ID', 'Appt Date', 'Appt Type'],
          id: 'Appt ID',
          type: 'Appt Type',
          date: 'Appt Date',
          status: 'Appt Status',
          statuses: APPT_STATUSES,
          providerEmail: 'Provider Email',
        },
        {
          fields: {
            completedOn: customField('Completed Date', 'DATE', 'Completion date'),
            providerEmail: providerEmailField('Provider Email'),
            bodyV2: { from: 'Appt Notes', transform: 'richText' },
          },
          targets: [
            { entity: 'patients', from: 'Pt Acct #', onMissing: 'reject' },
            { entity: 'practices', from: 'Practice ID', onMissing: 'null' },
          ],
        },
      ),
      claims: {
        files: ['Claims.csv', 'Claim*.csv', 'Billing*.csv'],
        headerSignature: ['Claim #', 'Claim Amount', 'Claim Status'],
        target: 'billingClaim',
        idColumn: 'Claim #',
        fields: {
          name: { from: 'Claim #', required: true, maxLength: 64 },
          amount: customField('Claim Amount', 'CURRENCY', 'Claim amount'),
          paidAmount: customField('Paid Amount', 'CURRENCY', 'Paid amount'),
          status: closedSelect('Claim Status', 'Claim status', CLAIM_STATUSES),
          claimDate: customField('Claim Date', 'DATE', 'Claim date', { required: true }),
          serviceDate: customField('Date of Service', 'DATE', 'Date of service'),
          payerReference: customField('Payer ID', 'TEXT', 'Payer reference', { maxLength: 64 }),
        },
        relations: {
          patient: patientRelation('Pt Acct #', 'personId', 'Billing claims'),
          practice: {
            entity: 'practices',
            from: 'Practice ID',
            joinColumn: 'companyId',
            onMissing: 'null',
            custom: { label: 'Practice', targetFieldLabel: 'Billing claims' },
          },
        },
      },
      notes: noteEntity(
        {
          files: ['ClinicalNotes.csv', '*Notes*.csv'],
          headerSignature: ['Note ID', 'Note Date', 'Note Text'],
          id: 'Note ID',
          type: 'Note Type',
          text: 'Note Text',
          patient: 'Pt Acct #',
        },
        {
          originalCreatedAt: customField('Note Date', 'DATE_TIME', 'Original create date'),
          author: customField('Author', 'TEXT', 'Author', { maxLength: 255 }),
        },
      ),
      documents: {
        files: ['Documents.csv', 'Document*.csv', 'Attachment*.csv'],
        headerSignature: ['Doc ID', 'Document Name', 'File Name'],
        target: 'attachment',
        idColumn: 'Doc ID',
        fields: {
          name: { from: 'Document Name', required: true, maxLength: 255 },
          fullPath: { from: 'File Name', required: true, maxLength: 255 },
          // Typed by staff from the paper original: the day/month order is not reliable.
          documentDate: customField('Document Date', 'DATE', 'Document date', { dateOrder: 'auto' }),
          // Free-text in APMS ("Intake Form", "Insurance Card"…): the standard type/fileCategory select
          // has a fixed file-kind list, so the source wording is kept in a custom field instead.
          documentType: customField('Document Type', 'TEXT', 'Document type', { maxLength: 100 }),
          // Twenty stamps createdAt itself on load: the original upload time is kept alongside.
          uploadedAt: customField('Uploaded', 'DATE_TIME', 'Uploaded at'),
        },
        file: { from: 'File Name', baseDir: 'documents/' },
        targets: [{ entity: 'patients', from: 'Pt Acct #', onMissing: 'reject' }],
      },
    },
  },
  headerAliases: {
    'Pt Acct #': ['Pt Account #', 'Patient Account #', 'Account #', 'Acct #', 'Pt Acct Number'],
    'Pt Last Name': ['Last Name', 'Patient Last Name', 'Pt Surname'],
    'Pt First Name': ['First Name', 'Patient First Name'],
    'Pt MI': ['Middle Initial', 'Pt Middle Initial', 'MI'],
    'Pt DOB': ['DOB', 'Date of Birth', 'Pt Birth Date', 'Birthdate'],
    'Pt Email': ['Email', 'E-mail', 'Email Address', 'Pt E-mail Address'],
    'Pt Home Phone': ['Home Phone', 'Home Ph', 'Pt Home Ph'],
    'Pt Cell Phone': ['Cell Phone', 'Mobile Phone', 'Pt Mobile', 'Cell'],
    'Pt Address 1': ['Address 1', 'Address Line 1', 'Pt Street', 'Street'],
    'Pt Address 2': ['Address 2', 'Address Line 2'],
    'Pt City': ['City'],
    'Pt State': ['State', 'ST', 'Pt ST'],
    'Pt Zip': ['Zip', 'Zip Code', 'Postal Code', 'Pt Zip Code'],
    'Pt Occupation': ['Occupation', 'Job Title', 'Employment'],
    'Date Created': ['Created', 'Created Date', 'Date Entered', 'Created On'],
    'Practice ID': ['Practice #', 'Location ID', 'Organization ID'],
    'Appt Date': ['Appointment Date', 'Appt Date/Time', 'Appt DateTime'],
    'Appt Type': ['Appointment Type', 'Visit Type'],
    'Appt Status': ['Appointment Status'],
    'Claim #': ['Claim Number', 'Claim No', 'Claim ID'],
    'Note Text': ['Note', 'Notes', 'Note Body'],
    'File Name': ['Filename', 'File', 'Document File'],
  },
  pivots: [
    {
      entity: 'customProperties',
      files: CUSTOM_PROPERTIES.files,
      headerSignature: CUSTOM_PROPERTIES.headerSignature,
      into: 'patients',
      idColumn: CUSTOM_PROPERTIES.idColumn,
      keyColumn: CUSTOM_PROPERTIES.nameColumn,
      valueColumn: CUSTOM_PROPERTIES.valueColumn,
    },
  ],
  references: [
    {
      entity: 'workflows',
      files: ['Workflows.csv', 'Workflow*.csv', 'Automation*.csv'],
      headerSignature: ['Workflow ID', 'Workflow Name', 'Trigger'],
      idColumn: 'Workflow ID',
    },
  ],
};
