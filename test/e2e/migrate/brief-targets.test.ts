import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordId } from '../../../lambdas/core/mapping/ids.ts';
import { type RunningSandbox, startSandbox } from '../../../lib/sandbox/index.ts';
import { ferryRunInto, repoRoot } from '../support/ferry-cli.ts';

/**
 * The product brief's targets on exports Ferry has no profile for (hand-written layouts, not
 * lib/generate), loaded into the sandbox: plan line items are `treatmentPlanItem` records linked to
 * their plan, billing rows `billingRecord` records linked to their patient, providers who are
 * workspace members are matched to them instead of becoming people, and a JSON automation export is
 * kept as the workflow rebuild reference. Links are checked against the deterministic ids of the
 * source rows they name, in the namespace of the system the export was identified as.
 */

const layouts = join(repoRoot, 'test', 'fixtures', 'layouts');

function csv(file: string, delimiter = ','): Record<string, string>[] {
  const [head, ...lines] = readFileSync(file, 'utf8').replace(/\r/g, '').trim().split('\n');
  const header = (head ?? '').split(delimiter);
  return lines.map((l) => Object.fromEntries(l.split(delimiter).map((v, i) => [header[i] ?? '', v])));
}

describe("the brief's targets, end to end", () => {
  let sandbox: RunningSandbox;
  let stateDir: string;

  beforeAll(async () => {
    sandbox = await startSandbox({
      rateShort: null,
      rateLong: null,
      // Two of the PbN layout's providers are users of the workspace.
      members: [
        { email: 'ullawhitlock@smilecraftdental.example', firstName: 'Ulla', lastName: 'Whitlock' },
        { email: 'kestreldalrymple@smilecraftdental.example', firstName: 'Kestrel', lastName: 'Dalrymple' },
      ],
    });
    stateDir = mkdtempSync(join(tmpdir(), 'ferry-e2e-targets-'));
  });
  afterAll(async () => {
    await sandbox?.stop();
    rmSync(stateDir, { recursive: true, force: true });
  });

  async function migrate(layout: string) {
    const result = await ferryRunInto(join(layouts, layout), stateDir, sandbox);
    expect(result.code, result.stderr.slice(-1500)).toBe(0);
    const json = JSON.parse(result.stdout);
    const instance = String(json.folder)
      .replace(/^drop\//, '')
      .replace(/\/+$/, '');
    const entity = (name: string) =>
      json.reconciliation.entities.find((e: { entity: string }) => e.entity === name);
    return { json, instance, entity, dump: await sandbox.dump() };
  }

  it('APMS classic: plan items link to their plan, ledger rows to their patient (apms ids)', async () => {
    const { json, instance, entity, dump } = await migrate('apms-classic');
    expect(json.summary.source).toBe('apms');
    expect(readFileSync(json.paths['plan report'], 'utf8')).toMatch(
      /- Profile: the apms profile does not apply/,
    );
    const id = (e: string, sourceId: string) => recordId(instance, 'apms', e, sourceId);
    const plans = new Set(csv(join(layouts, 'apms-classic', 'TXPLAN.csv')).map((p) => p.PLAN_NO));
    const items = new Map((dump.records.treatmentPlanItem ?? []).map((r) => [r.id, r]));
    const itemRows = csv(join(layouts, 'apms-classic', 'TXITEMS.csv'));
    const stats = entity('treatmentPlanItems');
    expect(stats.balanced).toBe(true);
    expect(items.size).toBe(stats.loaded.created);
    let linked = 0;
    for (const row of itemRows) {
      const record = items.get(id('treatmentPlanItems', row.ITEM_ID ?? ''));
      if (record === undefined) continue; // rejected, counted with a reason
      const plan = plans.has(row.PLAN_NO) ? id('treatmentPlans', row.PLAN_NO ?? '') : null;
      expect(record.plan2Id).toBe(plan);
      if (plan !== null) linked++;
    }
    expect(linked).toBe(stats.loaded.created - (stats.warnings.REFERENCE_DROPPED ?? 0));
    const opportunities = new Set((dump.records.opportunity ?? []).map((o) => o.id));
    for (const record of items.values())
      if (record.plan2Id != null) expect(opportunities.has(record.plan2Id)).toBe(true);

    const patients = new Set(csv(join(layouts, 'apms-classic', 'PATMAST.csv')).map((p) => p.ACCTNO));
    const ledger = new Map((dump.records.billingRecord ?? []).map((r) => [r.id, r]));
    const ledgerRows = csv(join(layouts, 'apms-classic', 'LEDGER.csv'));
    expect(ledger.size).toBe(ledgerRows.length);
    for (const row of ledgerRows) {
      const record = ledger.get(id('billing', row.TRAN_ID ?? ''));
      expect(record?.accountId).toBe(patients.has(row.ACCTNO) ? id('patients', row.ACCTNO ?? '') : null);
    }
  }, 60_000);

  it('PbN reports: providers who are members are matched, not people; the automation export is the rebuild reference', async () => {
    await sandbox.reset();
    const { json, entity, dump } = await migrate('pbn-reports');
    expect(json.summary.source).toBe('pbn');
    const providers = entity('providers');
    expect(providers.skipped).toEqual({ MATCHED_MEMBER: 2 });
    expect(providers.balanced).toBe(true);
    const emails = new Set(
      (dump.records.person ?? []).map((p) => (p.emails as { primaryEmail?: string } | null)?.primaryEmail),
    );
    expect(emails.has('ullawhitlock@smilecraftdental.example')).toBe(false);
    expect(emails.has('kestreldalrymple@smilecraftdental.example')).toBe(false);
    const workflows = json.paths.workflows;
    expect(existsSync(workflows)).toBe(true);
    const reference = JSON.parse(readFileSync(workflows, 'utf8'));
    const campaigns = JSON.parse(readFileSync(join(layouts, 'pbn-reports', 'automations.json'), 'utf8'));
    expect(JSON.stringify(reference)).toContain(campaigns.campaigns[0].campaignId);
  }, 60_000);
});
