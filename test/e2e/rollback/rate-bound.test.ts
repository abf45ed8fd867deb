import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TwentyClient } from '../../../lambdas/twenty/client.ts';
import { generateExport } from '../../../lib/generate/index.ts';
import { type RunningSandbox, type SandboxDump, startSandbox } from '../../../lib/sandbox/index.ts';
import { ferry, repoRoot } from '../support/ferry-cli.ts';
import { expectMethodRoutes, records, requestCounts } from '../support/sandbox-dump.ts';

/**
 * Issue 8's rollback criterion, through the CLI as a user runs it: a 150-patient PbN run into a
 * sandbox holding pre-existing records, under a rate whose long window binds (scaled 600/60 s, the
 * run's --rate matching it), then `ferry rollback <runId> --yes`.
 */

/** A unique patient email of the export, so a pre-existing person is matched (and updated) by the run. */
function aPatientEmail(dir: string): string {
  const lines = readFileSync(join(dir, 'patients.csv'), 'utf8')
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/);
  const header = (lines[0] ?? '').split(',').map((h) => h.replaceAll('"', ''));
  const column = header.indexOf('Email');
  const counts = new Map<string, number>();
  for (const line of lines.slice(1)) {
    const value = (line.split(',')[column] ?? '').replaceAll('"', '').trim().toLowerCase();
    if (/^[a-z0-9.]+@example\.org$/.test(value)) counts.set(value, (counts.get(value) ?? 0) + 1);
  }
  const email = [...counts].find(([, n]) => n === 1)?.[0];
  if (email === undefined) throw new Error('the generated export has no unique patient email');
  return email;
}

