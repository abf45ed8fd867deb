import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Reconciliation } from '../../../lambdas/core/reconcile/report.ts';
import { type ExpectedExport, generateExport } from '../../../lib/generate/index.ts';
import { type RunningSandbox, type SandboxDump, startSandbox } from '../../../lib/sandbox/index.ts';
import { expectCountsAsPredicted } from '../support/expected-counts.ts';
import { ferry } from '../support/ferry-cli.ts';
import { comparable, duplicateIds } from '../support/sandbox-state.ts';

// biome-ignore lint/suspicious/noExplicitAny: the test reads raw FHIR resources and sandbox records of any shape
type Json = Record<string, any>;

/** One NDJSON file of a generated export, read straight from disk (independent of Ferry's reader). */
function ndjson(dir: string, file: string): Json[] {
  return readFileSync(join(dir, file), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as Json];
      } catch {
        return [];
      }
    });
}

const emailOf = (patient: Json): string =>
  String((patient.telecom as Json[]).find((t) => t.system === 'email')?.value ?? '').toLowerCase();
const sha = (bytes: Buffer | string): string => createHash('sha256').update(bytes).digest('hex');

/**
 * Issue 13's `_since` delta, through the CLI as an operator runs it: a generated FHIR bulk export is
 * migrated, then its `_since` follow-up (`ferry generate --since-of`) goes in with `ferry delta`. The
 * follow-up holds only what changed, so its new records must point at patients only the base export
 * holds (through the id map), the base's other records must count as unchanged rather than missing,
 * and only its `deleted[]` entries are missing in the source — deleted in Twenty when the same
 * follow-up goes in again with `--propagate-deletes`. Then `ferry rollback --schema` returns the
 * workspace to what it held before the migration.
 */
