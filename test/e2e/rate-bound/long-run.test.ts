import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReconciliationSchema } from '../../../lambdas/core/reconcile/report.ts';
import { type ExpectedExport, generateExport } from '../../../lib/generate/index.ts';
import { type RunningSandbox, startSandbox } from '../../../lib/sandbox/index.ts';
import { expectCountsAsPredicted } from '../support/expected-counts.ts';
import { ferry } from '../support/ferry-cli.ts';

/**
 * The report from the field: a 3,000-patient PbN export at a real rate bound timed out. Here the
 * sandbox's long window binds (600 requests / 60 s, ten times Twenty's self-hosted default so the
 * suite stays short; the run's --rate matches it) and ticks are short, so every phase needs many
 * LoadChunk continuations: the run must finish, balanced, exactly as expected.json predicts.
 */
describe('a rate-bound 3,000-patient migration through the CLI', () => {
  let dir: string;
  let stateDir: string;
  let expected: ExpectedExport;
  let sandbox: RunningSandbox;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ferry-e2e-long-'));
    stateDir = mkdtempSync(join(tmpdir(), 'ferry-e2e-long-state-'));
    expected = generateExport({
      source: 'pbn',
      patients: 3000,
      seed: 'rate-bound',
      defects: 0.02,
      outDir: dir,
    });
    sandbox = await startSandbox({
      rateShort: null,
      rateLong: { limit: 600, windowMs: 60_000 },
      members: expected.workspaceMembers,
    });
  });
  afterAll(async () => {
    await sandbox?.stop();
    rmSync(dir, { recursive: true, force: true });
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('finishes balanced with at least ten load ticks per phase on average', async () => {
    const result = await ferry([
      'run',
      dir,
      '--yes',
      '--state-dir',
      stateDir,
      '--twenty-url',
      sandbox.url,
      '--api-key',
      sandbox.apiKey,
      '--rate',
      '600/60s',
      '--tick-seconds',
      '1',
    ]);
    expect(result.stderr).not.toMatch(/States\.Timeout/);
    expect(result.code, result.stderr.slice(-2000)).toBe(0);
    // Not --json: the operator's view. stdout holds the run and its table; stderr the live progress.
    const runId = /^Ferry run (\S+): SUCCEEDED$/m.exec(result.stdout)?.[1];
    expect(runId, result.stdout).toBeDefined();
    const reconciliation = ReconciliationSchema.parse(
      JSON.parse(readFileSync(join(stateDir, 'reports', runId ?? '', 'reconciliation.json'), 'utf8')),
    );
    expect(reconciliation.balanced).toBe(true);
    expect(reconciliation.missing).toBe(0);
    expectCountsAsPredicted(reconciliation, expected);
    expectProgressLines(result.stderr);

    const status = await ferry(['status', runId ?? '', '--json', '--state-dir', stateDir]);
    expect(status.code, status.stderr).toBe(0);
    const counters = (JSON.parse(status.stdout) as { counters: Record<string, number> }).counters;
    const phases = new Set(
      Object.keys(counters)
        .filter((name) => name.startsWith('phase_') && name.endsWith('_ticks'))
        .map((name) => name.slice('phase_'.length, -'_ticks'.length)),
    );
    expect(phases.size).toBeGreaterThanOrEqual(3);
    let ticks = 0;
    let requests = 0;
    let throttled = 0;
    let records = 0;
    for (const phase of phases) {
      ticks += counters[`phase_${phase}_ticks`] ?? 0;
      requests += counters[`phase_${phase}_requests`] ?? 0;
      throttled += counters[`phase_${phase}_throttled`] ?? 0;
      records += counters[`phase_${phase}_records`] ?? 0;
    }
    expect(ticks / phases.size).toBeGreaterThanOrEqual(10);
    // Every mapped record went through exactly one tick; 429s stay at or below 1% of the requests.
    const totals = reconciliation.totals as { loaded: number; rejected: number };
    expect(records).toBeGreaterThanOrEqual(totals.loaded);
    expect(throttled).toBeLessThanOrEqual(Math.ceil(requests * 0.01));
    // Batches at the workspace's cap (200): the people phase needs about records / 200 requests.
    const people = reconciliation.entities
      .filter((e) => e.object === 'people')
      .reduce((n, e) => n + e.loaded.created + e.loaded.updated, 0);
    expect(counters['phase_02-people_requests']).toBeLessThanOrEqual(Math.ceil(people / 200) + 8);
  }, 600_000);
});

/**
 * What an operator watching the run in a log (stderr not a TTY) sees: the estimate before loading,
 * each stage as it starts, plain progress lines while phases load, one closing line per phase.
 */
function expectProgressLines(stderr: string): void {
  const lines = stderr.split('\n');
  expect(lines.find((l) => l.startsWith('ferry: estimate:'))).toMatch(
    /^ferry: estimate: [\d,]+ source rows → [\d,]+ write requests in batches of 200, about \S+ at 600\/min/,
  );
  const stages = lines.filter((l) => /^ferry: [A-Za-z]+…$/.test(l)).map((l) => l.slice(7, -1));
  expect(stages).toEqual([
    'Inventory',
    'AwaitPlanApproval',
    'Segment',
    'ApplySchema',
    'ResolveOwners',
    'Prepare',
    'SampleLoad',
    'AwaitSampleApproval',
    'LoadPhases',
    'Reconcile',
  ]);
  const live = lines.filter((l) => /^ferry: \d\d-[a-z]+ .* records .* ETA \S+$/.test(l));
  // How many 5-second lines appear depends on how long the phases take on this machine (the plain
  // lines' timing is unit-tested with a fake clock); each one that does is well formed.
  for (const l of live)
    expect(l).toMatch(/(- |[\d,]+ )rec\/min {2}(- |[\d,]+ )req\/min of 600 {2}[\d,]+ × 429/);
  const done = lines.filter((l) => / done {2}\([\d,]+ requests, [\d,]+ ticks\)$/.test(l));
  expect(done.length).toBeGreaterThanOrEqual(3);
  for (const l of done) {
    const [, finished, total] = /([\d,]+)\/([\d,]+) records/.exec(l) ?? [];
    expect(finished).toBe(total);
  }
}
