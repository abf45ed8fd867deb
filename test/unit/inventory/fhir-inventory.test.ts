import { describe, expect, it } from 'vitest';
import { inventory } from '../../../lambdas/tasks/inventory/inventory.ts';
import { makeDeps, readPlan } from './harness.ts';

const input = { runId: 'run-1', folder: 'drop/ehr/' };

const manifest = (files: string[], errors: string[] = []) =>
  JSON.stringify({
    transactionTime: '2026-01-01T00:00:00Z',
    request: 'https://fhir.example.net/$export',
    requiresAccessToken: true,
    output: files.map((f) => ({ type: f.split('.')[0], url: `https://fhir.example.net/bulk/${f}` })),
    error: errors.map((f) => ({ type: 'OperationOutcome', url: `https://fhir.example.net/bulk/${f}` })),
  });

const patient = (id: string) =>
  JSON.stringify({ resourceType: 'Patient', id, name: [{ family: 'Doe', given: ['Ana'] }] });

describe('inventory of a FHIR bulk export', () => {
  it('detects the manifest, counts resources per type and keeps values out of the plan', async () => {
    const deps = makeDeps({
      'drop/ehr/manifest.json': manifest(['Patient.ndjson', 'Observation.ndjson'], ['errors.ndjson']),
      'drop/ehr/Patient.ndjson': `${patient('CANARY-1')}\n{broken\n\n${patient('p2')}\n`,
      'drop/ehr/Observation.ndjson': `${JSON.stringify({ resourceType: 'Observation', id: 'o1' })}\n`,
      'drop/ehr/errors.ndjson': `${JSON.stringify({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'not-found', diagnostics: 'CANARY-DIAG' }] })}\n`,
      'drop/ehr/Binary/scan.txt': 'a,b\n1,2\n',
      'drop/ehr/extra.csv': 'id,name\n1,x\n',
    });
    const output = await inventory(input, deps);
    expect(output.source).toBe('fhir');
    const plan = await readPlan(deps.work, 'run-1');
    const files = plan.files.map((f) => [f.name, f.rows, f.malformedRows, f.blankLines]);
    expect(files.sort()).toEqual([
      ['Observation.ndjson', 1, 0, 0],
      ['Patient.ndjson', 3, 1, 1],
      ['errors.ndjson', 1, 0, 0],
    ]);
    // The manifest is not an attachment; a document of the export (even a .txt with commas) is.
    expect(plan.attachments.map((a) => a.name).sort()).toEqual(['Binary/scan.txt', 'extra.csv']);
    expect(plan.warnings.filter((w) => w.code === 'FHIR_TABLE_AS_DOCUMENT').map((w) => w.file)).toEqual([
      'extra.csv',
    ]);
    expect(plan.fhir).toMatchObject({
      manifest: 'manifest.json',
      transactionTime: '2026-01-01T00:00:00Z',
      files: {
        'errors.ndjson': { type: 'OperationOutcome', role: 'error' },
        'Patient.ndjson': { type: 'Patient', role: 'output' },
      },
    });
    const warning = plan.warnings.find((w) => w.code === 'FHIR_EXPORT_ERRORS');
    expect(warning?.message).toContain('1 error/not-found');
    const mapping = plan.mapping as {
      spec: { entities: Record<string, { files: string[] }> };
      unmappedFiles: string[];
    };
    expect(Object.keys(mapping.spec.entities)).toEqual(['patients']);
    expect(mapping.unmappedFiles.sort()).toEqual(['Observation.ndjson', 'errors.ndjson']);
    expect(JSON.stringify(plan)).not.toContain('CANARY');
    const report = await deps.work.getText('runs/run-1/plan.md');
    expect(report).toContain(
      'FHIR bulk export: manifest `manifest.json`, transactionTime 2026-01-01T00:00:00Z',
    );
    expect(report).not.toContain('CANARY');
  });

  it('refuses a folder whose manifest lists a file that is not there, and NDJSON without a manifest', async () => {
    const missing = makeDeps({
      'drop/ehr/manifest.json': manifest(['Patient.ndjson', 'Encounter.ndjson']),
      'drop/ehr/Patient.ndjson': `${patient('p1')}\n`,
    });
    await expect(inventory(input, missing)).rejects.toThrow(
      /Encounter\.ndjson is listed in the bulk-export manifest/,
    );
    const bare = makeDeps({ 'drop/ehr/Patient.ndjson': `${patient('p1')}\n` });
    await expect(inventory(input, bare)).rejects.toThrow(/no FHIR bulk-export manifest/);
  });

  it('reports the deletions a _since export lists and skips their lines without applying them', async () => {
    const deletion = (urls: string[]) =>
      JSON.stringify({
        resourceType: 'Bundle',
        type: 'transaction',
        entry: urls.map((url) => ({ request: { method: 'DELETE', url } })),
      });
    const deps = makeDeps({
      'drop/ehr/manifest.json': JSON.stringify({
        transactionTime: '2026-02-01T00:00:00Z',
        request: 'https://fhir.example.net/$export?_since=2026-01-01T00:00:00Z',
        requiresAccessToken: true,
        output: [{ type: 'Patient', url: 'https://fhir.example.net/bulk/Patient.ndjson' }],
        error: [],
        deleted: [{ type: 'Bundle', url: 'https://fhir.example.net/bulk/del.ndjson' }],
      }),
      'drop/ehr/Patient.ndjson': `${patient('p1')}\n`,
      'drop/ehr/del.ndjson': `${deletion(['Patient/p9', 'https://fhir.example.net/r4/Encounter/e3'])}\n${deletion(['Patient/p8', 'Patient/p7/', 'Patient/p5/', 'Patient/'])}\n`,
    });
    await inventory(input, deps);
    const plan = await readPlan(deps.work, 'run-1');
    expect(plan.fhir).toMatchObject({ files: { 'del.ndjson': { type: 'Bundle', role: 'deleted' } } });
    const warning = plan.warnings.find((w) => w.code === 'FHIR_DELETED_IN_SOURCE');
    // A trailing slash does not hide a deletion (fhirDeletions reads it); a url without an id names none.
    expect(warning?.message).toContain(
      '5 resource(s) deleted in the source system (Encounter ×1, Patient ×4)',
    );
    expect(warning?.message).not.toContain('p9');
  });
});
