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

describe('generateExport --source fhir --since-of', () => {
  it('writes a deterministic _since follow-up of the base export, with its deletions and delta counts', () => {
    const baseDir = join(root, 'since-base');
    generateExport({ source: 'fhir', patients: 12, seed: 5, defects: 0.05, outDir: baseDir });
    const a = generateExport({
      source: 'fhir',
      patients: 2,
      seed: 5,
      outDir: join(root, 'since-a'),
      sinceOf: baseDir,
    });
    generateExport({ source: 'fhir', patients: 2, seed: 5, outDir: join(root, 'since-b'), sinceOf: baseDir });
    expect(read(join(root, 'since-a'))).toEqual(read(join(root, 'since-b')));

    const base = BulkManifestSchema.parse(JSON.parse(readFileSync(join(baseDir, 'manifest.json'), 'utf8')));
    const dir = join(root, 'since-a');
    const manifest = BulkManifestSchema.parse(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')));
    expect(new URL(manifest.request ?? '').searchParams.get('_since')).toBe(base.transactionTime);
    expect(a.since).toBe(base.transactionTime);
    expect(Date.parse(manifest.transactionTime)).toBeGreaterThan(Date.parse(base.transactionTime));
    expect(manifest.deleted?.map((e) => manifestFileName(e.url))).toEqual(['Bundle.deleted.ndjson']);
    // What loads is what the delta classifies: new + changed + unchanged per entity.
    for (const [entity, d] of Object.entries(a.delta ?? {}))
      expect(d.new + d.changed + d.unchanged, entity).toBe(a.entities[entity]?.loaded);
    expect(a.delta?.patients).toEqual({ new: 2, changed: 2, unchanged: 1, missing: 1 });
    // Every id the follow-up's changed and unchanged patients carry is one the base export holds.
    const ids = (d: string, f: string): string[] =>
      readFileSync(join(d, f), 'utf8')
        .split('\n')
        .flatMap((l) => {
          try {
            return [String((JSON.parse(l) as { id?: unknown }).id)];
          } catch {
            return []; // the base export's broken lines
          }
        });
    const baseIds = new Set([...ids(baseDir, 'Patient.000.ndjson'), ...ids(baseDir, 'Patient.001.ndjson')]);
    const kept = ids(dir, 'Patient.ndjson').filter((id) => !id.startsWith('pat-since-'));
    // Two changed, one unchanged — sent twice, as a server repeats a resource others reference.
    expect(kept).toHaveLength(4);
    expect(new Set(kept).size).toBe(3);
    expect(kept.every((id) => baseIds.has(id))).toBe(true);
  });

  it('refuses another source, the base folder as output, and a folder that is no generated FHIR export', () => {
    const baseDir = join(root, 'since-base');
    expect(() =>
      generateExport({ source: 'pbn', patients: 2, seed: 5, outDir: join(root, 'x'), sinceOf: baseDir }),
    ).toThrow(/fhir only/);
    expect(() =>
      generateExport({ source: 'fhir', patients: 2, seed: 5, outDir: baseDir, sinceOf: baseDir }),
    ).toThrow(/different folders/);
    expect(() =>
      generateExport({
        source: 'fhir',
        patients: 2,
        seed: 5,
        outDir: join(root, 'y'),
        sinceOf: join(root, 'none'),
      }),
    ).toThrow(/no manifest\.json/);
  });
});
