import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReconciliationSchema } from '../../../lambdas/core/reconcile/report.ts';
import type { LedgerEntry } from '../../../lambdas/ports/ledger.ts';
import { RollbackOutputSchema, RollbackReportSchema } from '../../../lambdas/tasks/rollback/schema.ts';
import { TwentyClient } from '../../../lambdas/twenty/client.ts';
import { uploadExportFolder } from '../../../lib/cli/drop-folder.ts';
import { generateExport } from '../../../lib/generate/index.ts';
import { autoApprover } from '../../../lib/local/approvals.ts';
import { type LocalRuntime, startLocalRuntime } from '../../../lib/local/runtime.ts';
import { type RunningSandbox, type SandboxDump, startSandbox } from '../../../lib/sandbox/index.ts';
import { uniqueEmails } from '../support/export-emails.ts';

type Records = SandboxDump['records'];

/** Null, '', [] or a composite (address, emails…) whose every part is empty: how Twenty stores "no value". */
function isEmpty(value: unknown): boolean {
  if (value === null || value === undefined || value === '') return true;
  if (Array.isArray(value)) return value.length === 0;
  if (typeof value === 'object') return Object.values(value).every(isEmpty);
  return false;
}

/**
 * Every record as it was before (on the fields it had then, minus `updatedAt`, which a restore
 * moves), and nothing else: ids are the same set per object. A custom field the run created may
 * add a key to old records; its value must be empty.
 */
function expectSameRecords(after: Records, before: Records): void {
  const objects = new Set([...Object.keys(before), ...Object.keys(after)]);
  for (const object of objects) {
    const was = before[object] ?? [];
    const now = after[object] ?? [];
    expect(now.map((r) => r.id).sort(), `${object} ids`).toEqual(was.map((r) => r.id).sort());
    for (const old of was) {
      const live = now.find((r) => r.id === old.id) ?? {};
      for (const [field, value] of Object.entries(old)) {
        if (field === 'updatedAt') continue;
        expect(live[field], `${object}.${field}`).toEqual(value);
      }
      for (const field of Object.keys(live)) {
        if (!(field in old)) expect(isEmpty(live[field]), `${object}.${field} (new field)`).toBe(true);
      }
    }
  }
}

