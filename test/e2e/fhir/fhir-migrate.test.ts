import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordId } from '../../../lambdas/core/mapping/ids.ts';
import { ReconciliationSchema } from '../../../lambdas/core/reconcile/report.ts';
import { uploadExportFolder } from '../../../lib/cli/drop-folder.ts';
import { type ExpectedExport, generateExport } from '../../../lib/generate/index.ts';
import { autoApprover } from '../../../lib/local/approvals.ts';
import { type LocalRuntime, startLocalRuntime } from '../../../lib/local/runtime.ts';
import { type RunningSandbox, type SandboxDump, startSandbox } from '../../../lib/sandbox/index.ts';
import { expectCountsAsPredicted } from '../support/expected-counts.ts';

// biome-ignore lint/suspicious/noExplicitAny: the test reads raw FHIR resources and sandbox records of any shape
type Json = Record<string, any>;

/** The generated export's resources of one type, read straight from its NDJSON (independent of Ferry's reader). */
function resources(dir: string, type: string): Json[] {
  const out: Json[] = [];
  const files = readdirSync(dir).filter((f) => f.startsWith(`${type}.`) && f.endsWith('.ndjson'));
  for (const file of files.sort())
    for (const line of readFileSync(join(dir, file), 'utf8').split('\n')) {
      try {
        const json = JSON.parse(line) as unknown;
        if (typeof json === 'object' && json !== null && (json as Json).resourceType === type)
          out.push(json as Json);
      } catch {
        // broken lines are the export's defects: Ferry must reject them, this test only reads the good ones
      }
    }
  return out;
}

const idOfRef = (ref: Json | undefined): string =>
  String(ref?.reference ?? '')
    .split('/')
    .at(-1) ?? '';
const sha = (bytes: Buffer | string): string => createHash('sha256').update(bytes).digest('hex');

