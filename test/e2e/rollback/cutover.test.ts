import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TwentyClient } from '../../../lambdas/twenty/client.ts';
import { generateExport } from '../../../lib/generate/index.ts';
import { type RunningSandbox, type SandboxDump, startSandbox } from '../../../lib/sandbox/index.ts';
import { type CsvTable, column, readCsv, writeCsv } from '../support/csv-table.ts';
import { ferry, repoRoot } from '../support/ferry-cli.ts';
import { records, requestCounts } from '../support/sandbox-dump.ts';

/**
 * Issue 11's acceptance, through the CLI as an operator runs the cutover: a workspace holding
 * pre-existing companies and people (some sharing emails and a domain with the export) is dumped (A);
 * an APMS export is migrated; the practice edits a migrated patient in Twenty; a newer export with
 * new, changed and missing patients goes in as a delta with --propagate-deletes; then
 * `ferry rollback <run> --schema` — killed with SIGKILL in the middle and run again — must leave the
 * workspace exactly as A: the same records with the same field values and soft-delete state (only
 * `updatedAt` of restored records moves), the same metadata, and no uploaded file.
 */

/** Patient ids of the export's rows whose email occurs once (pre-existing people match on it). */
function uniqueEmailRows(patients: CsvTable): string[][] {
  const email = column(patients, 'Pt Email');
  const counts = new Map<string, number>();
  for (const row of patients.rows) {
    const value = (row[email] ?? '').trim().toLowerCase();
    if (value !== '') counts.set(value, (counts.get(value) ?? 0) + 1);
  }
  return patients.rows.filter((row) => counts.get((row[email] ?? '').trim().toLowerCase()) === 1);
}

/** Drops these patients and every row of the export's other files that belongs to them. */
function removePatients(dir: string, ids: ReadonlySet<string>): void {
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.csv'))) {
    const path = join(dir, file);
    const table = readCsv(path);
    const key = ['Pt Acct #', 'PatientID'].find((name) => table.header.includes(name));
    if (key === undefined) continue;
    const at = column(table, key);
    table.rows = table.rows.filter((row) => !ids.has(row[at] ?? ''));
    writeCsv(path, table);
  }
}

interface Person {
  id: string;
  jobTitle?: unknown;
  emails?: { primaryEmail?: string };
  deletedAt?: unknown;
}

