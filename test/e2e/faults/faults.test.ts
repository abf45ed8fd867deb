import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Reconciliation } from '../../../lambdas/core/reconcile/report.ts';
import { type ExpectedExport, generateExport } from '../../../lib/generate/index.ts';
import { type RunningSandbox, startSandbox } from '../../../lib/sandbox/index.ts';
import { expectCountsAsPredicted } from '../support/expected-counts.ts';
import { type CliResult, ferry } from '../support/ferry-cli.ts';
import { comparable, duplicateIds, recordCount } from '../support/sandbox-state.ts';

/** The fault mix: throttling, server errors, dropped connections and 5-second stalls. */
const FAULTS = '429:0.05,500:0.05,503:0.02,reset:0.02,slow:0.01@5000';

interface RunJson {
  status: string;
  reconciliation: Reconciliation | null;
}

function run(dir: string, stateDir: string, sandbox: RunningSandbox): Promise<CliResult> {
  return ferry([
    'run',
    dir,
    '--yes',
    '--json',
    '--state-dir',
    stateDir,
    '--twenty-url',
    sandbox.url,
    '--api-key',
    sandbox.apiKey,
    '--rate',
    '1000/1s',
  ]);
}

/** Primary emails held by more than one active person: a record loaded twice under two ids would show here. */
function repeatedEmails(records: readonly Record<string, unknown>[]): number {
  const emails = records
    .filter((r) => r.deletedAt == null)
    .map((r) => (r.emails as { primaryEmail?: string | null } | undefined)?.primaryEmail ?? '')
    .filter((email) => email !== '');
  return emails.length - new Set(emails).size;
}

describe('a 5,000-patient migration under injected faults', () => {
  let dir: string;
  const stateDirs: string[] = [];
  let expected: ExpectedExport;
  let clean: RunningSandbox;
  let faulty: RunningSandbox;
  let results: [CliResult, CliResult];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ferry-e2e-faults-'));
    expected = generateExport({ source: 'pbn', patients: 5_000, seed: 'faults', defects: 0.02, outDir: dir });
    clean = await startSandbox({ rateShort: null, rateLong: null, members: expected.workspaceMembers });
    faulty = await startSandbox({
      rateShort: null,
      rateLong: null,
      faults: FAULTS,
      seed: 12,
      members: expected.workspaceMembers,
    });
    for (let i = 0; i < 2; i++) stateDirs.push(mkdtempSync(join(tmpdir(), 'ferry-e2e-faults-state-')));
    // Side by side: two processes, two sandboxes, nothing shared but the export folder (read only).
    results = await Promise.all([run(dir, stateDirs[0] ?? '', clean), run(dir, stateDirs[1] ?? '', faulty)]);
  }, 600_000);
  afterAll(async () => {
    await clean?.stop();
    await faulty?.stop();
    for (const path of [dir, ...stateDirs]) if (path) rmSync(path, { recursive: true, force: true });
  });

  it('injected every kind of fault the spec names', async () => {
    const stats = await faulty.stats();
    for (const kind of ['429', '500', '503', 'reset', 'slow'])
      expect(stats.faults[kind] ?? 0, kind).toBeGreaterThan(0);
    expect((await clean.stats()).faults).toEqual({});
  });

  it('reconciles both runs, with the counts the generator predicts', () => {
    for (const result of results) {
      expect(result.code, result.stderr.slice(-1500)).toBe(0);
      const out = JSON.parse(result.stdout) as RunJson;
      expect(out.status).toBe('SUCCEEDED');
      const reconciliation = out.reconciliation;
      expect(reconciliation).not.toBeNull();
      if (reconciliation === null) return;
      expect(reconciliation.status).toBe('succeeded');
      expect(reconciliation.balanced).toBe(true);
      expect(reconciliation.missing).toBe(0);
      expect(reconciliation.mismatchCount).toBe(0);
      expectCountsAsPredicted(reconciliation, expected);
    }
  });

  it('ends in exactly the state of the fault-free run: same ids, same field values, no duplicates', async () => {
    const reference = await clean.dump();
    const underFaults = await faulty.dump();
    expect(duplicateIds(underFaults)).toEqual([]);
    expect(repeatedEmails(underFaults.records.person ?? [])).toBe(0);
    const want = comparable(reference);
    const got = comparable(underFaults);
    expect(recordCount(want)).toBeGreaterThan(20_000);
    // Per object first (a readable failure), then the whole state.
    for (const object of Object.keys(want))
      expect(Object.keys(got[object] ?? {}).length, object).toBe(Object.keys(want[object] ?? {}).length);
    expect(got).toEqual(want);
    // Custom objects and fields are the same too (ids are the sandbox's own, so compare names and types).
    const shape = (objects: unknown[]) =>
      (objects as { nameSingular: string; fields?: { name: string; type: string }[] }[])
        .map((o) => ({
          object: o.nameSingular,
          fields: (o.fields ?? []).map((f) => `${f.name}:${f.type}`).sort(),
        }))
        .sort((a, b) => a.object.localeCompare(b.object));
    expect(shape(underFaults.objects)).toEqual(shape(reference.objects));
  });
});
