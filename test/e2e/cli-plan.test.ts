import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseMappingYaml } from '../../lambdas/core/mapping/spec.ts';
import { ferry, repoRoot } from './support/ferry-cli.ts';

const apms = join(repoRoot, 'examples', 'apms');
const stateDir = mkdtempSync(join(tmpdir(), 'ferry-cli-plan-'));
const out = join(stateDir, 'apms-mapping.yaml');

describe('ferry plan', () => {
  afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

  it('shows the detected source and the proposed mapping, and writes it as editable YAML with confidences', async () => {
    const result = await ferry(['plan', apms, '--state-dir', stateDir, '--out', out]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/mapping: profile \(apms, detected at 100%\)/);
    expect(result.stdout).toMatch(/patients\s+→ person/);
    expect(result.stdout).toMatch(/excluded: PatientDemographics\.csv:Pt SSN \(never migrated \(SSN\)\)/);
    const yaml = readFileSync(out, 'utf8');
    expect(yaml).toMatch(/# confidence 100%/);
    expect(yaml).not.toMatch(/SSN/);
    const spec = parseMappingYaml(yaml, 'apms-mapping.yaml');
    expect(spec.source).toBe('apms');
    expect(spec.entities.patients?.target).toBe('person');
  });

  it('names an APMS export in a layout the profile does not read as APMS, says why and auto-maps it', async () => {
    const classic = join(repoRoot, 'test', 'fixtures', 'layouts', 'apms-classic');
    const result = await ferry(['plan', classic, '--state-dir', stateDir]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/mapping: auto \(apms, detected at \d+%\)/);
    expect(result.stdout).toMatch(/told by file names: .*; header vocabulary: .*; value shapes: /);
    expect(result.stdout).toMatch(/the apms profile does not apply: .*; the auto-mapper maps it/);
    const json = JSON.parse((await ferry(['plan', classic, '--state-dir', stateDir, '--json'])).stdout);
    expect(json.plan.source).toBe('apms');
  });

  it('frees the drop folder: a second plan and a run with the edited mapping both go through', async () => {
    const again = await ferry(['plan', apms, '--state-dir', stateDir, '--source', 'apms', '--json']);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout).plan.source).toBe('apms');
    const run = await ferry(['run', apms, '--yes', '--json', '--state-dir', stateDir, '--mapping', out]);
    expect(run.code).toBe(0);
    const json = JSON.parse(run.stdout);
    expect(json.status).toBe('SUCCEEDED');
    expect(json.reconciliation.balanced).toBe(true);
  });

  it('refuses an unknown --source and a missing --mapping with exit 2', async () => {
    expect((await ferry(['plan', apms, '--state-dir', stateDir, '--source', 'epic'])).code).toBe(2);
    const missing = await ferry([
      'plan',
      apms,
      '--state-dir',
      stateDir,
      '--mapping',
      join(stateDir, 'nope.yaml'),
    ]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/mapping file .* does not exist/);
  });
});
