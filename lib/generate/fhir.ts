import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { EntityExpectation } from './entity-writer.ts';
import { Random } from './random.ts';
import {
  FIRST_NAMES,
  INSURANCE_CARRIERS,
  LAST_NAMES,
  PLACES,
  PRACTICE_NAMES,
  STREET_NAMES,
} from './vocab.ts';
import type { WorkspaceMember } from './world.ts';

/**
 * A synthetic FHIR R4 Bulk Data export in the shape of a Synthea bulk export (one NDJSON file per
 * resource type and a manifest), written from Ferry's own word lists — never real data. Resources
 * carry what real exports do and a migrator must survive: several names (an old one first), ranked
 * phones, extensions, narrative, an SSN identifier (never migrated), contained payors, inline and
 * referenced attachments, a type split over two files. With a defect rate, each defect class lands on at least one line:
 * broken JSON, JSON that is no resource, a resource in the wrong file, a patient without a name or
 * with a bad email, references to patients not in the export, an unknown appointment status, a
 * document whose file is missing, outside the folder, remote or not base64; a resource type Ferry
 * does not map (Observation) and an error file (OperationOutcome) are always there.
 */

export interface FhirGenerateOptions {
  readonly patients: number;
  readonly seed: string | number;
  readonly defects: number;
  readonly outDir: string;
}

export interface FhirGenerated {
  readonly entities: Record<string, EntityExpectation>;
  readonly members: WorkspaceMember[];
  readonly facts: Record<string, number>;
}

type Resource = Record<string, unknown>;

/**
 * One resource type's NDJSON output and the expectation of the entity (or unmapped file) that reads
 * it. Lines are appended to the file as they are made (memory stays flat at any size); with `split`
 * set the type is written as `<Type>.000.ndjson` and, from line `split` on, `<Type>.001.ndjson`, as
 * servers split a large type.
 */
export class NdjsonFile {
  readonly expectation: EntityExpectation;
  readonly file: string;
  readonly #dir: string;
  readonly #split: number | undefined;
  /** Each written file's name and its non-blank lines. */
  readonly parts: { name: string; count: number }[] = [];
  #fd: number | undefined;
  #written = 0;

