import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReconciliationSchema } from '../../../lambdas/core/reconcile/report.ts';
import type { LedgerEntry } from '../../../lambdas/ports/ledger.ts';
import { TwentyClient } from '../../../lambdas/twenty/client.ts';
import { uploadExportFolder } from '../../../lib/cli/drop-folder.ts';
import { type ExpectedExport, generateExport } from '../../../lib/generate/index.ts';
import { autoApprover } from '../../../lib/local/approvals.ts';
import { type LocalRuntime, startLocalRuntime } from '../../../lib/local/runtime.ts';
import { type RunningSandbox, startSandbox } from '../../../lib/sandbox/index.ts';
import { expectCountsAsPredicted } from '../support/expected-counts.ts';
import { checkSourceFidelity } from './source-fidelity.ts';

/** The patients file and its email column per source (synthetic exports from lib/generate). */
const PATIENTS = {
  pbn: { file: 'patients.csv', email: 'Email' },
  apms: { file: 'PatientDemographics.csv', email: 'Pt Email' },
} as const;

/** Emails of the generated patients file that occur once (families share one): merge probes. */
function uniqueEmails(dir: string, source: 'pbn' | 'apms'): string[] {
  const { file, email } = PATIENTS[source];
  const lines = readFileSync(join(dir, file), 'utf8')
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/);
  const header = (lines[0] ?? '').split(',').map((h) => h.replaceAll('"', ''));
  const column = header.indexOf(email);
  const counts = new Map<string, number>();
  for (const line of lines.slice(1)) {
    const value = (line.split(',')[column] ?? '').replaceAll('"', '').trim().toLowerCase();
    if (/^[a-z0-9.]+@example\.org$/.test(value)) counts.set(value, (counts.get(value) ?? 0) + 1);
  }
  return [...counts].filter(([, n]) => n === 1).map(([e]) => e);
}

