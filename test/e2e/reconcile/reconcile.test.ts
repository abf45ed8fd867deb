import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReconciliationSchema } from '../../../lambdas/core/reconcile/report.ts';
import { LOCAL_SANDBOX_API_KEY } from '../../../lib/cli/run.ts';
import { type ExpectedExport, generateExport } from '../../../lib/generate/index.ts';
import { startSandboxThread } from '../../../lib/sandbox/thread.ts';
import { expectCountsAsPredicted } from '../support/expected-counts.ts';
import { ferry } from '../support/ferry-cli.ts';

/**
 * The proof of a migration end to end through the CLI: a generated export with defects balances
 * against expected.json with every loaded field read back equal; a record changed in Twenty after
 * the load (through its REST API) is caught on the next run's read-back, naming entity, field and
 * record id, and `ferry run` exits 1; a tolerance of one lets it pass.
 */
describe('reconciliation with field-level read-back', () => {
  const root = mkdtempSync(join(tmpdir(), 'ferry-reconcile-'));
  const dir = join(root, 'export');
  const stateDir = join(root, 'state');
  let expected: ExpectedExport;

  beforeAll(() => {
    expected = generateExport({
      source: 'pbn',
      patients: 60,
      seed: 'e2e-v2',
      defects: 0.03,
      outDir: dir,
    });
  });
  afterAll(() => {
    rmSync(root, { recursive: true, force: true });
  });

  const run = (...extra: string[]) =>
    ferry(['run', dir, '--yes', '--json', '--state-dir', stateDir, '--chunk-size', '40', ...extra]);

  let corrupted = '';
  let corruptedSecret = '';

  it('balances against expected.json and reads every loaded field back unchanged', async () => {
    const result = await run();
    expect(result.code, result.stderr).toBe(0);
    const json = JSON.parse(result.stdout);
    const file = json.paths.reconciliation as string;
    const reconciliation = ReconciliationSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
    expect(reconciliation).toMatchObject({ status: 'succeeded', tolerance: 0, mismatchCount: 0, missing: 0 });
    let loaded = 0;
    const rows = expectCountsAsPredicted(reconciliation, expected);
    for (const [entity, want] of Object.entries(expected.entities)) {
      const got = rows.get(entity);
      if (!got) continue;
      if (got.mergedInto === undefined) {
        expect(got.verified, `${entity} verified`).toBe(want.loaded);
        loaded += want.loaded;
      }
      for (const [field, f] of Object.entries(reconciliation.fields[entity] ?? {})) {
        expect(f.matchRate, `${entity}.${field}`).toBe(1);
      }
    }
    expect(reconciliation.verified).toBe(loaded);
    // Run-wide rejects by reason add up to the per-entity ones.
    const rejects: Record<string, number> = {};
    for (const want of Object.values(expected.entities))
      for (const [reason, n] of Object.entries(want.rejects)) rejects[reason] = (rejects[reason] ?? 0) + n;
    expect(reconciliation.rejects).toEqual(rejects);
    expect(reconciliation.fields.patients?.name?.populationRate).toBe(1);
  });

  it('catches a record changed in Twenty after the load as a mismatch on that field, and the run exits 1', async () => {
    const sandbox = await startSandboxThread({
      dataDir: join(stateDir, 'sandbox'),
      apiKey: LOCAL_SANDBOX_API_KEY,
      flavor: 'v2',
      rateShort: null,
      rateLong: null,
    });
    try {
      const headers = {
        authorization: `Bearer ${LOCAL_SANDBOX_API_KEY}`,
        'content-type': 'application/json',
      };
      const list = (await (await fetch(`${sandbox.url}/rest/people?limit=60`, { headers })).json()) as {
        data: {
          people: { id: string; jobTitle?: string | null; name: { firstName: string; lastName: string } }[];
        };
      };
      const person = list.data.people.find((p) => p.name.lastName !== '');
      if (!person) throw new Error('no person loaded');
      corrupted = person.id;
      corruptedSecret = `Corrupted${Date.now()}`;
      const patched = await fetch(`${sandbox.url}/rest/people/${person.id}`, {
        method: 'PATCH',
        headers,
        body: JSON.stringify({ name: { firstName: corruptedSecret, lastName: person.name.lastName } }),
      });
      expect(patched.status).toBe(200);
    } finally {
      await sandbox.stop();
    }

    const result = await run();
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('MISMATCHES_OVER_TOLERANCE');
    expect(result.stderr).toContain(`.name of ${corrupted}`);
    const json = JSON.parse(result.stdout);
    expect(json.reconciliation.status).toBe('failed');
    expect(json.reconciliation.mismatchCount).toBe(1);
    expect(json.reconciliation.mismatches).toEqual([
      expect.objectContaining({ object: 'people', field: 'name', recordId: corrupted }),
    ]);
    // The second run changed nothing (the source did not change): the record stays corrupted, and
    // no output or artefact carries the value found in Twenty.
    expect(json.reconciliation.totals.created).toBe(0);
    expect(result.stdout + result.stderr).not.toContain(corruptedSecret);
    // The sample diff is the one page that shows values (for the operator to check before the full
    // load); every other artefact names fields and record ids only.
    for (const [label, path] of Object.entries(json.paths as Record<string, string>)) {
      if (label === 'sample diff') continue;
      expect(readFileSync(path, 'utf8'), path).not.toContain(corruptedSecret);
    }
  });

  it('passes the same state with --tolerance 1, and ferry report prints the report path', async () => {
    const result = await run('--tolerance', '1');
    expect(result.code, result.stderr).toBe(0);
    const json = JSON.parse(result.stdout);
    expect(json.reconciliation).toMatchObject({ status: 'succeeded', tolerance: 1, mismatchCount: 1 });

    const report = await ferry(['report', json.runId, '--state-dir', stateDir]);
    expect(report.code).toBe(0);
    expect(report.stdout.trim()).toBe(json.paths['report (html)']);
    expect(readFileSync(report.stdout.trim(), 'utf8')).toContain(corrupted);

    const unknown = await ferry(['report', 'no-such-run', '--state-dir', stateDir]);
    expect(unknown.code).toBe(2);
    const bad = await run('--tolerance', '-1');
    expect(bad.code).toBe(2);
  });
});
