import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseMappingSpec } from '../../../lambdas/core/mapping/spec.ts';
import { apmsProfile, bindProfile, pbnProfile } from '../../../lambdas/core/sources/index.ts';
import { generateExport } from '../../../lib/generate/index.ts';
import { reconcileExport } from './export-harness.ts';

const root = mkdtempSync(join(tmpdir(), 'ferry-profiles-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Warning codes the generator predicts; others (PHONE_NORMALIZED, OPTION_ADDED…) are not modelled. */
const PREDICTED_WARNINGS = ['SHARED_EMAIL', 'ZIP_RESTORED'];

describe('source profiles', () => {
  it('parse as valid mapping specs', () => {
    expect(() => parseMappingSpec(apmsProfile.mapping, 'apms')).not.toThrow();
    expect(() => parseMappingSpec(pbnProfile.mapping, 'pbn')).not.toThrow();
  });

  it('never map an SSN column', () => {
    const columns = JSON.stringify([apmsProfile.mapping, pbnProfile.mapping]);
    expect(columns).not.toMatch(/SSN/i);
  });

  for (const source of ['apms', 'pbn'] as const) {
    it(`reproduce expected.json exactly for a generated ${source} export with defects`, async () => {
      const dir = join(root, source);
      const expected = generateExport({
        source,
        patients: 400,
        seed: 'profile-test',
        defects: 0.03,
        outDir: dir,
      });
      const { observed } = await reconcileExport(dir, expected);
      for (const [entity, e] of Object.entries(expected.entities)) {
        const o = observed[entity];
        expect(o, entity).toBeDefined();
        if (o === undefined) continue;
        expect({
          entity,
          rows: o.rows,
          loaded: o.loaded,
          skipped: o.skipped,
          skips: o.skips,
          rejects: o.rejects,
        }).toEqual({
          entity,
          rows: e.rows,
          loaded: e.loaded,
          skipped: e.skipped,
          skips: e.skips,
          rejects: e.rejects,
        });
        const predicted = Object.fromEntries(
          PREDICTED_WARNINGS.map((w) => [w, o.warnings[w] ?? 0]).filter(([, n]) => n !== 0),
        );
        expect({ entity, warnings: predicted }).toEqual({ entity, warnings: e.warnings });
        expect(o.rows).toBe(o.loaded + o.skipped + Object.values(o.rejects).reduce((a, b) => a + b, 0));
      }
    });
  }

  it('binds the mapping to renamed header spellings through aliases', () => {
    const bound = parseMappingSpec(
      bindProfile(pbnProfile, [
        {
          stem: 'Patients Export',
          header: ['PatientID', 'FirstName', 'LastName', 'E-mail Address', 'DOB', 'Recall', 'Zip Code'],
        },
      ]),
      'bound',
    );
    const patients = bound.entities.patients;
    expect(patients?.idColumn).toBe('PatientID');
    expect(patients?.files).toEqual(['Patients Export.csv']);
    expect(patients?.fields.emails?.from).toBe('E-mail Address');
    expect(patients?.fields.dateOfBirth?.from).toBe('DOB');
    expect(patients?.fields.name?.from).toEqual(['FirstName', 'LastName']);
    expect(Object.keys(bound.entities)).toEqual(['patients']);
  });
});