  constructor(dir: string, file: string, split?: number) {
    this.#dir = dir;
    this.file = file;
    this.#split = split;
    this.expectation = { file, rows: 0, loaded: 0, skipped: 0, skips: {}, rejects: {}, warnings: {} };
  }
  /** A resource that loads. */
  loaded(resource: Resource): void {
    this.#append(JSON.stringify(resource));
    this.expectation.rows++;
    this.expectation.loaded++;
  }
  /** A line refused with `reason`. */
  rejected(line: string, reason: string): void {
    this.#append(line);
    this.expectation.rows++;
    const rejects = this.expectation.rejects as Record<string, number>;
    rejects[reason] = (rejects[reason] ?? 0) + 1;
  }
  /** A line skipped with `reason`. */
  skippedLine(line: string, reason: string): void {
    this.#append(line);
    this.expectation.rows++;
    this.expectation.skipped++;
    this.expectation.skips[reason] = (this.expectation.skips[reason] ?? 0) + 1;
  }
  blank(): void {
    this.#append('');
  }
  /** Closes the file (an empty one is still written: the manifest lists it). */
  close(): void {
    if (this.#fd === undefined) this.#open();
    closeSync(this.#fd as number);
    this.#fd = undefined;
  }
  #open(): void {
    const base = this.file.replace(/\.ndjson$/, '');
    const name =
      this.#split === undefined ? this.file : `${base}.${String(this.parts.length).padStart(3, '0')}.ndjson`;
    this.parts.push({ name, count: 0 });
    this.#fd = openSync(join(this.#dir, name), 'w');
  }
  #append(line: string): void {
    if (this.#fd !== undefined && this.#split !== undefined && this.#written === this.#split) {
      closeSync(this.#fd);
      this.#fd = undefined;
    }
    if (this.#fd === undefined) this.#open();
    writeSync(this.#fd as number, `${line}\n`);
    this.#written++;
    const part = this.parts.at(-1);
    if (part !== undefined && line !== '') part.count++;
  }
}

const ORIGIN = Date.UTC(2026, 0, 5, 9, 0, 0);
const DAY = 86_400_000;
const iso = (ms: number): string => new Date(ms).toISOString();
const isoDate = (ms: number): string => iso(ms).slice(0, 10);

const ascii = (s: string): string =>
  s
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^A-Za-z]/g, '')
    .toLowerCase();

/** A fictional phone in the 555-01xx range, as FHIR servers store them (digits and dashes). */
const phoneOf = (rng: Random, area: string): string =>
  `${area}-555-01${String(rng.int(0, 99)).padStart(2, '0')}`;

const ref = (type: string, id: string): { reference: string } => ({ reference: `${type}/${id}` });

const RACE_EXTENSION = {
  url: 'http://hl7.org/fhir/us/core/StructureDefinition/us-core-race',
  extension: [
    {
      url: 'ombCategory',
      valueCoding: { system: 'urn:oid:2.16.840.1.113883.6.238', code: '2106-3', display: 'White' },
    },
    { url: 'text', valueString: 'White' },
  ],
};

/** Per-class count of defective lines: at least one when defects are on. */
const defectCount = (rate: number, n: number): number => (rate <= 0 ? 0 : Math.max(1, Math.round(rate * n)));

export function generateFhir(opts: FhirGenerateOptions): FhirGenerated {
  const { outDir } = opts;
  const rng = new Random(`fhir:${opts.seed}`);
  const k = (n: number): number => defectCount(opts.defects, n);
  const file = (type: string, split?: number): NdjsonFile => new NdjsonFile(outDir, `${type}.ndjson`, split);
  const organizations = file('Organization');
  const practitioners = file('Practitioner');
  const roles = file('PractitionerRole');
  // Patients come in two files, as a server splits a large type: the defective lines land in the second.
  const patients = file('Patient', Math.ceil(opts.patients / 2));
  const coverages = file('Coverage');
  const encounters = file('Encounter');
  const appointments = file('Appointment');
  const claims = file('Claim');
  const eobs = file('ExplanationOfBenefit');
  const documents = file('DocumentReference');
  const observations = file('Observation');
  const outcomes = file('OperationOutcome');
  const binaryDir = join(outDir, 'Binary');
  mkdirSync(binaryDir, { recursive: true });
  const facts: Record<string, number> = {
    inlineDocuments: 0,
    fileDocuments: 0,
    containedPayors: 0,
  };

  // Organizations: practices (the second one part of the first) and the payers.
  const practiceIds: string[] = [];
  const practiceCount = Math.max(2, Math.ceil(opts.patients / 25));
  for (let i = 1; i <= practiceCount; i++) {
    const id = `org-${i}`;
    const place = PLACES[i % PLACES.length] as (typeof PLACES)[number];
    practiceIds.push(id);
    organizations.loaded({
      resourceType: 'Organization',
      id,
      meta: { lastUpdated: iso(ORIGIN - i * DAY) },
      identifier: [{ system: 'http://hl7.org/fhir/sid/us-npi', value: `99${String(i).padStart(8, '0')}` }],
      active: true,
      type: [
        { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/organization-type', code: 'prov' }] },
      ],
      name: `${PRACTICE_NAMES[i % PRACTICE_NAMES.length]} ${i}`,
      telecom: [
        { system: 'phone', value: phoneOf(rng, place.area) },
        { system: 'url', value: `https://practice${i}.example.com` },
      ],
      address: [
        {
          line: [`${i * 10} ${rng.pick(STREET_NAMES)} St`],
          city: place.city,
          state: place.state,
          postalCode: place.zip,
          country: 'US',
        },
      ],
      ...(i === 2 ? { partOf: ref('Organization', 'org-1') } : {}),
    });
  }
  const payerIds: string[] = [];
  INSURANCE_CARRIERS.slice(0, 4).forEach((carrier, i) => {
    const id = `payer-${i + 1}`;
    payerIds.push(id);
    organizations.loaded({
      resourceType: 'Organization',
      id,
      meta: { lastUpdated: iso(ORIGIN - 40 * DAY) },
      type: [
        { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/organization-type', code: 'pay' }] },
      ],
      name: carrier,
      telecom: [{ system: 'url', value: `https://payer${i + 1}.example.net` }],
    });
  });

  // Practitioners: the first is a workspace member (matched by email, not loaded as a person).
  const members: WorkspaceMember[] = [];
  const practitionerIds: string[] = [];
  const practitionerCount = Math.max(2, Math.ceil(opts.patients / 15));
  for (let i = 1; i <= practitionerCount; i++) {
    const id = `pract-${i}`;
    const first = rng.pick(FIRST_NAMES);
    const last = rng.pick(LAST_NAMES);
    const email = `dr.${ascii(first)}.${ascii(last)}${i}@example.org`;
    const resource: Resource = {
      resourceType: 'Practitioner',
      id,
      meta: { lastUpdated: iso(ORIGIN - 30 * DAY + i * 1000) },
      identifier: [{ system: 'http://hl7.org/fhir/sid/us-npi', value: `98${String(i).padStart(8, '0')}` }],
      name: [{ use: 'official', family: last, given: [first], prefix: ['Dr.'] }],
      telecom: [{ system: 'email', value: email, use: 'work' }],
      qualification: [{ code: { text: rng.pick(['DDS', 'DMD', 'MD', 'RDH']) } }],
    };
    if (i === 1) {
      members.push({ email, firstName: first, lastName: last });
      practitioners.skippedLine(JSON.stringify(resource), 'MATCHED_MEMBER');
    } else {
      practitioners.loaded(resource);
      practitionerIds.push(id);
    }
    roles.skippedLine(
      JSON.stringify({
        resourceType: 'PractitionerRole',
        id: `role-${i}`,
        practitioner: ref('Practitioner', id),
        organization: ref('Organization', rng.pick(practiceIds)),
      }),
      'NOT_MAPPED',
    );
  }
  const anyPractitioner = (): string => (practitionerIds.length > 0 ? rng.pick(practitionerIds) : 'pract-1');

  // Patients and everything that points at them.
  const missingName = new Set<number>();
  const badEmail = new Set<number>();
  for (let j = 0; j < k(opts.patients); j++) missingName.add(2 + j * 7);
  for (let j = 0; j < k(opts.patients); j++) badEmail.add(4 + j * 7);
  let encounterNo = 0;
  let documentNo = 0;
  for (let n = 1; n <= opts.patients; n++) {
    const id = `pat-${n}`;
    const first = rng.pick(FIRST_NAMES);
    const middle = rng.pick(FIRST_NAMES);
    const last = rng.pick(LAST_NAMES);
    const place = rng.pick(PLACES);
    const born = ORIGIN - rng.int(3 * 365, 85 * 365) * DAY;
    const email = badEmail.has(n)
      ? `${ascii(first)}.${ascii(last)}.at.example.org`
      : `${ascii(first)}.${ascii(last)}${n}@example.com`;
    const names = missingName.has(n)
      ? []
      : [
          { use: 'old', family: rng.pick(LAST_NAMES), given: [first], period: { end: '2015-06-30' } },
          {
            use: 'official',
            family: last,
            given: [first, middle],
            prefix: [rng.pick(['Mr.', 'Ms.', 'Mx.'])],
          },
          { use: 'nickname', given: [first.slice(0, 3)] },
        ];
    const patient: Resource = {
      resourceType: 'Patient',
      id,
      meta: {
        lastUpdated: iso(ORIGIN - rng.int(1, 300) * DAY + n * 1000),
        profile: ['http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient'],
      },
      text: {
        status: 'generated',
        div: '<div xmlns="http://www.w3.org/1999/xhtml">Generated by Ferry</div>',
      },
      extension: [
        RACE_EXTENSION,
        { url: 'http://synthetichealth.github.io/synthea/disability-adjusted-life-years', valueDecimal: 0.1 },
      ],
      identifier: [
        { system: 'https://github.com/synthetichealth/synthea', value: `syn-${n}` },
        {
          type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MR' }] },
          system: 'http://hospital.example.org',
          value: `MRN${String(n).padStart(6, '0')}`,
        },
        {
          type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'SS' }] },
          system: 'http://hl7.org/fhir/sid/us-ssn',
          value: `999-${String(10 + (n % 89)).padStart(2, '0')}-${String(n % 10_000).padStart(4, '0')}`,
        },
      ],
      name: names,
      telecom: [
        { system: 'phone', value: phoneOf(rng, place.area), use: 'home', rank: 2 },
        { system: 'email', value: email },
        { system: 'phone', value: phoneOf(rng, place.area), use: 'mobile', rank: 1 },
      ],
      gender: rng.pick(['male', 'female', 'other', 'unknown']),
      birthDate: isoDate(born),
      address: [
        { use: 'old', line: ['1 Old Rd'], city: 'Nowhere', state: 'ZZ', period: { end: '2010-01-01' } },
        {
          use: 'home',
          line: [
            `${rng.int(1, 9999)} ${rng.pick(STREET_NAMES)} Ave`,
            ...(n % 3 === 0 ? [`Apt ${n % 40}`] : []),
          ],
          city: place.city,
          state: place.state,
          postalCode: place.zip,
          country: 'US',
          extension: [
            {
              url: 'http://hl7.org/fhir/StructureDefinition/geolocation',
              extension: [{ url: 'latitude', valueDecimal: 40.1 }],
            },
          ],
        },
      ],
      maritalStatus: { text: 'Never Married' },
      managingOrganization: ref('Organization', practiceIds[n % practiceIds.length] as string),
      generalPractitioner: [ref('Practitioner', anyPractitioner())],
    };
    if (missingName.has(n)) {
      patients.rejected(JSON.stringify(patient), 'MISSING_REQUIRED');
      continue;
    }
    if (badEmail.has(n)) {
      patients.rejected(JSON.stringify(patient), 'INVALID_EMAIL');
      continue;
    }
    patients.loaded(patient);
    const practice = practiceIds[n % practiceIds.length] as string;
    const payer = payerIds[n % payerIds.length] as string;

    // Coverage: every fifth payor is a contained Organization (no reference to resolve).
    const contained = n % 5 === 0;
    if (contained) facts.containedPayors = (facts.containedPayors ?? 0) + 1;
    coverages.loaded({
      resourceType: 'Coverage',
      id: `cov-${n}`,
      meta: { lastUpdated: iso(ORIGIN - 20 * DAY) },
      ...(contained ? { contained: [{ resourceType: 'Organization', id: 'payor', name: 'Self Pay' }] } : {}),
      status: 'active',
      type: { text: rng.pick(['PPO', 'HMO', 'Dental PPO']) },
      subscriberId: `SUB${String(n).padStart(7, '0')}`,
      beneficiary: ref('Patient', id),
      relationship: { coding: [{ code: 'self', display: 'Self' }] },
      period: { start: '2025-01-01', end: '2026-12-31' },
      payor: [contained ? { reference: '#payor' } : { ...ref('Organization', payer), display: 'payer' }],
    });

    const visits = 1 + (n % 2);
    for (let v = 0; v < visits; v++) {
      encounterNo++;
      const start = ORIGIN - rng.int(1, 200) * DAY + rng.int(8, 16) * 3_600_000;
      const encounterId = `enc-${encounterNo}`;
      encounters.loaded({
        resourceType: 'Encounter',
        id: encounterId,
        meta: { lastUpdated: iso(start + DAY) },
        status: 'finished',
        class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
        type: [
          {
            coding: [
              { system: 'http://snomed.info/sct', code: '185349003', display: 'Encounter for check up' },
            ],
          },
        ],
        subject: ref('Patient', id),
        participant: [{ individual: { ...ref('Practitioner', anyPractitioner()), display: 'Dr.' } }],
        period: { start: iso(start), end: iso(start + 1_800_000) },
        serviceProvider: ref('Organization', practice),
        reasonCode: [{ text: 'Routine check-up' }],
      });
      const claimId = `claim-${encounterNo}`;
      const total = (rng.int(5_000, 90_000) / 100).toFixed(2);
      claims.loaded({
        resourceType: 'Claim',
        id: claimId,
        meta: { lastUpdated: iso(start + 2 * DAY) },
        status: 'active',
        type: {
          coding: [{ system: 'http://terminology.hl7.org/CodeSystem/claim-type', code: 'professional' }],
        },
        use: 'claim',
        patient: ref('Patient', id),
        billablePeriod: { start: iso(start), end: iso(start + 1_800_000) },
        created: iso(start + DAY),
        provider: ref('Organization', practice),
        insurer: ref('Organization', payer),
        priority: { coding: [{ code: 'normal' }] },
        insurance: [{ sequence: 1, focal: true, coverage: ref('Coverage', `cov-${n}`) }],
        item: [
          { sequence: 1, encounter: [ref('Encounter', encounterId)], productOrService: { text: 'Check up' } },
        ],
        total: { value: Number(total), currency: 'USD' },
      });
      eobs.loaded({
        resourceType: 'ExplanationOfBenefit',
        id: `eob-${encounterNo}`,
        meta: { lastUpdated: iso(start + 5 * DAY) },
        status: 'active',
        type: { coding: [{ code: 'professional' }] },
        use: 'claim',
        patient: ref('Patient', id),
        created: iso(start + 4 * DAY),
        insurer: ref('Organization', payer),
        provider: ref('Organization', practice),
        claim: ref('Claim', claimId),
        outcome: 'complete',
        total: [
          {
            category: { coding: [{ code: 'submitted' }] },
            amount: { value: Number(total), currency: 'USD' },
          },
          {
            category: { coding: [{ code: 'benefit' }] },
            amount: { value: Number(total) * 0.8, currency: 'USD' },
          },
        ],
        payment: { amount: { value: Number((Number(total) * 0.8).toFixed(2)), currency: 'USD' } },
      });
    }

    const when = ORIGIN + rng.int(1, 60) * DAY + rng.int(8, 16) * 3_600_000;
    appointments.loaded({
      resourceType: 'Appointment',
      id: `appt-${n}`,
      meta: { lastUpdated: iso(ORIGIN) },
      status: rng.pick(['booked', 'fulfilled', 'cancelled', 'noshow', 'proposed']),
      serviceType: [{ text: rng.pick(['Cleaning', 'Check-up', 'Consultation', 'Filling']) }],
      description: 'Synthetic appointment',
      start: iso(when),
      end: iso(when + 1_800_000),
      participant: [
        { actor: { ...ref('Patient', id), display: 'patient' }, status: 'accepted' },
        { actor: ref('Practitioner', n % 3 === 0 ? 'pract-1' : anyPractitioner()), status: 'accepted' },
      ],
      comment: 'Bring your insurance card.',
    });

    documentNo++;
    const body = `Synthetic clinical document ${documentNo} for test patient ${n}.\n`;
    const inline = n % 2 === 0;
    const docAttachment: Resource = inline
      ? {
          contentType: 'text/plain',
          title: `visit-summary-${documentNo}.txt`,
          data: Buffer.from(body).toString('base64'),
        }
      : {
          contentType: 'text/plain',
          title: `referral-${documentNo}.txt`,
          url: `Binary/doc-${documentNo}.txt`,
        };
    if (inline) facts.inlineDocuments = (facts.inlineDocuments ?? 0) + 1;
    else {
      facts.fileDocuments = (facts.fileDocuments ?? 0) + 1;
      writeFileSync(join(binaryDir, `doc-${documentNo}.txt`), body);
    }
    documents.loaded({
      resourceType: 'DocumentReference',
      id: `doc-${documentNo}`,
      meta: { lastUpdated: iso(ORIGIN - DAY) },
      status: 'current',
      type: {
        coding: [{ system: 'http://loinc.org', code: '34117-2', display: 'History and physical note' }],
      },
      subject: ref('Patient', id),
      date: iso(ORIGIN - 2 * DAY),
      author: [ref('Practitioner', anyPractitioner())],
      content: [{ attachment: docAttachment, format: { code: 'urn:ihe:iti:xds:2017:mimeTypeSufficient' } }],
    });

    observations.skippedLine(
      JSON.stringify({
        resourceType: 'Observation',
        id: `obs-${n}`,
        status: 'final',
        code: { coding: [{ system: 'http://loinc.org', code: '29463-7', display: 'Body weight' }] },
        subject: ref('Patient', id),
        valueQuantity: { value: rng.int(40, 110), unit: 'kg' },
      }),
      'UNSUPPORTED_RESOURCE_TYPE',
    );
  }