describe('migrating a generated FHIR bulk export into the sandbox', () => {
  let dir: string;
  let expected: ExpectedExport;
  let sandbox: RunningSandbox;
  let runtime: LocalRuntime;
  let folder: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ferry-e2e-fhir-'));
    expected = generateExport({ source: 'fhir', patients: 40, seed: 'e2e-fhir', defects: 0.03, outDir: dir });
    sandbox = await startSandbox({
      flavor: 'v2',
      rateShort: null,
      rateLong: null,
      members: expected.workspaceMembers,
    });
    runtime = await startLocalRuntime({
      inMemory: true,
      retryIntervalMs: 0,
      twenty: { url: sandbox.url, apiKey: sandbox.apiKey, rate: '1000/1s+60000/60s' },
    });
    folder = (await uploadExportFolder(runtime.deps.drop, dir)).folder;
  }, 120_000);
  afterAll(async () => {
    await runtime?.stop();
    await sandbox?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  let dump: SandboxDump;
  let sourceInstance: string;
  const live = (object: string): Json[] => (dump.records[object] ?? []).filter((r) => r.deletedAt == null);
  const byId = (object: string): Map<string, Json> => new Map(live(object).map((r) => [String(r.id), r]));
  const id = (entity: string, sourceId: string): string => recordId(sourceInstance, 'fhir', entity, sourceId);

  it('detects the export, balances and reports exactly what expected.json predicts', async () => {
    const run = await runtime.startExecution(
      'migrate',
      { folder, options: { chunkSize: 20 } },
      { runId: 'e2e-fhir-1', approver: autoApprover('e2e') },
    );
    expect(run.error).toBeUndefined();
    expect(run.status).toBe('SUCCEEDED');
    const plan = JSON.parse(await runtime.deps.work.getText('runs/e2e-fhir-1/plan.json')) as Json;
    expect(plan.source).toBe('fhir');
    expect(plan.fhir.manifest).toBe('manifest.json');
    expect(plan.fhir.files['OperationOutcome.ndjson']).toEqual({ type: 'OperationOutcome', role: 'error' });
    expect((plan.warnings as Json[]).map((w) => w.code)).toContain('FHIR_EXPORT_ERRORS');
    // The manifest and the Binary/ documents are not data files.
    expect((plan.files as Json[]).every((f) => String(f.name).endsWith('.ndjson'))).toBe(true);
    // A type split over two files: both read by one entity.
    expect(plan.mapping.spec.entities.patients.files).toEqual(['Patient.000.ndjson', 'Patient.001.ndjson']);

    const reconciliation = ReconciliationSchema.parse(
      JSON.parse(await runtime.deps.work.getText('runs/e2e-fhir-1/reconciliation.json')),
    );
    expect(reconciliation.balanced).toBe(true);
    expect(reconciliation.missing).toBe(0);
    expect(reconciliation.mismatchCount).toBe(0);
    expectCountsAsPredicted(reconciliation, expected);
    // Every line of every NDJSON file is accounted for.
    const lines = Object.values(expected.entities).reduce((n, e) => n + e.rows, 0);
    expect(reconciliation.totals.sourceRows).toBe(lines);
    // Line rejects name the file and line, never a value.
    const rejects = await runtime.deps.work.getText('runs/e2e-fhir-1/rejects.csv');
    expect(rejects).toMatch(/Patient\.001\.ndjson,\d+,patients,.*INVALID_JSON/);
    expect(rejects).toContain('UNEXPECTED_RESOURCE_TYPE');

    dump = await sandbox.dump();
    sourceInstance = (JSON.parse(await runtime.deps.work.getText('runs/e2e-fhir-1/prepare.json')) as Json)
      .sourceInstance as string;
  }, 240_000);

  it('turns references into Twenty relations through the deterministic ids', () => {
    const people = byId('person');
    const companies = byId('company');
    const patients = resources(dir, 'Patient').filter((p) => people.has(id('patients', p.id)));
    expect(patients.length).toBe(expected.entities.patients?.loaded);
    for (const p of patients) {
      const person = people.get(id('patients', p.id)) as Json;
      expect(person.companyId).toBe(id('organizations', idOfRef(p.managingOrganization)));
      // The official name, not the old one listed first; the meta.lastUpdated instant kept.
      const official = (p.name as Json[]).find((n) => n.use === 'official') as Json;
      expect(person.name).toMatchObject({ firstName: official.given.join(' '), lastName: official.family });
      expect(new Date(String(person.sourceUpdatedAt)).toISOString()).toBe(p.meta.lastUpdated);
      // The phone ranked first (the mobile) is the primary one.
      const mobile = (p.telecom as Json[]).find((t) => t.rank === 1)?.value as string;
      expect(String(person.phones?.primaryPhoneNumber)).toMatch(/\d{7}/);
      expect(
        mobile.replace(/\D/g, '').endsWith(String(person.phones?.primaryPhoneNumber).replace(/\D/g, '')),
      ).toBe(true);
    }
    const org2 = companies.get(id('organizations', 'org-2')) as Json;
    expect(org2.parentOrganizationId).toBe(id('organizations', 'org-1'));

    const encounters = byId('encounter');
    for (const e of resources(dir, 'Encounter')) {
      const record = encounters.get(id('encounters', e.id));
      if (idOfRef(e.subject).startsWith('pat-not-exported')) {
        expect(record).toBeUndefined();
        continue;
      }
      expect(record?.personId, e.id).toBe(id('patients', idOfRef(e.subject)));
      expect(record?.companyId, e.id).toBe(id('organizations', idOfRef(e.serviceProvider)));
    }
    const coverages = byId('insuranceCoverage');
    for (const c of resources(dir, 'Coverage')) {
      const record = coverages.get(id('coverages', c.id));
      if (idOfRef(c.beneficiary).startsWith('pat-not-exported')) continue;
      expect(record?.personId).toBe(id('patients', idOfRef(c.beneficiary)));
      // A contained payor has no record to point at: no relation, its name kept.
      const contained = String(c.payor[0].reference).startsWith('#');
      expect(record?.companyId ?? null).toBe(contained ? null : id('organizations', idOfRef(c.payor[0])));
    }
    const claims = byId('insuranceClaim');
    for (const eob of resources(dir, 'ExplanationOfBenefit')) {
      const record = claims.get(id('explanationsOfBenefit', eob.id));
      expect(record?.personId).toBe(id('patients', idOfRef(eob.patient)));
      expect(record?.claimKind).toBe('EXPLANATION_OF_BENEFIT');
    }
    // Appointments are tasks targeting their patient (and their practitioner when loaded); one whose
    // practitioner is a workspace member (by email) is assigned to that member.
    const targets = live('taskTarget');
    const memberEmail = expected.workspaceMembers[0]?.email.toLowerCase();
    const member = live('workspaceMember').find((m) => String(m.userEmail).toLowerCase() === memberEmail);
    expect(member).toBeDefined();
    let assigned = 0;
    for (const a of resources(dir, 'Appointment')) {
      const task = byId('task').get(id('appointments', a.id));
      if (task === undefined) continue;
      const byMember = (a.participant as Json[]).some((p) => p.actor?.reference === 'Practitioner/pract-1');
      expect(task.assigneeId ?? null, a.id).toBe(byMember ? member?.id : null);
      if (byMember) assigned++;
    }
    expect(assigned).toBeGreaterThan(0);
    for (const a of resources(dir, 'Appointment')) {
      const patient = idOfRef((a.participant as Json[])[0]?.actor);
      if (patient.startsWith('pat-not-exported') || a.status === 'rescheduled') continue;
      const taskId = id('appointments', a.id);
      expect(byId('task').has(taskId), a.id).toBe(true);
      const mine = targets.filter((t) => t.taskId === taskId).map((t) => t.targetPersonId);
      expect(mine).toContain(id('patients', patient));
    }
  });

  it('uploads every document with the exact bytes: inline base64 decoded, url read from the drop folder', () => {
    const attachments = byId('attachment');
    const files = new Map(dump.files.map((f) => [f.id, f.sha256]));
    let inline = 0;
    let referenced = 0;
    for (const doc of resources(dir, 'DocumentReference')) {
      const record = attachments.get(id('documents', doc.id));
      const attachment = doc.content[0].attachment as Json;
      if (String(doc.id).startsWith('doc-bad-')) {
        expect(record, doc.id).toBeUndefined();
        continue;
      }
      expect(record, doc.id).toBeDefined();
      expect(record?.targetPersonId).toBe(id('patients', idOfRef(doc.subject)));
      const fileId = String(((record?.file as Json[] | undefined) ?? [])[0]?.fileId ?? '');
      const want =
        attachment.data !== undefined
          ? sha(Buffer.from(attachment.data as string, 'base64'))
          : sha(readFileSync(join(dir, attachment.url as string)));
      expect(files.get(fileId), doc.id).toBe(want);
      if (attachment.data !== undefined) inline++;
      else referenced++;
    }
    expect(inline).toBe(expected.facts.inlineDocuments);
    expect(referenced).toBe(expected.facts.fileDocuments);
    expect(inline).toBeGreaterThan(0);
    expect(referenced).toBeGreaterThan(0);
  });

  it('never migrates an SSN identifier, and skips a practitioner who is a workspace member', () => {
    const text = JSON.stringify(dump.records);
    for (const p of resources(dir, 'Patient'))
      for (const identifier of p.identifier as Json[])
        if (String(identifier.system).includes('us-ssn')) expect(text).not.toContain(identifier.value);
    const member = expected.workspaceMembers[0]?.email as string;
    const emails = live('person').map((p) => String(p.emails?.primaryEmail ?? '').toLowerCase());
    expect(emails).not.toContain(member);
    expect(byId('person').has(id('practitioners', 'pract-1'))).toBe(false);
  });

  it('is a no-op the second time: every record unchanged, no file uploaded again', async () => {
    const before = await sandbox.stats();
    const filesBefore = (await sandbox.dump()).files.length;
    const run = await runtime.startExecution(
      'migrate',
      { folder, options: { chunkSize: 20 } },
      { runId: 'e2e-fhir-2', approver: autoApprover('e2e') },
    );
    expect(run.status).toBe('SUCCEEDED');
    const reconciliation = ReconciliationSchema.parse(
      JSON.parse(await runtime.deps.work.getText('runs/e2e-fhir-2/reconciliation.json')),
    );
    expect(reconciliation.totals.created).toBe(0);
    expect(reconciliation.totals.updated).toBe(0);
    expect(reconciliation.balanced).toBe(true);
    const after = await sandbox.stats();
    for (const [object, counts] of Object.entries(after.records))
      expect(counts.active, object).toBe(before.records[object]?.active ?? 0);
    expect((await sandbox.dump()).files.length).toBe(filesBefore);
  }, 240_000);
});