describe('cutover: migrate, delta with conflicts and deletes, rollback to the workspace as it was', () => {
  let dir: string;
  let deltaDir: string;
  let stateDir: string;
  let sandbox: RunningSandbox;
  let client: TwentyClient;
  let before: SandboxDump;
  let target: string[];
  let patients: CsvTable;
  let candidates: string[][];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ferry-cutover-'));
    deltaDir = mkdtempSync(join(tmpdir(), 'ferry-cutover-delta-'));
    stateDir = mkdtempSync(join(tmpdir(), 'ferry-cutover-state-'));
    const expected = generateExport({
      source: 'apms',
      patients: 60,
      seed: 'cutover',
      defects: 0,
      outDir: dir,
    });
    sandbox = await startSandbox({
      flavor: 'v2',
      rateShort: null,
      rateLong: null,
      members: expected.workspaceMembers,
    });
    client = new TwentyClient({ baseUrl: sandbox.url, apiKey: sandbox.apiKey });
    patients = readCsv(join(dir, 'PatientDemographics.csv'));
    candidates = uniqueEmailRows(patients);
    const email = column(patients, 'Pt Email');
    const practices = readCsv(join(dir, 'Practices.csv'));
    const website = practices.rows[0]?.[column(practices, 'Website')] ?? '';
    expect(website).not.toBe('');
    // Pre-existing: a company on a practice's domain, two people on patients' emails, one person and
    // one company the export knows nothing of, and a person the practice had soft-deleted.
    await client.createMany('companies', [
      {
        id: '0b6d0c1e-0000-4000-8000-0000000011c1',
        name: 'Practice as the CRM had it',
        domainName: { primaryLinkUrl: `https://${website.replace(/^www\./, '')}`, primaryLinkLabel: '' },
      },
      {
        id: '0b6d0c1e-0000-4000-8000-0000000011c2',
        name: 'Unrelated Lab',
        domainName: { primaryLinkUrl: 'https://unrelated-lab.example.com', primaryLinkLabel: '' },
      },
    ]);
    const existing = [candidates[0], candidates[1]].map((row, i) => ({
      id: `0b6d0c1e-0000-4000-8000-0000000011a${i + 1}`,
      name: { firstName: 'Existing', lastName: `Contact${i + 1}` },
      emails: { primaryEmail: (row?.[email] ?? '').trim().toLowerCase(), additionalEmails: [] },
      jobTitle: 'Front desk',
    }));
    await client.createMany('people', [
      ...existing,
      {
        id: '0b6d0c1e-0000-4000-8000-0000000011a3',
        name: { firstName: 'Unrelated', lastName: 'Person' },
        emails: { primaryEmail: 'unrelated.person@elsewhere.example.com', additionalEmails: [] },
      },
      {
        id: '0b6d0c1e-0000-4000-8000-0000000011a4',
        name: { firstName: 'Deleted', lastName: 'Before' },
        emails: { primaryEmail: 'deleted.before@elsewhere.example.com', additionalEmails: [] },
      },
    ]);
    await client.softDelete('people', '0b6d0c1e-0000-4000-8000-0000000011a4');
    before = await sandbox.dump();
    target = ['--twenty-url', sandbox.url, '--api-key', sandbox.apiKey, '--rate', '6000/60s'];
  }, 120_000);
  afterAll(async () => {
    await sandbox?.stop();
    for (const d of [dir, deltaDir, stateDir]) if (d) rmSync(d, { recursive: true, force: true });
  });

  const people = async (): Promise<Person[]> =>
    ((await sandbox.dump()).records.person ?? []) as unknown as Person[];
  const byEmail = async (row: string[] | undefined) => {
    const email = (row?.[column(patients, 'Pt Email')] ?? '').trim().toLowerCase();
    return (await people()).find((p) => p.emails?.primaryEmail === email);
  };

  it('reports the conflict, deletes only what Ferry created, and rolls back (killed and resumed) to A exactly', async () => {
    // A delta needs the run it follows: an unknown one is a usage error, before anything is uploaded.
    const orphan = await ferry([
      'delta',
      dir,
      '--run',
      'no-such-run',
      '--yes',
      '--state-dir',
      stateDir,
      ...target,
    ]);
    expect(orphan.code).toBe(2);
    expect(orphan.stderr).toContain('--run: Delta: run no-such-run has no run record');

    const run = await ferry([
      'run',
      dir,
      '--yes',
      '--json',
      '--sample-size',
      '0',
      '--state-dir',
      stateDir,
      ...target,
    ]);
    expect(run.code, run.stderr.slice(-1500)).toBe(0);
    const migrated = JSON.parse(run.stdout) as {
      runId: string;
      reconciliation: { totals: { created: number; updated: number } };
    };
    // The two people and the company that share an email or a domain with the export were merged into.
    expect(migrated.reconciliation.totals.updated).toBeGreaterThanOrEqual(3);
    expect((await sandbox.dump()).files.length).toBeGreaterThan(0);

    // Roles: [0] pre-existing, changed in the export; [1] pre-existing, gone from it; [2] Ferry's,
    // changed; [3] Ferry's, edited in Twenty after the load and changed in the export; [4] Ferry's, gone.
    const [preChanged, preMissing, changed, edited] = candidates;
    const documents = readCsv(join(dir, 'Documents.csv'));
    const withDocument = new Set(documents.rows.map((row) => row[column(documents, 'Pt Acct #')]));
    const missing = candidates.slice(4).find((row) => withDocument.has(row[column(patients, 'Pt Acct #')]));
    const editedBefore = await byEmail(edited);
    expect(editedBefore?.id).toBeDefined();
    await new Promise((r) => setTimeout(r, 6_000)); // later than Ferry's write beyond the 5 s allowance
    await client.update('people', editedBefore?.id ?? '', { jobTitle: 'Edited in Twenty' });

    cpSync(dir, deltaDir, { recursive: true });
    const acct = column(patients, 'Pt Acct #');
    const occupation = column(patients, 'Pt Occupation');
    const newer = readCsv(join(deltaDir, 'PatientDemographics.csv'));
    for (const row of newer.rows)
      if ([preChanged, changed, edited].some((r) => r?.[acct] === row[acct]))
        row[occupation] = 'Changed in the export';
    const fresh = [...(newer.rows[0] ?? [])];
    fresh[acct] = '199999';
    fresh[column(patients, 'Pt Email')] = 'brand.new.patient@example.net';
    newer.rows.push(fresh);
    writeCsv(join(deltaDir, 'PatientDemographics.csv'), newer);
    const gone = new Set([preMissing?.[acct] ?? '', missing?.[acct] ?? '']);
    removePatients(deltaDir, gone);
    expect(missing).toBeDefined();
    const missingBefore = await byEmail(missing);
    expect(missingBefore?.id).toBeDefined();
    const changedBefore = await byEmail(changed);
    const migratedDump = await sandbox.dump();
    const afterMigrate = records(migratedDump);
    const shas = (dump: SandboxDump) => dump.files.map((f) => f.sha256).sort();
    const preMissingBefore = await byEmail(preMissing);
    // Merged into by email, not created: the pre-existing people keep their own ids.
    expect(preMissingBefore?.id).toBe('0b6d0c1e-0000-4000-8000-0000000011a2');
    expect((await byEmail(preChanged))?.id).toBe('0b6d0c1e-0000-4000-8000-0000000011a1');

    const delta = await ferry([
      'delta',
      deltaDir,
      '--run',
      migrated.runId,
      '--yes',
      '--json',
      '--propagate-deletes',
      '--state-dir',
      stateDir,
      ...target,
    ]);
    expect(delta.code, delta.stderr.slice(-1500)).toBe(0);
    const out = JSON.parse(delta.stdout) as {
      runId: string;
      baseRunId: string;
      delta: Record<string, number | boolean | string>;
      paths: Record<string, string>;
    };
    expect(out.baseRunId).toBe(migrated.runId);
    expect(out.delta).toMatchObject({ baseRunId: migrated.runId, propagateDeletes: true, conflicts: 1 });
    expect(out.delta.new).toBeGreaterThanOrEqual(1);
    expect(out.delta.changed).toBeGreaterThanOrEqual(2);
    expect(out.delta.unchanged).toBeGreaterThan(50);
    expect(out.delta.missing).toBeGreaterThanOrEqual(2);
    expect(out.delta.deleted).toBeGreaterThanOrEqual(1);
    expect(out.delta.preexistingKept).toBeGreaterThanOrEqual(1);
    const afterDelta = await people();
    // The practice's edit stands; the record Ferry created and the export dropped is hard-deleted;
    // the pre-existing person the export dropped is still there, as is the new patient.
    expect(afterDelta.find((p) => p.id === editedBefore?.id)?.jobTitle).toBe('Edited in Twenty');
    expect(afterDelta.find((p) => p.id === missingBefore?.id)).toBeUndefined();
    // Its document went with it, and Twenty deleted the document's file.
    expect(shas(await sandbox.dump()).length).toBeLessThan(shas(migratedDump).length);
    expect(afterDelta.find((p) => p.id === preMissingBefore?.id)?.deletedAt ?? null).toBeNull();
    expect(afterDelta.some((p) => p.emails?.primaryEmail === 'brand.new.patient@example.net')).toBe(true);
    expect((await byEmail(changed))?.jobTitle).toBe('Changed in the export');

    // The delta alone rolled back: the record it deleted is recreated with its id, the changed ones get
    // the base run's values back, the new one goes; the practice's edit is not the delta's to undo.
    const undoDelta = await ferry([
      'rollback',
      out.runId,
      '--yes',
      '--json',
      '--state-dir',
      stateDir,
      ...target,
    ]);
    expect(undoDelta.code, `${undoDelta.stdout.slice(-3000)}${undoDelta.stderr.slice(-1500)}`).toBe(0);
    const deltaUndone = JSON.parse(undoDelta.stdout).rollback;
    expect(deltaUndone).toMatchObject({ status: 'rolled-back', verified: true, problems: 0, runs: 1 });
    // The records it deleted, and the task/note targets Twenty deleted with them.
    expect(deltaUndone.recreated).toBeGreaterThan(Number(out.delta.deleted));
    const afterUndo = await people();
    expect(afterUndo.find((p) => p.id === missingBefore?.id)?.deletedAt ?? null).toBeNull();
    expect(afterUndo.find((p) => p.id === changedBefore?.id)?.jobTitle).toBe(changedBefore?.jobTitle);
    expect(afterUndo.find((p) => p.id === editedBefore?.id)?.jobTitle).toBe('Edited in Twenty');
    expect(afterUndo.some((p) => p.emails?.primaryEmail === 'brand.new.patient@example.net')).toBe(false);
    // The deleted patient's document is back, with its file uploaded again.
    expect(shas(await sandbox.dump())).toEqual(shas(migratedDump));
    // Everything else as the migration left it (the edited patient aside, and recreated rows' stamps).
    const undone = records(await sandbox.dump());
    for (const [object, rows] of Object.entries(afterMigrate)) {
      const now = undone[object] ?? [];
      expect(
        now.map((r) => r.id),
        object,
      ).toEqual(rows.map((r) => r.id));
    }

    const HAND_ENTERED = '0b6d0c1e-0000-4000-8000-0000000011e1';
    expect(
      (await client.createMany('insurancePayers', [{ id: HAND_ENTERED, name: 'Entered by hand' }])).failed,
    ).toEqual([]);

    // Rollback with --schema, killed once a few delete-many requests went through, then run again.
    const deletesAtStart = requestCounts(await sandbox.stats()).deletes;
    const child = spawn(
      process.execPath,
      [
        join(repoRoot, 'bin/ferry.ts'),
        'rollback',
        migrated.runId,
        '--yes',
        '--schema',
        '--json',
        '--state-dir',
        stateDir,
        ...target,
        '--rate',
        '300/60s',
      ],
      { cwd: repoRoot, stdio: 'ignore', env: { ...process.env, NODE_OPTIONS: '' } },
    );
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    for (let i = 0; i < 3000; i++) {
      if (requestCounts(await sandbox.stats()).deletes - deletesAtStart >= 3) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    child.kill('SIGKILL');
    await exited;
    expect(records(await sandbox.dump())).not.toEqual(records(before));

    // Resumed: the records are undone, but the schema stays — someone keyed a record into a custom
    // object the run created, and --schema never removes data Ferry did not write.
    const refused = await ferry([
      'rollback',
      migrated.runId,
      '--yes',
      '--schema',
      '--state-dir',
      stateDir,
      ...target,
    ]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/custom object insurancePayer \(1 record\(s\)\)/);
    expect(refused.stderr).toContain('hold data Ferry did not write');
    expect(refused.stderr).not.toContain('Entered by hand');
    const kept = await sandbox.dump();
    expect(kept.records.insurancePayer?.map((r) => r.id)).toEqual([HAND_ENTERED]);
    expect(records(kept, before).person).toEqual(records(before).person);

    // Once it is gone, the same command finishes: the schema goes too.
    expect(await client.destroy('insurancePayers', HAND_ENTERED)).toBe(true);
    const rolled = await ferry([
      'rollback',
      migrated.runId,
      '--yes',
      '--schema',
      '--json',
      '--state-dir',
      stateDir,
      ...target,
    ]);
    expect(rolled.code, `${rolled.stdout.slice(-3000)}${rolled.stderr.slice(-1500)}`).toBe(0);
    const result = JSON.parse(rolled.stdout).rollback;
    expect(result).toMatchObject({ status: 'rolled-back', verified: true, problems: 0, runs: 2 });

    const after = await sandbox.dump();
    expect(records(after)).toEqual(records(before));
    expect(after.objects).toEqual(before.objects);
    expect(after.files).toEqual(before.files);

    const again = await ferry([
      'rollback',
      migrated.runId,
      '--yes',
      '--schema',
      '--json',
      '--state-dir',
      stateDir,
      ...target,
    ]);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout).rollback).toMatchObject({ destroyed: 0, restored: 0, schemaRemoved: 0 });
    expect(records(await sandbox.dump())).toEqual(records(before));
  }, 300_000);
});
