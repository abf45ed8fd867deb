import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalRuntime, summaryKey } from '../../lib/local/runtime.ts';
import { tinyMappingFile } from '../support/tiny.ts';
import { ferry, tinyExport } from './support/ferry-cli.ts';

const tiny = tinyExport;
const stateDir = mkdtempSync(join(tmpdir(), 'ferry-cli-status-'));
const mappingFile = tinyMappingFile;
/** A run that only left a local summary (it failed before Inventory created its record). */
const ORPHAN = '20000101T000000-abcdef';

interface StatusJson {
  runId: string;
  from: 'run-store' | 'summary';
  status: string;
  stage?: string;
  folder?: string;
  counters: Record<string, number>;
}

describe('ferry status', () => {
  let runId = '';

  beforeAll(async () => {
    const run = await ferry([
      'run',
      tiny,
      '--yes',
      '--json',
      '--state-dir',
      stateDir,
      '--mapping',
      mappingFile,
    ]);
    expect(run.code, run.stderr).toBe(0);
    runId = JSON.parse(run.stdout).runId;
    // An execution with a summary but no run record, written where the CLI will look for it.
    const runtime = await startLocalRuntime({ stateDir });
    try {
      await runtime.deps.work.put(
        summaryKey(ORPHAN),
        JSON.stringify({
          runId: ORPHAN,
          machine: 'migrate',
          status: 'FAILED',
          startedAt: '2000-01-01T00:00:00.000Z',
          finishedAt: '2000-01-01T00:00:01.000Z',
          error: { name: 'RunLockedError', cause: 'the drop folder is locked by another run' },
          states: ['Inventory', 'FailRun', 'Failed'],
        }),
        'application/json',
      );
    } finally {
      await runtime.stop();
    }
  });

  afterAll(() => {
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('lists runs from the Runs table with stage, status and counters, and orphan summaries after them', async () => {
    const listed = await ferry(['status', '--json', '--state-dir', stateDir]);
    expect(listed.code, listed.stderr).toBe(0);
    const runs = JSON.parse(listed.stdout) as StatusJson[];
    expect(runs.map((r) => r.runId)).toEqual([runId, ORPHAN]);
    const [recorded, orphan] = runs;
    expect(recorded).toMatchObject({ from: 'run-store', status: 'succeeded', stage: 'Reconcile' });
    expect(recorded?.folder).toMatch(/^drop\/tiny/);
    expect(recorded?.counters.created).toBeGreaterThan(0);
    expect(orphan).toMatchObject({ from: 'summary', status: 'failed', stage: 'Inventory' });
  });

  it('prints a table of recent runs', async () => {
    const listed = await ferry(['status', '--state-dir', stateDir]);
    expect(listed.code).toBe(0);
    const lines = listed.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^RUN\s+STATUS\s+STAGE\s+STARTED\s+COUNTERS$/);
    expect(lines[1]).toContain(runId);
    expect(lines[1]).toMatch(/succeeded\s+Reconcile/);
    expect(lines[1]).toMatch(/created=\d+/);
    const limited = await ferry(['status', '--limit', '1', '--json', '--state-dir', stateDir]);
    expect(JSON.parse(limited.stdout)).toHaveLength(1);
  });

  it('shows one run from its record, and an orphan from its summary', async () => {
    const shown = await ferry(['status', runId, '--state-dir', stateDir]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain(`Run ${runId}: succeeded`);
    expect(shown.stdout).toMatch(/stage\s+Reconcile/);
    expect(shown.stdout).toMatch(/created\s+\d+/);
    const json = JSON.parse((await ferry(['status', runId, '--json', '--state-dir', stateDir])).stdout);
    expect(json).toMatchObject({ runId, from: 'run-store', status: 'succeeded' });

    const orphan = await ferry(['status', ORPHAN, '--state-dir', stateDir]);
    expect(orphan.code).toBe(0);
    expect(orphan.stdout).toContain(`Run ${ORPHAN}: failed (from the local summary)`);
    expect(orphan.stdout).toContain('RunLockedError');
    expect(orphan.stdout).not.toContain('locked by another run');
  });

  it('exits 2 with one line for an unknown or malformed run id', async () => {
    const unknown = await ferry(['status', 'no-such-run', '--state-dir', stateDir]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr.trim().split('\n')).toHaveLength(1);
    expect((await ferry(['status', 'bad/id', '--state-dir', stateDir])).code).toBe(2);
  });
});
