import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tinyMappingFile } from '../support/tiny.ts';
import { ferry, tinyExport } from './support/ferry-cli.ts';

const tiny = tinyExport;
const stateDir = mkdtempSync(join(tmpdir(), 'ferry-cli-'));
const mappingFile = tinyMappingFile;

describe('ferry CLI', () => {
  afterAll(() => {
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('runs the migrate workflow on a folder with --yes --json and exits 0', async () => {
    const result = await ferry([
      'run',
      tiny,
      '--yes',
      '--json',
      '--state-dir',
      stateDir,
      '--chunk-size',
      '3',
      '--mapping',
      mappingFile,
    ]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const json = JSON.parse(result.stdout);
    expect(json.status).toBe('SUCCEEDED');
    expect(json.folder).toMatch(/^drop\/tiny-[0-9a-f]{8}\/$/);
    expect(json.states).toEqual(
      expect.arrayContaining(['Inventory', 'Segment', 'ApplySchema', 'Prepare', 'LoadChunk', 'Reconcile']),
    );
    expect(json.summary).toMatchObject({ files: 2, rows: 9, segmentedRows: 9, chunks: 4, rejects: 0 });
    expect(json.twenty).toBe('built-in sandbox');
    expect(json.reconciliation).toMatchObject({ balanced: true, status: 'succeeded' });
    expect(json.reconciliation.totals.sourceRows).toBe(9);
    expect(json.reconciliation.totals.created).toBeGreaterThan(0);
    // The printed paths are real files a user can open.
    for (const path of [json.paths['plan report'], json.paths.reconciliation, json.paths['rejects (csv)']])
      expect(existsSync(path), path).toBe(true);

    const listed = await ferry(['status', '--json', '--state-dir', stateDir]);
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout).map((run: { runId: string }) => run.runId)).toContain(json.runId);

    const shown = await ferry(['status', json.runId, '--state-dir', stateDir]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain(`Run ${json.runId}: succeeded`);
  });

  it('prints a readable summary with the inventory through the bin shim', async () => {
    const result = await ferry(
      ['run', tiny, '--yes', '--state-dir', stateDir, '--mapping', mappingFile],
      'bin/ferry.mjs',
    );
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/Ferry run \S+: SUCCEEDED/);
    // Second run on the same state: the table shows every loaded record as unchanged.
    expect(result.stdout).toMatch(
      /entity\s+object\s+source\s+created\s+updated\s+unchanged\s+rejected\s+skipped/,
    );
    expect(result.stdout).toMatch(/patients\s+people\s+5\s+0\s+0\s+5\s/);
    expect(result.stdout).toContain('reconciliation.json');
  });

  it('exits 2 with one line naming the folder when it does not exist', async () => {
    const result = await ferry(['run', join(tiny, 'missing'), '--yes', '--state-dir', stateDir]);
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/^ferry: folder .*missing does not exist\.\n$/);
  });

  it('exits 1 with guidance when the plan needs approval and there is no terminal', async () => {
    const result = await ferry(['run', tiny, '--state-dir', stateDir]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('ApprovalRequiredError');
    expect(result.stderr).toContain('--yes');
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('inventories a folder with plan --json without running the workflow', async () => {
    const result = await ferry(['plan', tiny, '--json', '--state-dir', stateDir]);
    expect(result.code, result.stderr).toBe(0);
    const json = JSON.parse(result.stdout);
    expect(json.inventory).toMatchObject({ files: 2, rows: 9 });
    expect(json.plan.files.map((f: { name: string }) => f.name).sort()).toEqual([
      'appointments.csv',
      'patients.csv',
    ]);
  });

  it('exits 2 on usage errors: an unknown option, a bad chunk size, an unknown run', async () => {
    expect((await ferry(['run', tiny, '--nope'])).code).toBe(2);
    const bad = await ferry(['run', tiny, '--chunk-size', '50000', '--state-dir', stateDir]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--chunk-size');
    expect((await ferry(['status', 'no-such-run', '--state-dir', stateDir])).code).toBe(2);
  });
});
