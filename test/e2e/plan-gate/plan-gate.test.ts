import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningSandbox, startSandbox } from '../../../lib/sandbox/index.ts';
import { ferry, repoRoot } from '../support/ferry-cli.ts';

/** A hand-written layout (not from lib/generate) whose only email column is the assigned provider's. */
const layout = join(repoRoot, 'test', 'fixtures', 'layouts', 'provider-email-only');

function providerEmails(): Set<string> {
  const lines = readFileSync(join(layout, 'Providers.csv'), 'utf8').trim().split('\n').slice(1);
  return new Set(lines.map((line) => (line.split(',')[3] ?? '').toLowerCase()));
}

describe('the plan gate on an export whose only email column belongs to providers', () => {
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

  const run = (...extra: string[]) =>
    ferry([
      'run',
      layout,
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
    const after = await sandbox.dump();
    expect(after.records.person ?? []).toEqual(before.records.person ?? []);
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