  // Defective lines: each class at least once when defects are on.
  for (let j = 0; j < k(opts.patients); j++) {
    patients.rejected('{"resourceType":"Patient","id":"pat-broken', 'INVALID_JSON');
    patients.rejected(JSON.stringify({ note: 'not a resource', id: `x-${j}` }), 'NOT_FHIR_RESOURCE');
    patients.rejected(
      JSON.stringify({
        resourceType: 'Observation',
        id: `stray-${j}`,
        status: 'final',
        code: { text: 'stray' },
      }),
      'UNEXPECTED_RESOURCE_TYPE',
    );
    patients.blank();
    const ghost = `pat-not-exported-${j}`;
    encounters.rejected(
      JSON.stringify({
        resourceType: 'Encounter',
        id: `enc-orphan-${j}`,
        status: 'finished',
        class: { code: 'AMB' },
        subject: ref('Patient', ghost),
      }),
      'ORPHAN_REFERENCE',
    );
    coverages.rejected(
      JSON.stringify({
        resourceType: 'Coverage',
        id: `cov-orphan-${j}`,
        status: 'active',
        beneficiary: ref('Patient', ghost),
        payor: [ref('Organization', 'payer-1')],
      }),
      'ORPHAN_REFERENCE',
    );
    claims.rejected(
      JSON.stringify({
        resourceType: 'Claim',
        id: `claim-orphan-${j}`,
        status: 'active',
        use: 'claim',
        patient: ref('Patient', ghost),
        created: iso(ORIGIN),
      }),
      'ORPHAN_REFERENCE',
    );
    appointments.rejected(
      JSON.stringify({
        resourceType: 'Appointment',
        id: `appt-orphan-${j}`,
        status: 'booked',
        start: iso(ORIGIN),
        participant: [{ actor: ref('Patient', ghost) }],
      }),
      'ORPHAN_REFERENCE',
    );
    appointments.rejected(
      JSON.stringify({
        resourceType: 'Appointment',
        id: `appt-odd-${j}`,
        status: 'rescheduled',
        start: iso(ORIGIN),
        participant: [{ actor: ref('Patient', 'pat-1') }],
      }),
      'UNMAPPED_VALUE',
    );
    const badDocs: Resource[] = [
      { contentType: 'text/plain', title: 'missing.txt', url: `Binary/missing-${j}.txt` },
      { contentType: 'text/plain', title: 'escape.txt', url: `../../outside-${j}.txt` },
      { contentType: 'text/plain', title: 'remote.txt', url: `https://fhir.example.net/Binary/${j}` },
      { contentType: 'text/plain', title: 'broken.txt', data: 'not base64!' },
    ];
    badDocs.forEach((attachment, d) => {
      documents.rejected(
        JSON.stringify({
          resourceType: 'DocumentReference',
          id: `doc-bad-${j}-${d}`,
          status: 'current',
          subject: ref('Patient', 'pat-1'),
          content: [{ attachment }],
        }),
        'MISSING_FILE',
      );
    });
  }

