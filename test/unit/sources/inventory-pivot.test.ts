import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseMappingSpec } from '../../../lambdas/core/mapping/spec.ts';
import { inventory } from '../../../lambdas/tasks/inventory/inventory.ts';
import { makeDeps } from '../inventory/harness.ts';

describe('Inventory with a pivot file', () => {
  it('writes the APMS custom patient properties into mapping.json as typed patient fields', async () => {
    const files: Record<string, Uint8Array> = { 'drop/apms/ferry.json': Buffer.from('{}') };
    for (const name of readdirSync('examples/apms'))
      if (name.endsWith('.csv')) files[`drop/apms/${name}`] = readFileSync(join('examples/apms', name));
    const deps = makeDeps(files);
    const output = await inventory({ runId: 'run-p', folder: 'drop/apms/' }, deps);
    expect(output.source).toBe('apms');
    const mapping = parseMappingSpec(JSON.parse(await deps.work.getText(output.mappingKey)), 'mapping.json');
    const fields = mapping.entities.patients?.fields ?? {};
    expect(
      [
        'consentSignedDate',
        'copayAmount',
        'insuranceGroupId',
        'preferredContactMethod',
        'preferredLanguage',
      ].map((f) => [f, fields[f]?.custom?.type]),
    ).toEqual([
      ['consentSignedDate', 'DATE'],
      ['copayAmount', 'NUMBER'],
      ['insuranceGroupId', 'TEXT'],
      ['preferredContactMethod', 'SELECT'],
      ['preferredLanguage', 'SELECT'],
    ]);
    expect(mapping.entities.patients?.pivot?.files).toEqual(['PatientCustomProperties.csv']);
    expect(await deps.work.getText(output.mappingKey)).not.toContain('G-');
  });
});