describe('ferry rollback under a binding rate (issue 8)', () => {
  let dir: string;
  let stateDir: string;
  let sandbox: RunningSandbox;
  let before: SandboxDump;
  let target: string[];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ferry-rb-rate-'));
    stateDir = mkdtempSync(join(tmpdir(), 'ferry-rb-rate-state-'));
    const expected = generateExport({ source: 'pbn', patients: 150, seed: '1', defects: 0, outDir: dir });
    sandbox = await startSandbox({
      flavor: 'v2',
      rateShort: { limit: 100, windowMs: 1000 },
      rateLong: { limit: 600, windowMs: 60_000 },
      members: expected.workspaceMembers,
    });
    const client = new TwentyClient({ baseUrl: sandbox.url, apiKey: sandbox.apiKey });
    await client.createMany('companies', [
      {
        id: '0b6d0c1e-0000-4000-8000-0000000000c1',
        name: 'Existing Lab Partner',
        domainName: { primaryLinkUrl: 'https://lab-partner.example.com', primaryLinkLabel: '' },
      },
    ]);
    await client.createMany('people', [
      {
        id: '0b6d0c1e-0000-4000-8000-0000000000a1',
        name: { firstName: 'Existing', lastName: 'Contact' },
        emails: { primaryEmail: aPatientEmail(dir), additionalEmails: [] },
        jobTitle: 'Front desk',
      },
    ]);
    // Soft-deleted before the run: rollback must leave its soft-delete state as it was.
    const gone = await client.createMany('people', [
      {
        id: '0b6d0c1e-0000-4000-8000-0000000000a2',
        name: { firstName: 'Deleted', lastName: 'Before' },
        emails: { primaryEmail: 'deleted.before@elsewhere.example.com', additionalEmails: [] },
      },
    ]);
    await client.softDelete('people', gone.written[0]?.id ?? '');
    before = await sandbox.dump();
    target = ['--twenty-url', sandbox.url, '--api-key', sandbox.apiKey, '--rate', '600/60s'];
  }, 120_000);
  afterAll(async () => {
    await sandbox?.stop();
    for (const d of [dir, stateDir]) if (d) rmSync(d, { recursive: true, force: true });
  });

  const migrate = async () => {
    const run = await ferry(['run', dir, '--yes', '--json', '--state-dir', stateDir, ...target]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const out = JSON.parse(run.stdout) as {
      runId: string;
      reconciliation: {
        totals: { created: number; updated: number };
        entities: { loaded: { created: number; updated: number } }[];
      };
    };
    expect(out.reconciliation.totals.updated).toBeGreaterThanOrEqual(1);
    return out;
  };
  const rollback = (runId: string) =>
    ferry(['rollback', runId, '--yes', '--json', '--state-dir', stateDir, ...target]);

  let runId: string;

  it('finishes, leaves the workspace as it was, and costs about one request per 100 records', async () => {
    const run = await migrate();
    runId = run.runId;
    const records100 = run.reconciliation.totals.created + run.reconciliation.totals.updated;
    const phases = run.reconciliation.entities.filter((e) => e.loaded.created + e.loaded.updated > 0).length;
    const s0 = await sandbox.stats();
    expectMethodRoutes(s0);

    const result = await rollback(runId);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const out = JSON.parse(result.stdout).rollback;
    expect(out).toMatchObject({ status: 'rolled-back', verified: true, done: true, problems: 0 });
    expect(out.destroyed + out.alreadyGone).toBe(run.reconciliation.totals.created);
    expect(out.restored).toBe(run.reconciliation.totals.updated);

    const used = requestCounts(await sandbox.stats());
    const spent = used.total - requestCounts(s0).total;
    expect(spent).toBe(out.requests);
    expect(spent).toBeLessThanOrEqual((records100 / 100 + phases) * 1.05);
    expect(used.deletes - requestCounts(s0).deletes).toBeLessThanOrEqual(records100 / 100 + phases);
    console.info(
      `rollback of ${records100} records in ${phases} entities: ${spent} requests ` +
        `(bound ${((records100 / 100 + phases) * 1.05).toFixed(1)}), ${out.ticks} tick(s)`,
    );

    expect(records(await sandbox.dump(), before)).toEqual(records(before));
  }, 600_000);

  it('a second rollback makes no write request and changes nothing', async () => {
    const s0 = requestCounts(await sandbox.stats());
    const again = await rollback(runId);
    expect(again.code).toBe(0);
    const out = JSON.parse(again.stdout).rollback;
    expect(out).toMatchObject({ destroyed: 0, restored: 0, alreadyGone: 0, status: 'rolled-back' });
    expect(requestCounts(await sandbox.stats()).writes - s0.writes).toBe(0);
    expect(records(await sandbox.dump(), before)).toEqual(records(before));
  }, 300_000);

  it('killed with SIGKILL in the middle, then run again, ends in the same state', async () => {
    const run = await migrate();
    const deletesAtStart = requestCounts(await sandbox.stats()).deletes;
    const child = spawn(
      process.execPath,
      [
        join(repoRoot, 'bin/ferry.ts'),
        'rollback',
        run.runId,
        '--yes',
        '--json',
        '--state-dir',
        stateDir,
        ...target,
      ],
      { cwd: repoRoot, stdio: 'ignore', env: { ...process.env, NODE_OPTIONS: '' } },
    );
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    // Kill it once a few delete-many requests went through (it needs many more to finish).
    for (let i = 0; i < 2000; i++) {
      if (requestCounts(await sandbox.stats()).deletes - deletesAtStart >= 3) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    child.kill('SIGKILL');
    await exited;
    const halfway = await sandbox.dump();
    expect(records(halfway, before)).not.toEqual(records(before));

    const resumed = await rollback(run.runId);
    expect(resumed.stderr).toBe('');
    expect(resumed.code).toBe(0);
    const out = JSON.parse(resumed.stdout).rollback;
    expect(out).toMatchObject({ status: 'rolled-back', verified: true, problems: 0 });
    expect(records(await sandbox.dump(), before)).toEqual(records(before));
  }, 600_000);
});
