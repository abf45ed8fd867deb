import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildWorkflowReference, workflowRowsFromJson } from '../../../lambdas/core/sources/workflows.ts';

const layouts = join(import.meta.dirname, '..', '..', 'fixtures', 'layouts');

describe('automation exports in JSON', () => {
  it.each([
    ['curve-dental', 'automations.json'],
    ['pbn-reports', 'automations.json'],
    ['heldout-dentimax', 'ReminderRules.json'],
  ])('%s/%s becomes one rebuild entry per automation with its trigger', (layout, file) => {
    const text = readFileSync(join(layouts, layout, file), 'utf8');
    const found = workflowRowsFromJson(text);
    expect(found).not.toBeNull();
    const reference = buildWorkflowReference(found?.rows ?? [], found?.header ?? []);
    const parsed = JSON.parse(text) as unknown;
    const list = Array.isArray(parsed) ? parsed : Object.values(parsed as object).find(Array.isArray);
    expect(reference.count).toBe((list as unknown[]).length);
    expect(reference.workflows.every((w) => w.trigger !== null || w.actions.length > 0)).toBe(true);
  });

  it('leaves other JSON alone: not a list, a list of scalars, or objects naming no trigger or action', () => {
    expect(workflowRowsFromJson('{"version": 2}')).toBeNull();
    expect(workflowRowsFromJson('[1, 2, 3]')).toBeNull();
    expect(workflowRowsFromJson('[{"color": "red"}, {"color": "blue"}]')).toBeNull();
    expect(workflowRowsFromJson('not json')).toBeNull();
  });
});
