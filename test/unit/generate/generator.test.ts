import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type ExpectedExport, generateExport } from '../../../lib/generate/index.ts';

const root = mkdtempSync(join(tmpdir(), 'ferry-generate-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function digest(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out[relative(dir, p)] = createHash('sha256').update(readFileSync(p)).digest('hex');
    }
  };
  walk(dir);
  return out;
}

describe('generateExport', () => {
  for (const source of ['apms', 'pbn'] as const) {
    it(`reproduces the committed examples/${source} byte for byte`, () => {
      const committed = JSON.parse(
        readFileSync(join('examples', source, 'expected.json'), 'utf8'),
      ) as ExpectedExport;
      const out = join(root, `example-${source}`);
      generateExport({
        source,
        patients: committed.patients,
        seed: committed.seed,
        defects: committed.defectRate,
        outDir: out,
      });
      expect(digest(out)).toEqual(digest(join('examples', source)));
    });
  }

  it('gives different files for a different seed', () => {
    const a = join(root, 'seed-a');
    const b = join(root, 'seed-b');
    generateExport({ source: 'pbn', patients: 30, seed: 'a', outDir: a });
    generateExport({ source: 'pbn', patients: 30, seed: 'b', outDir: b });
    expect(readFileSync(join(a, 'patients.csv'))).not.toEqual(readFileSync(join(b, 'patients.csv')));
  });

  it('accounts for every row: rows = loaded + rejected + skipped, and a clean export has no rejects', () => {
    const clean = generateExport({ source: 'apms', patients: 60, seed: 3, outDir: join(root, 'clean') });
    for (const e of Object.values(clean.entities)) {
      expect(e.rejects).toEqual({});
      expect(e.rows).toBe(e.loaded + e.skipped);
    }
    const dirty = generateExport({
      source: 'apms',
      patients: 300,
      seed: 3,
      defects: 0.05,
      outDir: join(root, 'dirty'),
    });
    const reasons = new Set<string>();
    for (const e of Object.values(dirty.entities)) {
      const rejected = Object.values(e.rejects).reduce((a, b) => a + (b ?? 0), 0);
      expect(e.rows).toBe(e.loaded + e.skipped + rejected);
      for (const r of Object.keys(e.rejects)) reasons.add(r);
    }
    expect([...reasons].sort()).toEqual([
      'AMBIGUOUS_DATE',
      'DUPLICATE_SOURCE_ID',
      'ENCODING_ERROR',
      'INVALID_DATE',
      'INVALID_EMAIL',
      'INVALID_PHONE',
      'MALFORMED_ROW',
      'MISSING_FILE',
      'MISSING_REQUIRED',
      'ORPHAN_REFERENCE',
      'UNMAPPED_VALUE',
      'VALUE_TOO_LONG',
    ]);
  });

  it('writes the documents a documents row names, and only fictional contact data', () => {
    const dir = join(root, 'docs');
    const expected = generateExport({ source: 'apms', patients: 80, seed: 9, outDir: dir });
    const rows = readFileSync(join(dir, 'Documents.csv'), 'utf8').split('\r\n').slice(1, -1);
    expect(rows.length).toBe(expected.entities.documents?.rows);
    for (const row of rows) {
      const fileName = row.split('","')[3] ?? '';
      expect(existsSync(join(dir, 'documents', fileName))).toBe(true);
    }
    const patients = readFileSync(join(dir, 'PatientDemographics.csv'), 'utf8');
    for (const phone of patients.match(/\d{3}\D{1,2}\d{3}\D\d{4}/g) ?? [])
      expect(phone).toMatch(/555\D01\d\d$/);
    for (const email of patients.match(/[\w.]+@[\w.]+/g) ?? [])
      expect(email).toMatch(/@example\.(com|org|net)$/i);
    for (const ssn of patients.match(/"\d{3}-\d{2}-\d{4}"/g) ?? []) expect(ssn).toMatch(/^"000-00-/);
  });

  it('rejects options out of range naming the option', () => {
    expect(() => generateExport({ source: 'pbn', patients: 0, outDir: join(root, 'bad') })).toThrow(
      /patients/,
    );
  });
});