describe('rollback of a migrated PbN export', () => {
  let dir: string;
  let sandbox: RunningSandbox;
  let runtime: LocalRuntime;
  let folder: string;
  let before: SandboxDump;
  const preexisting: string[] = [];
  const RUN = 'e2e-rollback-1';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ferry-e2e-rollback-'));
    const expected = generateExport({
      source: 'pbn',
      patients: 30,
      seed: 'e2e-rollback',
      defects: 0.03,
      outDir: dir,
    });
    sandbox = await startSandbox({
      flavor: 'v2',
      rateShort: null,
      rateLong: null,
      members: expected.workspaceMembers,
    });
    const client = new TwentyClient({ baseUrl: sandbox.url, apiKey: sandbox.apiKey });
    const emails = uniqueEmails(dir).slice(0, 2);
    const ids = ['0b6d0c1e-0000-4000-8000-000000000011', '0b6d0c1e-0000-4000-8000-000000000012'];
    const created = await client.createMany(
      'people',
      emails.map((email, i) => ({
        id: ids[i] as string,
        name: { firstName: 'Existing', lastName: `Contact${i}` },
        emails: { primaryEmail: email, additionalEmails: [] },
        jobTitle: 'Front desk',
      })),
    );
    for (const w of created.written) preexisting.push(w.id);
    before = await sandbox.dump();
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

  const migrate = async (runId: string) => {
    const run = await runtime.startExecution(
      'migrate',
      { folder, options: { chunkSize: 25 } },
      { runId, approver: autoApprover('e2e') },
    );
    expect(run.error).toBeUndefined();
    expect(run.status).toBe('SUCCEEDED');
    return ReconciliationSchema.parse(
      JSON.parse(await runtime.deps.work.getText(`runs/${runId}/reconciliation.json`)),
    );
  };
  const rollback = async (runId = RUN) => {
    const run = await runtime.startExecution('rollback', { runId }, { approver: autoApprover('e2e') });
    expect(run.error, JSON.stringify(run.transitions.filter((t) => t.error))).toBeUndefined();
    expect(run.status).toBe('SUCCEEDED');
    return RollbackOutputSchema.parse(run.output);
  };

  let firstTotals: { created: number; updated: number };

  it('restores the live workspace to its pre-migration snapshot, with hard deletes only', async () => {
    expect(preexisting).toHaveLength(2);
    const loaded = await migrate(RUN);
    firstTotals = { created: loaded.totals.created, updated: loaded.totals.updated };
    expect(loaded.totals.created).toBeGreaterThan(30);
    const updated: LedgerEntry[] = [];
    for await (const entry of runtime.deps.ledger?.entriesForRun(RUN) ?? []) {
      if (entry.op === 'updated') updated.push(entry);
    }
    expect(updated.map((e) => e.twentyId).sort()).toEqual([...preexisting].sort());
    const migrated = await sandbox.dump();
    expect(migrated.records.person?.find((p) => p.id === preexisting[0])?.jobTitle).not.toBe('Front desk');

    const out = await rollback();
    expect(out).toMatchObject({
      status: 'rolled-back',
      verified: true,
      problems: 0,
      restored: 2,
      skipped: 0,
    });
    expect(out.destroyed).toBe(loaded.totals.created);
    const report = RollbackReportSchema.parse(
      JSON.parse(await runtime.deps.work.getText(out.reportKey ?? '')),
    );
    expect(report.problems).toEqual([]);
    expect(report.verifiedRecords).toBeGreaterThanOrEqual(out.destroyed + out.restored);

    const after = await sandbox.dump();
    for (const records of Object.values(after.records)) {
      expect(records.filter((r) => r.deletedAt != null)).toEqual([]);
    }
    expectSameRecords(after.records, before.records);
    expect((await runtime.deps.runStore?.getRun(RUN))?.status).toBe('rolled-back');

    const ops = new Map<string, number>();
    for await (const entry of runtime.deps.ledger?.entriesForRun(RUN) ?? []) {
      ops.set(entry.op, (ops.get(entry.op) ?? 0) + 1);
    }
    expect(ops.get('destroyed')).toBe(out.destroyed);
    expect(ops.get('restored')).toBe(2);
  }, 300_000);

  it('changes nothing when run a second time', async () => {
    const once = await sandbox.dump();
    const out = await rollback();
    expect(out).toMatchObject({
      status: 'rolled-back',
      destroyed: 0,
      restored: 0,
      alreadyGone: 0,
      problems: 0,
    });
    expect(out.skipped).toBe(firstTotals.created + firstTotals.updated);
    expect((await sandbox.dump()).records).toEqual(once.records);
  }, 120_000);

  it('lets a new migrate load everything again as created, pre-existing people as updated', async () => {
    const again = await migrate('e2e-rollback-2');
    expect(again.totals.created).toBe(firstTotals.created);
    expect(again.totals.updated).toBe(firstTotals.updated);
    expect(again.totals.unchanged).toBe(0);
    expect(again.balanced).toBe(true);
    expect(again.missing).toBe(0);
  }, 300_000);

  it('handles records deleted in Twenty between load and rollback: no-op, restore route, recreate', async () => {
    const client = new TwentyClient({ baseUrl: sandbox.url, apiKey: sandbox.apiKey });
    const [softId, hardId] = preexisting as [string, string];
    let created: LedgerEntry | undefined;
    for await (const entry of runtime.deps.ledger?.entriesForRun('e2e-rollback-2') ?? []) {
      if (entry.op === 'created' && entry.entity === 'patients') created ??= entry;
    }
    expect(created).toBeDefined();
    await client.softDelete('people', softId);
    expect(await client.destroy('people', hardId)).toBe(true);
    expect(await client.destroy('people', created?.twentyId ?? '')).toBe(true);

    const out = await rollback('e2e-rollback-2');
    expect(out).toMatchObject({ status: 'rolled-back', verified: true, problems: 0, restored: 2 });
    expect(out.undeleted).toBe(1);
    expect(out.recreated).toBe(1);
    expect(out.alreadyGone).toBe(1);
    const after = await sandbox.dump();
    for (const id of preexisting) {
      const was = before.records.person?.find((r) => r.id === id) ?? {};
      const now = after.records.person?.find((r) => r.id === id);
      expect(now, id).toBeDefined();
      for (const [field, value] of Object.entries(was)) {
        // A recreated row gets new timestamps and list position (Twenty sets them on create);
        // everything else comes back from the before-image.
        if (field === 'updatedAt' || field === 'createdAt' || field === 'position') continue;
        expect(now?.[field], `person.${field}`).toEqual(value);
      }
    }
    expect(after.records.person?.map((r) => r.id).sort()).toEqual(
      before.records.person?.map((r) => r.id).sort(),
    );
  }, 300_000);
});