  outcomes.skippedLine(
    JSON.stringify({
      resourceType: 'OperationOutcome',
      id: 'export-error-1',
      issue: [
        {
          severity: 'error',
          code: 'processing',
          diagnostics: 'Unable to export MedicationRequest resources',
        },
      ],
    }),
    'EXPORT_ERROR',
  );

  const all = [
    organizations,
    practitioners,
    roles,
    patients,
    coverages,
    encounters,
    appointments,
    claims,
    eobs,
    documents,
    observations,
  ];
  for (const f of [...all, outcomes]) f.close();
  const manifest = {
    transactionTime: iso(ORIGIN),
    request:
      'https://fhir.example.net/r4/$export?_type=Patient,Practitioner,PractitionerRole,Organization,Coverage,Encounter,Appointment,Claim,ExplanationOfBenefit,DocumentReference,Observation',
    requiresAccessToken: true,
    output: all.flatMap((f) =>
      f.parts.map((part) => ({
        type: f.file.replace(/\.ndjson$/, ''),
        url: `https://fhir.example.net/r4/bulk/${opts.seed}/${part.name}`,
        count: part.count,
      })),
    ),
    error: [
      { type: 'OperationOutcome', url: `https://fhir.example.net/r4/bulk/${opts.seed}/${outcomes.file}` },
    ],
  };
  writeFileSync(join(outDir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);

  const entities: Record<string, EntityExpectation> = {
    organizations: organizations.expectation,
    practitioners: practitioners.expectation,
    practitionerrole: roles.expectation,
    patients: patients.expectation,
    coverages: coverages.expectation,
    encounters: encounters.expectation,
    appointments: appointments.expectation,
    claims: claims.expectation,
    explanationsOfBenefit: eobs.expectation,
    documents: documents.expectation,
    observation: observations.expectation,
    operationoutcome: outcomes.expectation,
  };
  return { entities, members, facts };
}
