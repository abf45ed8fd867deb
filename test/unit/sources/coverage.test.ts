import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, describe, expect, it } from 'vitest';
import { columnsRead } from '../../../lambdas/core/inventory/mapping-plan.ts';
import { parseMappingSpec } from '../../../lambdas/core/mapping/spec.ts';
import { apmsProfile, pbnProfile } from '../../../lambdas/core/sources/index.ts';
import { generateExport } from '../../../lib/generate/index.ts';

const root = mkdtempSync(join(tmpdir(), 'ferry-coverage-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** The header row of a generated CSV (the generator writes a UTF-8 BOM). */
function headerOf(path: string): string[] {
  const rows = parse(readFileSync(path, 'utf8'), { bom: true, to_line: 1 }) as string[][];
  return rows[0] ?? [];
}

// Issue 4: a column of a known export is either migrated or excluded by rule, never dropped silently.
describe('source profile coverage', () => {
  for (const [source, profile] of [
    ['apms', apmsProfile],
    ['pbn', pbnProfile],
  ] as const) {
    it(`reads every column the ${source} generator writes, except SSNs`, () => {
      const dir = join(root, source);
      generateExport({ source, patients: 60, seed: 'coverage', defects: 0, outDir: dir });
      const spec = parseMappingSpec(profile.mapping, source);
      const unread: string[] = [];
      for (const [name, entity] of Object.entries(spec.entities)) {
        const file = entity.files[0];
        expect(file, name).toBeDefined();
        if (file === undefined) continue;
        const read = columnsRead(entity);
        for (const column of headerOf(join(dir, file)))
          if (!read.has(column) && !/SSN/i.test(column)) unread.push(`${file}:${column}`);
      }
      expect(unread).toEqual([]);
    });
  }
});
