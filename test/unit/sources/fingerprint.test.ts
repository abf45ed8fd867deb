import { describe, expect, it } from 'vitest';
import { planMapping } from '../../../lambdas/core/inventory/mapping-plan.ts';
import { renderPlanReport } from '../../../lambdas/core/inventory/plan-report.ts';
import { type FingerprintFile, identifySystem } from '../../../lambdas/core/sources/fingerprint.ts';
import { layoutNames, loadLayout } from '../../support/layout-corpus.ts';

/** The corpus truth's system names that are systems Ferry knows. */
const KNOWN: Record<string, 'apms' | 'pbn'> = { apms: 'apms', 'practice-by-numbers': 'pbn' };

describe('identifySystem on the layout corpus', () => {
  it.each(layoutNames())('%s: named after the system it came from only when Ferry knows it', async (name) => {
    const { files, truth } = await loadLayout(name);
    const identified = identifySystem(files);
    expect(identified?.source).toBe(KNOWN[truth.system]);
    const plan = planMapping(files);
    expect(plan.source).toBe(KNOWN[truth.system] ?? 'generic');
    expect(plan.spec.source).toBe(plan.source);
  });
});

describe('an APMS or PbN export in a layout the profile does not read', () => {
  it('is reported as its system with its evidence and why the profile does not apply, and auto-mapped', async () => {
    for (const [layout, system] of [
      ['apms-classic', 'apms'],
      ['pbn-reports', 'pbn'],
    ] as const) {
      const { files } = await loadLayout(layout);
      const plan = planMapping(files);
      expect(plan.origin).toBe('auto');
      expect(plan.detection.source).toBe(system);
      expect(plan.detection.confidence).toBeGreaterThanOrEqual(0.5);
      expect(plan.detection.evidence).toMatch(/file names: .*header vocabulary: .*value shapes: /);
      expect(plan.detection.profile).toMatch(new RegExp(`^the ${system} profile does not apply`));
      // Both systems are US systems: a date column whose sample leaves the order open is read MDY.
      expect(plan.spec.options.dateOrder).toBe('MDY');
      // Names and shapes only: no sampled value is in what the plan says about the system.
      const said = `${plan.detection.evidence} ${plan.detection.profile}`;
      for (const f of files)
        for (const row of f.sample.slice(0, 10))
          for (const cell of row) if (cell.trim().length > 3) expect(said).not.toContain(cell.trim());
      const report = renderPlanReport(
        {
          runId: 'r1',
          folder: 'drop/x/',
          files: [],
          totals: { dataFiles: 0, attachments: 0, bytes: 0, rows: 0, malformedRows: 0, blankLines: 0 },
          warnings: [],
          errors: [],
        } as never,
        {
          mapping: plan,
          sourceInstance: 'x',
          estimate: { requests: 0, rate: 'cloud', requestsPerMinute: 100, batchMax: 200, minutes: 0 },
          schemaChanges: null,
          mergeCandidates: null,
        } as never,
      );
      expect(report).toContain(`- Source system: **${system}** (auto mapping; detection ${system}`);
      expect(report).toContain('- Source system told by file names:');
      expect(report).toContain(`- Profile: the ${system} profile does not apply`);
      expect(report).toMatch(/Links to parent records[^\n]*:\n- [^\n]+ → patients \([^)]+\): \d+ of \d+/);
    }
  });

  it('a profile that does not fit, with no other mark of its system, is said so and mapped as generic', async () => {
    // curve-dental's snake_case file and column names look like PbN's API export by name alone.
    const { files } = await loadLayout('curve-dental');
    const plan = planMapping(files);
    expect(plan.source).toBe('generic');
    expect(plan.detection.source).toBe('generic');
    expect(plan.detection.profile).toMatch(
      /^the pbn profile does not apply: \S+ has \d+% of the columns it reads \(it needs 80%\), and nothing else/,
    );
  });
});

describe('identifySystem needs the vocabulary and one more kind of evidence', () => {
  const apmsLike = (header: string[], stem = 'PATMAST'): FingerprintFile => ({
    stem,
    header,
    sample: [
      ['001040', '07/22/67'],
      ['001043', '03/08/10'],
      ['001047', '11/30/81'],
    ],
  });

  it('names APMS from its vocabulary and value shapes', () => {
    const id = identifySystem([
      apmsLike(['ACCTNO', 'BDATE'], 'export1'),
      apmsLike(['ACCTNO', 'HPHONE'], 'x'),
    ]);
    expect(id?.source).toBe('apms');
    expect(id?.evidence.find((e) => e.kind === 'file names')?.seen).toEqual([]);
  });

  it('does not name a system from file names and value shapes alone', () => {
    expect(identifySystem([apmsLike(['Account', 'Birth'])])).toBeUndefined();
  });

  it('does not name a system from one word of its vocabulary, whatever else agrees', () => {
    const files: FingerprintFile[] = [
      { stem: 'Visits Report', header: ['Visit', 'Campaign', 'Amount'], sample: [] },
      {
        stem: 'Payments Report',
        header: ['When', 'Paid'],
        sample: [
          ['03/04/2024 9:15 AM', '$1,150.00'],
          ['03/05/2024 2:30 PM', '$75.00'],
          ['03/06/2024 4:45 PM', '$2,010.50'],
        ],
      },
    ];
    expect(identifySystem(files)).toBeUndefined();
  });

  it('does not name a system from its vocabulary alone', () => {
    const file: FingerprintFile = { stem: 'export', header: ['ACCTNO', 'Name'], sample: [] };
    expect(identifySystem([file])).toBeUndefined();
  });
});