describe('a FHIR _since export applied as a delta', () => {
  let root: string;
  let baseDir: string;
  let sinceDir: string;
  let stateDir: string;
  let base: ExpectedExport;
  let since: ExpectedExport;
  let sandbox: RunningSandbox;
  let target: string[];
  let before: SandboxDump;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'ferry-fhir-since-'));
    baseDir = join(root, 'base');
    sinceDir = join(root, 'since');
    stateDir = join(root, 'state');
    base = generateExport({
      source: 'fhir',
      patients: 16,
      seed: 'since-e2e',
      defects: 0.03,
      outDir: baseDir,
    });
    since = generateExport({
      source: 'fhir',
      patients: 3,
      seed: 'since-e2e',
      outDir: sinceDir,
      sinceOf: baseDir,
    });
    sandbox = await startSandbox({
      flavor: 'v2',
      rateShort: null,
      rateLong: null,
      members: base.workspaceMembers,
    });
    target = ['--twenty-url', sandbox.url, '--api-key', sandbox.apiKey, '--rate', '6000/60s'];
    before = await sandbox.dump();
  }, 120_000);
  afterAll(async () => {
    await sandbox?.stop();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('creates the new, updates the changed, leaves the rest, resolves base-only patients, reports deletions, applies them with --propagate-deletes; rollback undoes it all', async () => {
    const run = await ferry([
      'run',
      baseDir,
      '--yes',
      '--json',
      '--sample-size',
      '0',
      '--state-dir',
      stateDir,
      ...target,
    ]);
    expect(run.code, run.stderr.slice(-1500)).toBe(0);
    const migrated = JSON.parse(run.stdout) as { runId: string; reconciliation: Reconciliation };
    expectCountsAsPredicted(migrated.reconciliation, base);
    const afterBase = await sandbox.dump();
    const people = (dump: SandboxDump): Map<string, Json> =>
      new Map(
        (dump.records.person ?? [])
          .filter((p) => p.deletedAt == null)
          .map((p) => [String((p as Json).emails?.primaryEmail ?? '').toLowerCase(), p as Json]),
      );

    const delta = await ferry([
      'delta',
      sinceDir,
      '--run',
      migrated.runId,
      '--yes',
      '--json',
      '--state-dir',
      stateDir,
      ...target,
    ]);
    expect(delta.code, delta.stderr.slice(-1500)).toBe(0);
    const out = JSON.parse(delta.stdout) as {
      runId: string;
      delta: Record<string, number | boolean | string>;
      reconciliation: Reconciliation;
    };
    const rec = out.reconciliation;
    // Each file of the follow-up: rows, loads, the one orphan (a patient found nowhere), the deletion file skipped.
    const rows = expectCountsAsPredicted(rec, since);
    const want = since.delta ?? {};
    expect(Object.keys(want).sort()).toEqual(['appointments', 'documents', 'encounters', 'patients']);
    for (const [entity, d] of Object.entries(want)) {
      const got = rows.get(entity);
      expect(got?.loaded, entity).toEqual({ created: d.new, updated: d.changed, unchanged: d.unchanged });
      expect(rec.missingFromExport[entity]?.count ?? 0, `${entity} missing`).toBe(d.missing);
    }
    // Everything else the base loaded is unchanged, not missing: only the two deletions are.
    const sum = (k: 'new' | 'changed' | 'missing') => Object.values(want).reduce((n, d) => n + d[k], 0);
    expect(out.delta).toMatchObject({
      baseRunId: migrated.runId,
      propagateDeletes: false,
      missing: sum('missing'),
      conflicts: 0,
      deleted: 0,
    });
    expect(sum('missing')).toBe(2);
    expect(out.delta.new).toBe(sum('new'));
    expect(out.delta.changed).toBe(sum('changed'));
    expect(rec.rejects).toEqual({ ORPHAN_REFERENCE: 1 });

    const after = await sandbox.dump();
    expect(duplicateIds(after)).toEqual([]);
    const basePeople = people(afterBase);
    const nowPeople = people(after);
    // One person per new patient, none for the unchanged one the server sent again.
    expect(nowPeople.size).toBe(basePeople.size + (want.patients?.new ?? 0));

    const sincePatients = ndjson(sinceDir, 'Patient.ndjson');
    const [changedA, changedB, unchangedRef] = sincePatients;
    for (const changed of [changedA, changedB]) {
      const was = basePeople.get(emailOf(changed as Json));
      const now = nowPeople.get(emailOf(changed as Json));
      expect(now?.id).toBe(was?.id);
      expect(now?.phones).not.toEqual(was?.phones);
    }
    const unchanged = nowPeople.get(emailOf(unchangedRef as Json));
    expect(unchanged).toEqual(basePeople.get(emailOf(unchangedRef as Json)));
    // The partial birth date: the date stays empty, the year and month are kept as written.
    const partial = nowPeople.get('since.patient1@example.com');
    expect(partial?.dateOfBirth ?? null).toBeNull();
    expect(partial?.dateOfBirthPartial).toBe('1980-05');

    // New records of the patient only the base export holds: relations to its person.
    const appointment = ndjson(sinceDir, 'Appointment.ndjson')[0] as Json;
    const baseOnlyId = String(appointment.participant[0].actor.reference).split('/')[1];
    const baseOnly = ndjson(baseDir, 'Patient.000.ndjson')
      .concat(ndjson(baseDir, 'Patient.001.ndjson'))
      .find((p) => p.id === baseOnlyId) as Json;
    const person = nowPeople.get(emailOf(baseOnly));
    expect(person?.id).toBeDefined();
    expect(basePeople.get(emailOf(baseOnly))?.id).toBe(person?.id);
    const encounters = (after.records.encounter ?? []) as Json[];
    const sinceEncounters = encounters.filter((e) => String(e.name ?? '').startsWith('Follow-up'));
    expect(sinceEncounters).toHaveLength(want.encounters?.new ?? -1);
    expect(sinceEncounters.filter((e) => e.personId === person?.id)).toHaveLength(1);
    expect(sinceEncounters.every((e) => typeof e.companyId === 'string')).toBe(true);
    const task = ((after.records.task ?? []) as Json[]).find((t) => t.title === 'Follow-up');
    expect(task).toBeDefined();
    const taskTargets = ((after.records.taskTarget ?? []) as Json[]).filter((t) => t.taskId === task?.id);
    expect(taskTargets.map((t) => t.targetPersonId)).toContain(person?.id);
    const attachment = ((after.records.attachment ?? []) as Json[]).find((a) => a.name === 'follow-up.txt');
    expect(attachment?.targetPersonId).toBe(person?.id);
    const body = Buffer.from('Synthetic follow-up letter for a test patient.\n');
    expect(after.files.map((f) => f.sha256)).toContain(sha(body));

    // Deletions are reported, not applied (no --propagate-deletes): the deleted patient is still there.
    const deletedIds = (rec.missingFromExport.patients?.sourceIds ?? []) as string[];
    expect(deletedIds).toHaveLength(1);
    const deletedPatient = ndjson(baseDir, 'Patient.000.ndjson')
      .concat(ndjson(baseDir, 'Patient.001.ndjson'))
      .find((p) => p.id === deletedIds[0]) as Json;
    expect(nowPeople.get(emailOf(deletedPatient))).toBeDefined();

    // The same follow-up again with --propagate-deletes: nothing new or changed, the two deletions applied.
    const again = await ferry([
      'delta',
      sinceDir,
      '--run',
      migrated.runId,
      '--yes',
      '--json',
      '--propagate-deletes',
      '--state-dir',
      stateDir,
      ...target,
    ]);
    expect(again.code, again.stderr.slice(-1500)).toBe(0);
    const second = JSON.parse(again.stdout) as { delta: Record<string, number | boolean | string> };
    const loaded = Object.values(want).reduce((n, d) => n + d.new + d.changed + d.unchanged, 0);
    expect(second.delta).toMatchObject({
      propagateDeletes: true,
      new: 0,
      changed: 0,
      unchanged: loaded,
      missing: 2,
      deleted: 2,
      conflicts: 0,
    });
    const afterDeletes = people(await sandbox.dump());
    expect(afterDeletes.get(emailOf(deletedPatient))).toBeUndefined();
    expect(afterDeletes.size).toBe(nowPeople.size - 1);

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
    expect(rolled.code, `${rolled.stdout.slice(-2000)}${rolled.stderr.slice(-1500)}`).toBe(0);
    expect(JSON.parse(rolled.stdout).rollback).toMatchObject({
      status: 'rolled-back',
      verified: true,
      runs: 3,
    });
    const end = await sandbox.dump();
    expect(comparable(end)).toEqual(comparable(before));
    expect(end.objects).toEqual(before.objects);
    expect(end.files).toEqual(before.files);
  }, 240_000);
});