// APMS runs after PbN in the same file on purpose: one process, several runtimes and sandboxes in
// a row, as an operator's long-lived process would (state leaking between runs shows up here).
describe.each([
  ['pbn', 'v2'],
  ['pbn', 'v1'],
  ['apms', 'v2'],
  ['apms', 'v1'],
] as const)('migrating a generated %s export into a %s sandbox', (source, flavor) => {
  let dir: string;
  let expected: ExpectedExport;
  let sandbox: RunningSandbox;
  let runtime: LocalRuntime;
  let folder: string;
  const preexisting: { id: string; email: string }[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), `ferry-e2e-${source}-`));
    expected = generateExport({ source, patients: 60, seed: `e2e-${flavor}`, defects: 0.03, outDir: dir });
    sandbox = await startSandbox({
      flavor,
      rateShort: null,
      rateLong: null,
      members: expected.workspaceMembers,
    });
    // Records that exist before Ferry: two people whose emails are those of generated patients.
    const client = new TwentyClient({ baseUrl: sandbox.url, apiKey: sandbox.apiKey });
    const emails = uniqueEmails(dir, source).slice(0, 2);
    const ids = ['0b6d0c1e-0000-4000-8000-000000000001', '0b6d0c1e-0000-4000-8000-000000000002'];
    const created = await client.createMany(
      'people',
      emails.map((email, i) => ({
        id: ids[i] as string,
        name: { firstName: 'Existing', lastName: `Contact${i}` },
        emails: { primaryEmail: email, additionalEmails: [] },
      })),
    );
    for (const w of created.written) preexisting.push({ id: w.id, email: emails[w.index] as string });
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

  it('loads every valid record, balances against expected.json, and merges pre-existing people', async () => {
    expect(preexisting).toHaveLength(2);
    const run = await runtime.startExecution(
      'migrate',
      { folder, options: { chunkSize: 25 } },
      { runId: `e2e-${source}-${flavor}-1`, approver: autoApprover('e2e') },
    );
    expect(run.error).toBeUndefined();
    expect(run.status).toBe('SUCCEEDED');
    const reconciliation = ReconciliationSchema.parse(
      JSON.parse(await runtime.deps.work.getText(`runs/${run.runId}/reconciliation.json`)),
    );
    expect(reconciliation.balanced).toBe(true);
    expect(reconciliation.missing).toBe(0);

    // Counts add up to what the generator says a correct migration reports.
    expectCountsAsPredicted(reconciliation, expected);

    // Zero duplicates: no two live people share a primary email, every written id is unique.
    const dump = await sandbox.dump();
    const live = (object: string) => (dump.records[object] ?? []).filter((r) => r.deletedAt == null);
    const people = live('person');
    const primary = people
      .map((p) => (p.emails as { primaryEmail?: string } | null)?.primaryEmail?.toLowerCase() ?? '')
      .filter((e) => e !== '');
    expect(new Set(primary).size).toBe(primary.length);
    for (const object of Object.keys(dump.records)) {
      const ids = live(object).map((r) => r.id);
      expect(new Set(ids).size, object).toBe(ids.length);
    }

    // Tasks and notes point at their people through targets; attachments carry the file bytes.
    const loadedTasks = reconciliation.entities
      .filter((e) => e.object === 'tasks')
      .reduce((n, e) => n + e.loaded.created, 0);
    expect(live('task').length).toBe(loadedTasks);
    expect(live('taskTarget').length).toBeGreaterThanOrEqual(loadedTasks);
    const personIds = new Set(people.map((p) => p.id));
    const targetColumn = flavor === 'v1' ? 'personId' : 'targetPersonId';
    // PbN targets people only; APMS appointments may also target their case (an opportunity).
    const personTargets = live('taskTarget').filter((t) => t[targetColumn] != null);
    expect(personTargets.length).toBeGreaterThan(0);
    if (source === 'pbn') expect(personTargets.length).toBe(live('taskTarget').length);
    for (const target of personTargets) expect(personIds.has(target[targetColumn] as string)).toBe(true);
    if (source === 'apms') {
      const attachments = live('attachment');
      const loadedDocs = reconciliation.entities.find((e) => e.object === 'attachments');
      expect(attachments.length).toBe(loadedDocs?.loaded.created);
      expect(dump.files.length).toBeGreaterThanOrEqual(attachments.length);
    }

    // The pre-existing people were updated, not duplicated, with a before-image in the ledger.
    const entries: LedgerEntry[] = [];
    for await (const entry of runtime.deps.ledger?.entriesForRun(run.runId) ?? []) entries.push(entry);
    for (const { id, email } of preexisting) {
      const holders = people.filter(
        (p) => (p.emails as { primaryEmail?: string } | null)?.primaryEmail?.toLowerCase() === email,
      );
      expect(holders.map((p) => p.id)).toEqual([id]);
      const entry = entries.find((e) => e.twentyId === id);
      if (entry) {
        expect(entry.op).toBe('updated');
        expect(entry.beforeImage).toMatchObject({ id });
      }
    }
    expect(entries.filter((e) => preexisting.some((p) => p.id === e.twentyId)).length).toBeGreaterThan(0);
  }, 240_000);

  it('puts every loaded source record in the sandbox with the source values (independent of the mapper)', async () => {
    const runId = `e2e-${source}-${flavor}-1`;
    const prepared = JSON.parse(await runtime.deps.work.getText(`runs/${runId}/prepare.json`)) as {
      sourceInstance: string;
    };
    const { checked, findings } = checkSourceFidelity({
      source,
      dir,
      dump: await sandbox.dump(),
      sourceInstance: prepared.sourceInstance,
      rejectsCsv: await runtime.deps.work.getText(`runs/${runId}/rejects.csv`),
      preexisting,
      memberEmails: expected.workspaceMembers.map((m) => m.email),
    });
    expect(findings).toEqual([]);
    // The CSV-side view of what loaded agrees with the generator, and nothing went unchecked.
    for (const [entity, n] of Object.entries(checked)) {
      expect(n, `${entity} checked`).toBe(expected.entities[entity]?.loaded);
      expect(n, `${entity} checked`).toBeGreaterThanOrEqual(
        Math.min(10, expected.entities[entity]?.loaded ?? 0),
      );
    }
  }, 60_000);

  it('is a no-op the second time: nothing created or updated except pre-existing merges', async () => {
    const before = await sandbox.stats();
    const run = await runtime.startExecution(
      'migrate',
      { folder, options: { chunkSize: 25 } },
      { runId: `e2e-${source}-${flavor}-2`, approver: autoApprover('e2e') },
    );
    expect(run.status).toBe('SUCCEEDED');
    const reconciliation = ReconciliationSchema.parse(
      JSON.parse(await runtime.deps.work.getText(`runs/${run.runId}/reconciliation.json`)),
    );
    expect(reconciliation.totals.created).toBe(0);
    expect(reconciliation.totals.updated).toBeLessThanOrEqual(preexisting.length);
    expect(reconciliation.balanced).toBe(true);
    const after = await sandbox.stats();
    for (const [object, counts] of Object.entries(after.records))
      expect(counts.active, object).toBe(before.records[object]?.active ?? 0);
  }, 240_000);
});
