import { describe, expect, it } from 'vitest';
import { planMapping } from '../../../lambdas/core/inventory/mapping-plan.ts';
import { loadLayout } from '../../support/layout-corpus.ts';

describe('the plan lists each parent link with the share of sampled values that resolve', () => {
  it('counts, per child column, the sampled values that are ids of the parent file', async () => {
    const { files } = await loadLayout('apms-classic');
    const plan = planMapping(files);
    const column = (file: string, name: string) => {
      const f = files.find((x) => x.name === file);
      const i = f?.header.indexOf(name) ?? -1;
      return (f?.sample ?? []).map((r) => (r[i] ?? '').trim()).filter((v) => v !== '');
    };
    // The oracle: every account number of the patient master, read from the file itself.
    const accounts = new Set(column('PATMAST.csv', 'ACCTNO'));
    const appts = column('APPTS.csv', 'ACCTNO');
    expect(plan.links).toContainEqual({
      entity: 'appointments',
      file: 'APPTS.csv',
      column: 'ACCTNO',
      parent: 'patients',
      parentFile: 'PATMAST.csv',
      sampled: appts.length,
      resolved: appts.filter((a) => accounts.has(a)).length,
    });
    // Every child that has a parent link is listed, and every listed link names only files and columns.
    for (const entity of [
      'appointments',
      'communications',
      'billing',
      'treatmentPlanItems',
      'treatmentPlans',
    ])
      expect(plan.links.some((l) => l.entity === entity)).toBe(true);
    for (const l of plan.links) {
      expect(l.resolved).toBeLessThanOrEqual(l.sampled);
      expect(Object.keys(l).sort()).toEqual([
        'column',
        'entity',
        'file',
        'parent',
        'parentFile',
        'resolved',
        'sampled',
      ]);
    }
  });
});