describe('a FHIR export whose ferry.json asks for encounters as opportunities', () => {
  let dir: string;
  let expected: ExpectedExport;
  let sandbox: RunningSandbox;
  let runtime: LocalRuntime;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ferry-e2e-fhir-opp-'));
    expected = generateExport({
      source: 'fhir',
      patients: 12,
      seed: 'e2e-fhir-opp',
      defects: 0.03,
      outDir: dir,
    });
    writeFileSync(join(dir, 'ferry.json'), JSON.stringify({ options: { fhirEncounters: 'opportunity' } }));
    sandbox = await startSandbox({
      flavor: 'v1',
      rateShort: null,
      rateLong: null,
      members: expected.workspaceMembers,
    });
    runtime = await startLocalRuntime({
      inMemory: true,
      retryIntervalMs: 0,
      twenty: { url: sandbox.url, apiKey: sandbox.apiKey, rate: '1000/1s+60000/60s' },
    });
  }, 120_000);
  afterAll(async () => {
    await runtime?.stop();
    await sandbox?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('loads each encounter as an opportunity pointing at its patient, with the same counts', async () => {
    const { folder } = await uploadExportFolder(runtime.deps.drop, dir);
    const run = await runtime.startExecution(
      'migrate',
      { folder, options: {} },
      { runId: 'e2e-fhir-opp', approver: autoApprover('e2e') },
    );
    expect(run.error).toBeUndefined();
    const reconciliation = ReconciliationSchema.parse(
      JSON.parse(await runtime.deps.work.getText('runs/e2e-fhir-opp/reconciliation.json')),
    );
    expect(reconciliation.balanced).toBe(true);
    expectCountsAsPredicted(reconciliation, expected);
    expect(reconciliation.entities.find((e) => e.entity === 'encounters')?.object).toBe('opportunities');
    const sourceInstance = (
      JSON.parse(await runtime.deps.work.getText('runs/e2e-fhir-opp/prepare.json')) as Json
    ).sourceInstance as string;
    const dump = await sandbox.dump();
    const opportunities = new Map((dump.records.opportunity ?? []).map((r) => [String(r.id), r as Json]));
    const loaded = resources(dir, 'Encounter').filter(
      (e) => !idOfRef(e.subject).startsWith('pat-not-exported'),
    );
    expect(opportunities.size).toBe(loaded.length);
    for (const e of loaded) {
      const record = opportunities.get(recordId(sourceInstance, 'fhir', 'encounters', e.id));
      expect(record?.pointOfContactId, e.id).toBe(
        recordId(sourceInstance, 'fhir', 'patients', idOfRef(e.subject)),
      );
      expect(record?.stage).toBe('CUSTOMER');
    }
    // No encounter custom object is created when nothing targets it.
    const objects = (dump.objects as Json[]).map((o) => o.nameSingular);
    expect(objects).toContain('insuranceCoverage');
    expect(objects).not.toContain('encounter');
  }, 240_000);
});
