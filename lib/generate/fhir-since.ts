import {
  closeSync,
  existsSync,
  openSync,
  readdirSync,
  readFileSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../../lambdas/core/errors.ts';
import type { EntityExpectation } from './entity-writer.ts';
import { NdjsonFile } from './fhir.ts';
import { Random } from './random.ts';
import { FIRST_NAMES, LAST_NAMES } from './vocab.ts';

/**
 * The `_since` follow-up of a generated FHIR bulk export (`ferry generate --source fhir --since-of
 * <base dir>`): what a server returns when asked for what changed after the base export's
 * `transactionTime`. It is written from the base export's own NDJSON, so it can only name records the
 * base holds: some of its patients changed (a new mobile number), one unchanged patient the server
 * includes because a new encounter references it (twice, identically: skipped DUPLICATE_IN_EXPORT), `patients` new patients (the first with a birth
 * date of year and month only), a changed encounter, new encounters, an appointment and a
 * two-representation document that reference patients only the base export holds, an encounter whose
 * patient is nowhere (ORPHAN_REFERENCE), and a `deleted[]` file naming a base patient, a base
 * appointment, a patient no export ever held and an Observation. `expected.json` says per entity what
 * loads and, under `delta`, what the delta must count new, changed, unchanged and missing.
 */

export interface FhirSinceOptions {
  /** The base export's folder (written by `ferry generate --source fhir`). */
  readonly baseDir: string;
  /** New patients in the follow-up (at least 1). */
  readonly patients: number;
  readonly seed: string | number;
  readonly outDir: string;
}

/** Per entity, what a delta of this follow-up over a run of the base export must count. */
export interface DeltaExpectation {
  new: number;
  changed: number;
  unchanged: number;
  missing: number;
}

export interface FhirSinceGenerated {
  readonly since: string;
  readonly entities: Record<string, EntityExpectation>;
  readonly delta: Record<string, DeltaExpectation>;
  readonly facts: Record<string, number>;
}

type Resource = Record<string, unknown>;

const DAY = 86_400_000;

/** The base export's resources of one type that are well formed (defect lines are passed over). */
function baseResources(dir: string, type: string): Resource[] {
  const out: Resource[] = [];
  const files = readdirSync(dir)
    .filter((f) => f.startsWith(`${type}.`) && f.endsWith('.ndjson'))
    .sort();
  for (const file of files)
    for (const line of readFileSync(join(dir, file), 'utf8').split('\n')) {
      try {
        const json = JSON.parse(line) as unknown;
        if (typeof json === 'object' && json !== null && (json as Resource).resourceType === type)
          out.push(json as Resource);
      } catch {
        // the base export's broken lines: not resources
      }
    }
  return out;
}

/** A base patient the base run loads: generated ids only, a name and a well-formed email. */
function loadable(patient: Resource): boolean {
  const telecom = Array.isArray(patient.telecom) ? (patient.telecom as Resource[]) : [];
  const email = telecom.find((t) => t.system === 'email')?.value;
  return (
    /^pat-\d+$/.test(String(patient.id)) &&
    Array.isArray(patient.name) &&
    patient.name.length > 0 &&
    typeof email === 'string' &&
    email.includes('@')
  );
}

const ref = (type: string, id: string): { reference: string } => ({ reference: `${type}/${id}` });

export function generateFhirSince(opts: FhirSinceOptions): FhirSinceGenerated {
  const manifestPath = join(opts.baseDir, 'manifest.json');
  if (!existsSync(manifestPath))
    throw new ConfigError(
      `generate --since-of: ${opts.baseDir} holds no manifest.json (not a generated FHIR export)`,
    );
  const base = JSON.parse(readFileSync(manifestPath, 'utf8')) as {
    transactionTime?: unknown;
    request?: unknown;
  };
  if (typeof base.transactionTime !== 'string' || Number.isNaN(Date.parse(base.transactionTime)))
    throw new ConfigError('generate --since-of: the base manifest has no valid transactionTime');
  const since = base.transactionTime;
  const now = Date.parse(since) + 2 * DAY;
  const iso = (ms: number): string => new Date(ms).toISOString();
  const rng = new Random(`fhir-since:${opts.seed}`);

  const patientsBase = baseResources(opts.baseDir, 'Patient').filter(loadable);
  if (patientsBase.length < 6)
    throw new ConfigError(
      'generate --since-of: the base export needs at least 6 loadable patients (generate it with --patients 10 or more)',
    );
  const [changedA, changedB, unchangedRef, baseOnly, deletedPatient, withDeletedAppointment] =
    patientsBase as [Resource, Resource, Resource, Resource, Resource, Resource];
  const baseEncounter = baseResources(opts.baseDir, 'Encounter').find((e) => /^enc-\d+$/.test(String(e.id)));
  const deletedAppointment = baseResources(opts.baseDir, 'Appointment').find(
    (a) => a.id === `appt-${String(withDeletedAppointment.id).slice('pat-'.length)}`,
  );
  if (baseEncounter === undefined || deletedAppointment === undefined)
    throw new ConfigError(
      'generate --since-of: the base export lacks the encounters and appointments it generates',
    );

  const file = (type: string): NdjsonFile => new NdjsonFile(opts.outDir, `${type}.ndjson`);
  const patients = file('Patient');
  const encounters = file('Encounter');
  const appointments = file('Appointment');
  const documents = file('DocumentReference');
  const delta: Record<string, DeltaExpectation> = {
    patients: { new: 0, changed: 0, unchanged: 0, missing: 0 },
    encounters: { new: 0, changed: 0, unchanged: 0, missing: 0 },
    appointments: { new: 0, changed: 0, unchanged: 0, missing: 0 },
    documents: { new: 0, changed: 0, unchanged: 0, missing: 0 },
  };
  const count = (entity: string, kind: keyof DeltaExpectation): void => {
    const d = delta[entity] as DeltaExpectation;
    d[kind]++;
  };

  // Changed: a new mobile number, a later lastUpdated.
  for (const patient of [changedA, changedB]) {
    const telecom = (patient.telecom as Resource[]).map((t) =>
      t.use === 'mobile' ? { ...t, value: `617-555-02${String(rng.int(0, 99)).padStart(2, '0')}` } : t,
    );
    patients.loaded({
      ...patient,
      meta: { ...(patient.meta as Resource), lastUpdated: iso(now - DAY) },
      telecom,
    });
    count('patients', 'changed');
  }
  // Unchanged, included because a new encounter references it (servers may add referenced resources).
  patients.loaded(unchangedRef);
  count('patients', 'unchanged');
  // New patients; the first knows only the year and month of its birth.
  const newIds: string[] = [];
  for (let n = 1; n <= Math.max(1, opts.patients); n++) {
    const id = `pat-since-${n}`;
    newIds.push(id);
    const first = rng.pick(FIRST_NAMES);
    const last = rng.pick(LAST_NAMES);
    patients.loaded({
      resourceType: 'Patient',
      id,
      meta: { lastUpdated: iso(now - DAY + n * 1000) },
      name: [{ use: 'official', family: last, given: [first] }],
      telecom: [
        { system: 'phone', value: `617-555-03${String(n % 100).padStart(2, '0')}`, use: 'mobile' },
        { system: 'email', value: `since.patient${n}@example.com` },
      ],
      gender: rng.pick(['male', 'female', 'other', 'unknown']),
      birthDate:
        n === 1 ? '1980-05' : `19${String(50 + (n % 50)).padStart(2, '0')}-0${1 + (n % 9)}-1${n % 10}`,
      managingOrganization: ref('Organization', 'org-1'),
    });
    count('patients', 'new');
  }

  // The unchanged patient once more, as a server repeats a resource several others reference: loaded once.
  patients.skippedLine(JSON.stringify(unchangedRef), 'DUPLICATE_IN_EXPORT');

  // Encounters: one changed, new ones for the unchanged, the base-only and each new patient, one orphan.
  encounters.loaded({
    ...baseEncounter,
    meta: { lastUpdated: iso(now - DAY / 2) },
    status: 'entered-in-error',
  });
  count('encounters', 'changed');
  const encounterFor = (id: string, patientId: string): Resource => ({
    resourceType: 'Encounter',
    id,
    meta: { lastUpdated: iso(now - DAY / 4) },
    status: 'finished',
    class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
    type: [{ text: 'Follow-up' }],
    subject: ref('Patient', patientId),
    period: { start: iso(now - DAY / 3), end: iso(now - DAY / 3 + 1_800_000) },
    serviceProvider: ref('Organization', 'org-1'),
  });
  const encounterSubjects = [String(unchangedRef.id), String(baseOnly.id), ...newIds];
  encounterSubjects.forEach((patientId, i) => {
    encounters.loaded(encounterFor(`enc-since-${i + 1}`, patientId));
    count('encounters', 'new');
  });
  encounters.rejected(JSON.stringify(encounterFor('enc-since-orphan', 'pat-nowhere')), 'ORPHAN_REFERENCE');

  // An appointment and a document of the patient only the base export holds.
  appointments.loaded({
    resourceType: 'Appointment',
    id: 'appt-since-1',
    meta: { lastUpdated: iso(now - DAY / 5) },
    status: 'booked',
    serviceType: [{ text: 'Follow-up' }],
    start: iso(now + 7 * DAY),
    end: iso(now + 7 * DAY + 1_800_000),
    participant: [
      { actor: ref('Patient', String(baseOnly.id)), status: 'accepted' },
      { actor: ref('Practitioner', 'pract-2'), status: 'accepted' },
    ],
  });
  count('appointments', 'new');
  const body = 'Synthetic follow-up letter for a test patient.\n';
  documents.loaded({
    resourceType: 'DocumentReference',
    id: 'doc-since-1',
    meta: { lastUpdated: iso(now - DAY / 6) },
    status: 'current',
    subject: ref('Patient', String(baseOnly.id)),
    date: iso(now - DAY / 6),
    // Two representations of one document: Ferry keeps the one that carries its bytes (the second).
    content: [
      {
        attachment: {
          contentType: 'application/pdf',
          title: 'follow-up.pdf',
          url: 'https://fhir.example.net/r4/Binary/remote-1',
        },
      },
      {
        attachment: {
          contentType: 'text/plain',
          title: 'follow-up.txt',
          data: Buffer.from(body).toString('base64'),
        },
      },
    ],
  });
  count('documents', 'new');

  // Deletions: a base patient and a base appointment (missing), a patient never exported and an
  // Observation (nothing Ferry loaded: not missing).
  const deletedName = 'Bundle.deleted.ndjson';
  const bundle = {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      { request: { method: 'DELETE', url: `Patient/${String(deletedPatient.id)}` } },
      { request: { method: 'DELETE', url: `Appointment/${String(deletedAppointment.id)}` } },
      { request: { method: 'DELETE', url: 'Patient/pat-never-exported' } },
      { request: { method: 'DELETE', url: 'Observation/obs-1' } },
    ],
  };
  const fd = openSync(join(opts.outDir, deletedName), 'w');
  writeSync(fd, `${JSON.stringify(bundle)}\n`);
  closeSync(fd);
  count('patients', 'missing');
  count('appointments', 'missing');

  const all = [patients, encounters, appointments, documents];
  for (const f of all) f.close();
  const baseUrl = 'https://fhir.example.net/r4/bulk';
  const manifest = {
    transactionTime: iso(now),
    request: `https://fhir.example.net/r4/$export?_type=Patient,Encounter,Appointment,DocumentReference&_since=${encodeURIComponent(since)}`,
    requiresAccessToken: true,
    output: all.map((f) => ({
      type: f.file.replace(/\.ndjson$/, ''),
      url: `${baseUrl}/${opts.seed}-since/${f.file}`,
      count: f.expectation.rows,
    })),
    error: [],
    deleted: [{ type: 'Bundle', url: `${baseUrl}/${opts.seed}-since/${deletedName}` }],
  };
  writeFileSync(join(opts.outDir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  const deletedExpectation: EntityExpectation = {
    file: deletedName,
    rows: 1,
    loaded: 0,
    skipped: 1,
    skips: { DELETED_IN_SOURCE: 1 },
    rejects: {},
    warnings: {},
  };
  return {
    since,
    entities: {
      patients: patients.expectation,
      encounters: encounters.expectation,
      appointments: appointments.expectation,
      documents: documents.expectation,
      'bundle.deleted': deletedExpectation,
    },
    delta,
    facts: { deletions: bundle.entry.length, partialBirthDates: 1, inlineDocuments: 1 },
  };
}
