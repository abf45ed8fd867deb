import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { NotFoundError, TransientError, ValidationError } from '../../../lambdas/core/errors.ts';
import { inventory, stemFor } from '../../../lambdas/tasks/inventory/inventory.ts';
import { InventoryInputSchema, InventoryOutputSchema } from '../../../lambdas/tasks/inventory/schema.ts';
import { makeDeps, readPlan } from './harness.ts';

const input = { runId: 'run-1', folder: 'drop/clinic/' };

describe('inventory', () => {
  it('writes a plan with hashes, dialect, counts and column types, and returns ids and counts only', async () => {
    const csv = 'id,first,dob,email\n1,Ann,2001-02-03,a@example.test\n2,Bob,1999-12-31,b@example.test\n';
    const deps = makeDeps({ 'drop/clinic/patients.csv': csv, 'drop/clinic/ferry.json': '{}' });
    const output = await inventory(input, deps);
    expect(InventoryOutputSchema.parse(output)).toEqual({
      runId: 'run-1',
      folder: 'drop/clinic/',
      planKey: 'runs/run-1/plan.json',
      files: 1,
      rows: 2,
      bytes: Buffer.byteLength(csv),
      warnings: 0,
      source: 'generic',
      sourceInstance: 'clinic',
      mappingKey: 'runs/run-1/mapping.json',
      entities: 1,
    });
    const plan = await readPlan(deps.work, 'run-1');
    expect(plan.createdAt).toBe('2026-01-02T03:04:05.000Z');
    expect(plan.files[0]).toMatchObject({
      name: 'patients.csv',
      stem: 'patients',
      encoding: 'utf-8',
      bom: 'none',
      delimiter: ',',
      lineEnding: 'lf',
      header: ['id', 'first', 'dob', 'email'],
      rows: 2,
      malformedRows: 0,
    });
    expect(plan.files[0]?.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(plan.files[0]?.columns.map((c) => c.inferredType)).toEqual(['integer', 'text', 'date', 'email']);
    expect(plan.attachments).toEqual([]);
  });

  it('never puts a field value in the plan or the output', async () => {
    const deps = makeDeps({ 'drop/clinic/p.csv': 'id,name,ssn\n1,CANARY-NAME-7731,CANARY-SSN-1234\n2,x\n' });
    const output = await inventory(input, deps);
    const plan = await deps.work.getText('runs/run-1/plan.json');
    for (const text of [plan, JSON.stringify(output)]) {
      expect(text).not.toContain('CANARY');
    }
  });

  it('throws a clear ValidationError when the drop folder is missing', async () => {
    const deps = makeDeps({ 'drop/other/a.csv': 'a\n1\n' });
    const run = inventory({ runId: 'r', folder: 'drop/x/' }, deps);
    await expect(run).rejects.toThrow(ValidationError);
    await expect(inventory({ runId: 'r', folder: 'drop/x/' }, deps)).rejects.toThrow(
      'drop folder drop/x/ has no files',
    );
  });

  it('refuses an operator mapping that reads a column the file does not have, naming key, column and file', async () => {
    const yaml = [
      'version: 1',
      'source: generic',
      'entities:',
      '  patients:',
      '    files: [patients.csv]',
      '    target: person',
      '    idColumn: id',
      '    fields:',
      '      name: { from: [first, last], transform: fullName, required: true }',
      '',
    ].join('\n');
    const deps = makeDeps({
      'drop/clinic/patients.csv': 'id,last\n1,CANARY-LAST-5521\n',
      'drop/clinic/.ferry-mapping/mapping.yaml': yaml,
    });
    const run = inventory(
      { ...input, options: { mappingKey: 'drop/clinic/.ferry-mapping/mapping.yaml' } },
      deps,
    );
    await expect(run).rejects.toMatchObject({
      name: 'ValidationError',
      code: 'MAPPING_COLUMN_MISSING',
      message: 'mapping.yaml: entities.patients reads column first, which patients.csv does not have',
    });
  });

  it('refuses an operator mapping that maps an SSN column before the plan is approved (PHI_FORBIDDEN)', async () => {
    const yaml = [
      'version: 1',
      'source: generic',
      'entities:',
      '  patients:',
      '    files: [patients.csv]',
      '    target: person',
      '    idColumn: id',
      '    fields:',
      '      name: { from: name, required: true }',
      '      taxNumber: { from: SSN, custom: { type: TEXT, label: Tax number } }',
      '',
    ].join('\n');
    const deps = makeDeps({
      'drop/clinic/patients.csv': 'id,name,SSN\n1,Ann,CANARY-SSN-0001\n',
      'drop/clinic/.ferry-mapping/mapping.yaml': yaml,
    });
    const run = inventory(
      { ...input, options: { mappingKey: 'drop/clinic/.ferry-mapping/mapping.yaml' } },
      deps,
    );
    await expect(run).rejects.toMatchObject({
      code: 'PHI_FORBIDDEN',
      message:
        'mapping.yaml: entities.patients.fields.taxNumber.from: column is excluded by the PHI policy (SSNs are never migrated)',
    });
  });

  it('refuses an export whose every data file is empty, naming them, and maps no empty file', async () => {
    const empty = makeDeps({ 'drop/clinic/patients.csv': '', 'drop/clinic/visits.csv': '\n  \n' });
    await expect(inventory(input, empty)).rejects.toMatchObject({
      code: 'NO_DATA',
      message: 'the export holds nothing to migrate: patients.csv, visits.csv are empty (no header, no rows)',
    });
    const partly = makeDeps({ 'drop/clinic/patients.csv': '', 'drop/clinic/people.csv': 'id,name\n1,Ann\n' });
    await inventory(input, partly);
    const plan = await readPlan(partly.work, 'run-1');
    const mapped = Object.values(
      (plan.mapping as { spec: { entities: Record<string, { files: string[] }> } }).spec.entities,
    );
    expect(mapped.flatMap((e) => e.files)).not.toContain('patients.csv');
    expect(plan.warnings.map((w) => w.code)).toContain('EMPTY_FILE');
  });

  it('refuses files that are not what ferry.json announces: truncated, grown, changed or missing', async () => {
    const csv = 'id,name\n1,Ann\n2,Bob\n';
    const sha256 = createHash('sha256').update(csv).digest('hex');
    const marker = {
      files: {
        'a.csv': { bytes: 2 * 1024 ** 3 },
        'b.csv': { bytes: 1 },
        'c.csv': { bytes: Buffer.byteLength(csv), sha256: '0'.repeat(64) },
        'd.csv': { bytes: 10 },
        'e.csv': { bytes: Buffer.byteLength(csv), sha256 },
      },
    };
    const deps = makeDeps({
      'drop/clinic/a.csv': csv,
      'drop/clinic/b.csv': csv,
      'drop/clinic/c.csv': csv,
      'drop/clinic/e.csv': csv,
      'drop/clinic/ferry.json': JSON.stringify(marker),
    });
    await expect(inventory(input, deps)).rejects.toMatchObject({
      code: 'DROP_FOLDER_INVALID',
      message: expect.stringContaining(
        `a.csv holds ${Buffer.byteLength(csv)} bytes but ferry.json announced 2147483648: the upload is incomplete`,
      ),
    });
    const plan = await readPlan(deps.work, 'run-1');
    expect(plan.errors.map((e) => [e.code, e.file])).toEqual([
      ['FILE_TRUNCATED', 'a.csv'],
      ['FILE_SIZE_MISMATCH', 'b.csv'],
      ['FILE_HASH_MISMATCH', 'c.csv'],
      ['ANNOUNCED_FILE_MISSING', 'd.csv'],
    ]);
  });

  it('keeps operating-system debris (__MACOSX resource forks, .DS_Store) out of the data, with a warning', async () => {
    const deps = makeDeps({
      'drop/clinic/patients.csv': 'id,name\n1,Ann\n',
      'drop/clinic/__MACOSX/._patients.csv': '\u0000\u0005\u0016\u0007Mac OS X',
      'drop/clinic/.DS_Store': '\u0000\u0000\u0000\u0001Bud1',
    });
    await inventory(input, deps);
    const plan = await readPlan(deps.work, 'run-1');
    expect(plan.files.map((f) => f.name)).toEqual(['patients.csv']);
    expect(plan.errors).toEqual([]);
    expect(plan.warnings.filter((w) => w.code === 'OS_METADATA').map((w) => w.file)).toEqual([
      '.DS_Store',
      '__MACOSX/._patients.csv',
    ]);
  });

  it('throws when the folder holds only its placeholder and the marker', async () => {
    const deps = makeDeps({ 'drop/x/': '', 'drop/x/ferry.json': '{}' });
    await expect(inventory({ runId: 'r', folder: 'drop/x/' }, deps)).rejects.toMatchObject({
      name: 'ValidationError',
      code: 'DROP_FOLDER_EMPTY',
    });
  });

  it('throws when the folder holds documents but no data file', async () => {
    const deps = makeDeps({ 'drop/x/scan.pdf': '%PDF-1.4' });
    await expect(inventory({ runId: 'r', folder: 'drop/x/' }, deps)).rejects.toMatchObject({
      code: 'NO_DATA_FILES',
    });
  });

  it('keeps non-data files as hashed attachments and reads data files in subfolders', async () => {
    const deps = makeDeps({
      'drop/clinic/docs/xray.png': new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0]),
      'drop/clinic/docs/consent.pdf': '%PDF-1.4 synthetic',
      'drop/clinic/Exports/Patient List.CSV': 'id\n1\n',
    });
    await inventory(input, deps);
    const plan = await readPlan(deps.work, 'run-1');
    expect(plan.attachments.map((a) => a.name)).toEqual(['docs/consent.pdf', 'docs/xray.png']);
    expect(plan.attachments.every((a) => /^[0-9a-f]{64}$/.test(a.sha256))).toBe(true);
    expect(plan.files.map((f) => [f.name, f.stem])).toEqual([
      ['Exports/Patient List.CSV', 'exports-patient-list'],
    ]);
  });

  it('warns and counts zero rows for an empty file and a header-only file', async () => {
    const deps = makeDeps({
      'drop/clinic/empty.csv': '',
      'drop/clinic/header.csv': 'id,name\r\n',
      'drop/clinic/data.csv': 'id\n1\n',
    });
    const output = await inventory(input, deps);
    expect(output.rows).toBe(1);
    const plan = await readPlan(deps.work, 'run-1');
    expect(plan.warnings).toEqual([
      expect.objectContaining({ code: 'EMPTY_FILE', file: 'empty.csv' }),
      expect.objectContaining({ code: 'HEADER_ONLY', file: 'header.csv', line: 1 }),
    ]);
    expect(plan.files.find((f) => f.name === 'header.csv')?.header).toEqual(['id', 'name']);
  });

  it('records a binary .csv as an error naming the file, writes the plan, then fails', async () => {
    const deps = makeDeps({
      'drop/clinic/good.csv': 'id\n1\n',
      'drop/clinic/bad.csv': new Uint8Array([0x50, 0x4b, 0x03, 0x04, 0x14, 0, 0, 0, 0x08, 0]),
    });
    await expect(inventory(input, deps)).rejects.toThrow(
      /bad\.csv is not a text file.*see runs\/run-1\/plan\.json/,
    );
    const plan = await readPlan(deps.work, 'run-1');
    expect(plan.errors).toEqual([expect.objectContaining({ code: 'BINARY_FILE', file: 'bad.csv' })]);
    expect(plan.files.map((f) => f.name)).toEqual(['good.csv']);
  });

  it('records an unreadable file as an error and lets transient failures through for a retry', async () => {
    const deps = makeDeps({ 'drop/clinic/a.csv': 'id\n1\n' });
    deps.drop.getStream = async () => {
      throw new Error('AccessDenied');
    };
    await expect(inventory(input, deps)).rejects.toThrow(/a\.csv could not be read \(Error\)/);
    deps.drop.getStream = async () => {
      throw new TransientError('S3 slow down');
    };
    await expect(inventory(input, deps)).rejects.toBeInstanceOf(TransientError);
    deps.drop.getStream = async () => {
      throw new NotFoundError('gone');
    };
    await expect(inventory(input, deps)).rejects.toThrow(/a\.csv disappeared/);
  });

  it('reads a Windows-1252 export with a fallback warning and loses no row', async () => {
    const bytes = Buffer.from('id,name\r\n1,Jos\u00e9\r\n2,M\u00fcller\r\n', 'latin1');
    const deps = makeDeps({ 'drop/clinic/p.csv': bytes });
    await inventory(input, deps);
    const plan = await readPlan(deps.work, 'run-1');
    expect(plan.files[0]).toMatchObject({
      encoding: 'windows-1252',
      rows: 2,
      malformedRows: 0,
      lineEnding: 'crlf',
    });
    expect(plan.warnings.map((w) => w.code)).toEqual(['ENCODING_FALLBACK']);
  });

  it('counts malformed rows and lists them with file and line', async () => {
    const deps = makeDeps({ 'drop/clinic/p.csv': 'a,b\n1,2\n3\n4,"open\n5,6\n' });
    const output = await inventory(input, deps);
    expect(output.rows).toBe(4);
    const plan = await readPlan(deps.work, 'run-1');
    expect(plan.files[0]?.malformedRows).toBe(2);
    expect(plan.warnings.filter((w) => w.code === 'MALFORMED_ROW').map((w) => w.line)).toEqual([3, 4]);
  });

  it('keeps a .txt without columns as a document', async () => {
    const deps = makeDeps({
      'drop/clinic/readme.txt': 'This export was made on a Tuesday\n',
      'drop/clinic/a.tsv': 'x\ty\n1\t2\n',
    });
    await inventory(input, deps);
    const plan = await readPlan(deps.work, 'run-1');
    expect(plan.files.map((f) => [f.name, f.delimiter])).toEqual([['a.tsv', '\t']]);
    expect(plan.attachments.map((a) => a.name)).toEqual(['readme.txt']);
    expect(plan.warnings.map((w) => w.code)).toEqual(['TEXT_NOT_TABULAR']);
  });

  it('applies encoding and delimiter overrides from the options', async () => {
    const deps = makeDeps({ 'drop/clinic/p.csv': 'a|b,c\n1|2,3\n' });
    await inventory({ ...input, options: { delimiter: ',' } }, deps);
    const plan = await readPlan(deps.work, 'run-1');
    expect(plan.files[0]?.header).toEqual(['a|b', 'c']);
  });
});

describe('InventoryInputSchema', () => {
  it('adds the trailing slash and refuses folders outside drop/', () => {
    expect(InventoryInputSchema.parse({ runId: 'r', folder: 'drop/a' }).folder).toBe('drop/a/');
    expect(InventoryInputSchema.safeParse({ runId: 'r', folder: 'runs/a/' }).success).toBe(false);
    expect(InventoryInputSchema.safeParse({ runId: 'r', folder: 'drop/../runs/' }).success).toBe(false);
  });
});

describe('stemFor', () => {
  it('makes key-safe, unique stems', () => {
    const used = new Set<string>();
    expect(stemFor('Patients.csv', used)).toBe('patients');
    expect(stemFor('patients.txt', used)).toBe('patients-2');
    expect(stemFor('__.csv', used)).toBe('file');
  });
});
