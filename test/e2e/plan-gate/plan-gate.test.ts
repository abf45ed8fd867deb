import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningSandbox, startSandbox } from '../../../lib/sandbox/index.ts';
import { ferry, repoRoot } from '../support/ferry-cli.ts';

/** A hand-written layout (not from lib/generate) whose only email column is the assigned provider's. */
const layout = join(repoRoot, 'test', 'fixtures', 'layouts', 'provider-email-only');
/** A hand-written export whose patient list was dropped twice: the appointments' patient column fits both. */
const duplicated = join(repoRoot, 'test', 'fixtures', 'exports', 'duplicate-patient-list');

function providerEmails(): Set<string> {
  const lines = readFileSync(join(layout, 'Providers.csv'), 'utf8').trim().split('\n').slice(1);
  return new Set(lines.map((line) => (line.split(',')[3] ?? '').toLowerCase()));
}

function providerNames(): Set<string> {
  const lines = readFileSync(join(layout, 'Providers.csv'), 'utf8').trim().split('\n').slice(1);
  return new Set(lines.map((line) => `${line.split(',')[1]} ${line.split(',')[2]}`));
}

describe('the plan gate on exports with a critical field Ferry cannot settle', () => {
  let sandbox: RunningSandbox;
  let stateDir: string;

  beforeAll(async () => {
    sandbox = await startSandbox({ rateShort: null, rateLong: null });
    stateDir = mkdtempSync(join(tmpdir(), 'ferry-e2e-gate-'));
  });
  afterAll(async () => {
    await sandbox?.stop();
    rmSync(stateDir, { recursive: true, force: true });
  });

  const run = (...extra: string[]) => runOn(layout, ...extra);
  const runOn = (folder: string, ...extra: string[]) =>
    ferry([
      'run',
      folder,
      '--yes',
      '--state-dir',
      stateDir,
      '--twenty-url',
      sandbox.url,
      '--api-key',
      sandbox.apiKey,
      '--rate',
      '6000/60s',
      '--fresh',
      ...extra,
    ]);

  it('stops ferry run --yes before any write, naming the file and column (exit 2)', async () => {
    const before = await sandbox.dump();
    const result = await run();
    expect(result.code, result.stderr.slice(-1500)).toBe(2);
    expect(result.stderr).toMatch(/plan gate/);
    expect(result.stderr).toContain('PatientList.csv:Email');
    // Names only: no address from the export in what the operator is shown.
    for (const email of providerEmails()) expect(result.stderr + result.stdout).not.toContain(email);
    // Nothing at all was written: no record, no custom object or field, no file.
    expect(await sandbox.dump()).toEqual(before);
  });

  it('stops on an appointment file whose patient column fits two files, naming file and column, before any write', async () => {
    const before = await sandbox.dump();
    const result = await runOn(duplicated);
    expect(result.code, result.stderr.slice(-1500)).toBe(2);
    expect(result.stderr).toMatch(/plan gate/);
    expect(result.stderr).toContain('Appointments.csv:Patient ID');
    expect(result.stderr).toMatch(/parent reference/);
    expect(await sandbox.dump()).toEqual(before);
  });

  it('ferry plan --out writes what to confirm as comments; the edited file (--mapping) settles the gate', async () => {
    const out = join(stateDir, 'provider-email-only.yaml');
    const plan = await ferry(['plan', layout, '--state-dir', stateDir, '--out', out]);
    expect(plan.code, plan.stderr).toBe(0);
    const yaml = readFileSync(out, 'utf8');
    expect(yaml).toMatch(/# TO CONFIRM/);
    expect(yaml).toMatch(/# +PatientList\.csv:Email — patients\.emails: /);
    // The proposal already leaves the provider's address off the patients: the operator passes it back as is.
    const before = await sandbox.dump();
    const result = await run('--mapping', out);
    expect(result.code, result.stderr.slice(-1500)).toBe(0);
    const people = ((await sandbox.dump()).records.person ?? []).filter((p) => p.deletedAt == null);
    expect(people.length).toBeGreaterThan((before.records.person ?? []).length);
    const providers = providerEmails();
    const onPatients = people.filter(
      (p) =>
        providers.has(((p.emails as { primaryEmail?: string })?.primaryEmail ?? '').toLowerCase()) &&
        (p.name as { firstName?: string })?.firstName !== undefined &&
        !providerNames().has(
          `${(p.name as { firstName?: string }).firstName} ${(p.name as { lastName?: string }).lastName}`,
        ),
    );
    expect(onPatients).toEqual([]);
  });

  it('with --accept-plan loads the patients without emails, never a provider address on a patient', async () => {
    const result = await run('--accept-plan');
    expect(result.code, result.stderr.slice(-1500)).toBe(0);
    const people = ((await sandbox.dump()).records.person ?? []).filter((p) => p.deletedAt == null);
    expect(people.length).toBe(43);
    const providers = providerEmails();
    const withProviderEmail = people.filter((p) => {
      const emails = p.emails as { primaryEmail?: string | null } | undefined;
      return providers.has((emails?.primaryEmail ?? '').toLowerCase());
    });
    // Exactly the three providers carry their own address; no patient carries one.
    expect(withProviderEmail).toHaveLength(3);
    const patients = people.filter(
      (p) => !providers.has(((p.emails as { primaryEmail?: string })?.primaryEmail ?? '').toLowerCase()),
    );
    expect(patients).toHaveLength(40);
  });
});
