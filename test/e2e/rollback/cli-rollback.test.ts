import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tinyMappingFile } from '../../support/tiny.ts';
import { ferry, tinyExport } from '../support/ferry-cli.ts';

const stateDir = mkdtempSync(join(tmpdir(), 'ferry-cli-rollback-'));
const mappingFile = tinyMappingFile;

describe('ferry rollback', () => {
  afterAll(() => {
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('undoes a `ferry run` in the same persisted sandbox, then finds nothing left to undo', async () => {
    const run = await ferry([
      'run',
      tinyExport,
      '--yes',
      '--json',
      '--state-dir',
      stateDir,
      '--mapping',
      mappingFile,
    ]);
    expect(run.code).toBe(0);
    const { runId, reconciliation } = JSON.parse(run.stdout);
    expect(reconciliation.totals.created).toBeGreaterThan(0);

    const refused = await ferry(['rollback', runId, '--state-dir', stateDir]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--yes');

    const first = await ferry(['rollback', runId, '--yes', '--json', '--state-dir', stateDir]);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const out = JSON.parse(first.stdout);
    expect(out.rollback).toMatchObject({ status: 'rolled-back', verified: true, alreadyGone: 0 });
    expect(out.rollback.destroyed).toBe(reconciliation.totals.created);

    const second = await ferry(['rollback', runId, '--yes', '--state-dir', stateDir]);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('destroyed 0, restored 0');

    const shown = await ferry(['status', runId, '--state-dir', stateDir]);
    expect(shown.stdout).toContain(`Run ${runId}: rolled-back`);
  }, 300_000);
});
