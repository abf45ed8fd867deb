import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BulkManifestSchema, manifestFileName } from '../../../lambdas/core/sources/fhir/manifest.ts';
import { generateExport } from '../../../lib/generate/index.ts';

const root = mkdtempSync(join(tmpdir(), 'ferry-gen-fhir-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const read = (dir: string): Record<string, string> =>
  Object.fromEntries(
    readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => [
        join(e.parentPath, e.name).slice(dir.length),
        readFileSync(join(e.parentPath, e.name), 'utf8'),
      ]),
  );

describe('generateExport --source fhir', () => {
  it('is deterministic: the same seed gives byte-identical files', () => {
    generateExport({ source: 'fhir', patients: 25, seed: 7, defects: 0.05, outDir: join(root, 'a') });
    generateExport({ source: 'fhir', patients: 25, seed: 7, defects: 0.05, outDir: join(root, 'b') });
    expect(read(join(root, 'a'))).toEqual(read(join(root, 'b')));
  });

  it('writes a valid manifest whose files and counts match the NDJSON and expected.json', () => {
    const dir = join(root, 'c');
    const expected = generateExport({ source: 'fhir', patients: 25, seed: 3, defects: 0.05, outDir: dir });
    const manifest = BulkManifestSchema.parse(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')));
    for (const entry of manifest.output) {
      const lines = readFileSync(join(dir, manifestFileName(entry.url)), 'utf8')
        .split('\n')
        .filter((l) => l !== '');
      expect(lines.length, entry.url).toBe(entry.count);
    }
    expect(manifest.error.map((e) => manifestFileName(e.url))).toEqual(['OperationOutcome.ndjson']);
    const manifestLines = manifest.output.reduce((n, e) => n + (e.count ?? 0), 0) + 1;
    const expectedRows = Object.values(expected.entities).reduce((n, e) => n + e.rows, 0);
    expect(expectedRows).toBe(manifestLines);
    // Every defect class is there at least once.
    const rejects = Object.values(expected.entities).flatMap((e) => Object.keys(e.rejects));
    for (const reason of [
      'INVALID_JSON',
      'NOT_FHIR_RESOURCE',
      'UNEXPECTED_RESOURCE_TYPE',
      'MISSING_REQUIRED',
      'INVALID_EMAIL',
      'ORPHAN_REFERENCE',
      'UNMAPPED_VALUE',
      'MISSING_FILE',
    ])
      expect(rejects, reason).toContain(reason);
    expect(expected.source).toBe('fhir');
    expect(expected.workspaceMembers).toHaveLength(1);
  });
});
