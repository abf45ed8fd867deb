import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { CsvReject } from '../../../lambdas/core/csv/reader.ts';
import type { Plan } from '../../../lambdas/core/inventory/plan.ts';
import {
  contactsBySystem,
  flattenResource,
  folderPath,
  referenceId,
} from '../../../lambdas/core/sources/fhir/flatten.ts';
import { inlineFileOf } from '../../../lambdas/core/sources/fhir/inline.ts';
import { fhirFilesOf, manifestFileName } from '../../../lambdas/core/sources/fhir/manifest.ts';
import { fhirMappingPlan } from '../../../lambdas/core/sources/fhir/plan.ts';
import { INVALID_INLINE, readFhirNdjson } from '../../../lambdas/core/sources/fhir/reader.ts';
import { fhirSkipReason } from '../../../lambdas/core/sources/fhir/skips.ts';

async function read(
  text: string | Buffer,
  resourceType: string,
  storeInline?: (line: number, b: Buffer) => Promise<string>,
) {
  const rows: { line: number; cells: Record<string, string> }[] = [];
  const rejects: CsvReject[] = [];
  let header: readonly string[] = [];
  const result = await readFhirNdjson(
    Readable.from([typeof text === 'string' ? Buffer.from(text) : text]),
    { file: `${resourceType}.ndjson`, resourceType, ...(storeInline ? { storeInline } : {}) },
    {
      header: (h) => {
        header = h;
      },
      row: (r) =>
        rows.push({ line: r.line, cells: Object.fromEntries(header.map((h, i) => [h, r.cell(i)])) }),
      reject: (r) => rejects.push(r),
    },
  );
  return { result, rows, rejects };
}

describe('readFhirNdjson', () => {
  it('turns every bad line into a reject with its reason and line, never an exception', async () => {
    const text = [
      JSON.stringify({ resourceType: 'Patient', id: 'p1', name: [{ family: 'Doe', given: ['Ana'] }] }),
      '{"resourceType":"Patient","id":"p2"',
      '',
      '[1,2,3]',
      JSON.stringify({ id: 'no-type' }),
      '"just a string"',
      JSON.stringify({ resourceType: 'Observation', id: 'o1' }),
      JSON.stringify({ resourceType: 'Patient', id: 'p3' }),
    ].join('\n');
    const { result, rows, rejects } = await read(text, 'Patient');
    expect(rows.map((r) => [r.line, r.cells.id])).toEqual([
      [1, 'p1'],
      [8, 'p3'],
    ]);
    expect(rejects.map((r) => [r.line, r.reason])).toEqual([
      [2, 'INVALID_JSON'],
      [4, 'NOT_FHIR_RESOURCE'],
      [5, 'NOT_FHIR_RESOURCE'],
      [6, 'NOT_FHIR_RESOURCE'],
      [7, 'UNEXPECTED_RESOURCE_TYPE'],
    ]);
    expect(result.rows).toBe(7);
    expect(result.rejected).toBe(5);
    expect(result.blankLines).toBe(1);
    // Rejects never quote the line; a resourceType Ferry does not know is not repeated either.
    for (const r of rejects) expect(r.detail).not.toContain('p2');
    const odd = await read(`${JSON.stringify({ resourceType: 'Smithson', id: 'x' })}\n`, 'Patient');
    expect(odd.rejects.map((r) => [r.reason, r.detail])).toEqual([
      ['UNEXPECTED_RESOURCE_TYPE', 'a resource of another type in a file of Patient resources'],
    ]);
  });

  it('rejects a line that is not UTF-8 and reads CRLF files and a last line without a newline', async () => {
    const good = Buffer.from(`${JSON.stringify({ resourceType: 'Patient', id: 'a' })}\r\n`);
    const bad = Buffer.concat([
      Buffer.from('{"resourceType":"Patient","id":"'),
      Buffer.from([0xe9]),
      Buffer.from('"}\r\n'),
    ]);
    const last = Buffer.from(JSON.stringify({ resourceType: 'Patient', id: 'c' }));
    const { result, rows, rejects } = await read(Buffer.concat([good, bad, last]), 'Patient');
    expect(rows.map((r) => r.cells.id)).toEqual(['a', 'c']);
    expect(rejects.map((r) => r.reason)).toEqual(['ENCODING_ERROR']);
    expect(result.lineEnding).toBe('crlf');
  });

  it('decodes inline attachment data through storeInline and marks data that is not base64', async () => {
    const doc = (id: string, data: string) =>
      JSON.stringify({
        resourceType: 'DocumentReference',
        id,
        content: [{ attachment: { contentType: 'text/plain', data } }],
      });
    const stored: Buffer[] = [];
    const { rows } = await read(
      `${doc('d1', Buffer.from('hello').toString('base64'))}\n${doc('d2', 'not base64!')}\n`,
      'DocumentReference',
      async (line, bytes) => {
        stored.push(bytes);
        return `runs/r/inline/doc/${line}.bin`;
      },
    );
    expect(stored.map((b) => b.toString())).toEqual(['hello']);
    expect(rows[0]?.cells['attachment.inline']).toBe('runs/r/inline/doc/1.bin');
    expect(rows[0]?.cells['attachment.size']).toBe('5');
    expect(rows[1]?.cells['attachment.inline']).toBe(INVALID_INLINE);
    expect(inlineFileOf(rows[0]?.cells ?? {}, 'runs/r/')).toMatchObject({
      kind: 'stored',
      mime: 'text/plain',
      bytes: 5,
      name: 'd1.txt',
    });
    expect(inlineFileOf(rows[1]?.cells ?? {}, 'runs/r/')).toEqual({ kind: 'invalid' });
    // Another run's key is never taken.
    expect(inlineFileOf(rows[0]?.cells ?? {}, 'runs/other/')).toBeUndefined();
  });
});

describe('flattenResource', () => {
  it('keeps the official name, ranked phones, the home address, the MRN — and never an SSN', () => {
    const cells = flattenResource('Patient', {
      resourceType: 'Patient',
      id: 'p1',
      meta: { lastUpdated: '2025-01-02T03:04:05.000Z' },
      extension: [{ url: 'http://example.org/ext', valueString: 'ignored' }],
      identifier: [
        { system: 'http://hl7.org/fhir/sid/us-ssn', value: '999-12-3456' },
        { system: 'urn:oid:2.16.840.1.113883.4.1', value: '999-65-4321' },
        { system: 'http://other', value: 'X1' },
        { type: { coding: [{ code: 'MR' }] }, system: 'http://h', value: 'MRN1' },
      ],
      name: [
        { use: 'old', family: 'Maiden', given: ['Ana'] },
        { use: 'official', family: 'Doe', given: ['Ana', 'Maria'] },
      ],
      telecom: [
        { system: 'phone', value: '111', use: 'home', rank: 2 },
        { system: 'phone', value: '222', use: 'mobile', rank: 1 },
        { system: 'email', value: 'a@example.com' },
      ],
      address: [
        { use: 'old', line: ['1 Old'], city: 'Old' },
        { use: 'home', line: ['2 New', 'Apt 3'], city: 'New', state: 'MA', postalCode: '02134' },
      ],
      managingOrganization: { reference: 'Organization/o1' },
    });
    expect(cells).toMatchObject({
      id: 'p1',
      'meta.lastUpdated': '2025-01-02T03:04:05.000Z',
      'name.given': 'Ana Maria',
      'name.family': 'Doe',
      'telecom.phone': '222',
      'telecom.phone2': '111',
      'telecom.email': 'a@example.com',
      'address.line1': '2 New',
      'address.line2': 'Apt 3',
      'address.city': 'New',
      identifier: 'MRN1',
      'identifier.others': 'http://other|X1',
      managingOrganization: 'o1',
    });
    expect(JSON.stringify(cells)).not.toContain('999-');
  });

  it('keeps the representation of a document that carries its bytes, whichever content entry it is', () => {
    const cells = flattenResource('DocumentReference', {
      resourceType: 'DocumentReference',
      id: 'd1',
      content: [
        { attachment: { contentType: 'text/html', title: 'index' } },
        { attachment: { contentType: 'application/pdf', url: 'Binary/d1.pdf' } },
        { attachment: { contentType: 'text/plain', data: 'aGk=' } },
      ],
    });
    expect(cells).toMatchObject({
      'attachment.contentType': 'text/plain',
      'attachment.inline': 'aGk=',
      'attachment.path': '',
    });
  });

  it('reads a contained payor by its #reference and ignores elements it does not know', () => {
    const cells = flattenResource('Coverage', {
      resourceType: 'Coverage',
      id: 'c1',
      contained: [{ resourceType: 'Organization', id: 'p', name: 'Self Pay' }],
      payor: [{ reference: '#p' }],
      beneficiary: { reference: 'https://fhir.example.net/r4/Patient/p9/_history/3' },
      somethingNew: { deeply: ['nested'] },
    });
    expect(cells).toMatchObject({ payor: '', 'payor.name': 'Self Pay', beneficiary: 'p9' });
  });
});

describe('references and paths', () => {
  it('takes the id of a reference of the expected type only', () => {
    expect(referenceId({ reference: 'Patient/123' }, 'Patient')).toBe('123');
    expect(referenceId({ reference: 'Group/123' }, 'Patient')).toBe('');
    expect(referenceId({ reference: 'urn:uuid:abc', type: 'Patient' }, 'Patient')).toBe('abc');
    expect(referenceId({ reference: '#contained' }, 'Patient')).toBe('');
    expect(referenceId({ identifier: { value: 'x' } }, 'Patient')).toBe('');
  });

  it('ranks contact points by rank, then use, ended ones last', () => {
    expect(
      contactsBySystem(
        [
          { system: 'phone', value: 'work', use: 'work' },
          { system: 'phone', value: 'old', use: 'mobile', period: { end: '2001-01-01' } },
          { system: 'phone', value: 'mobile', use: 'mobile' },
          { system: 'email', value: 'e' },
        ],
        'phone',
      ),
    ).toEqual(['mobile', 'work', 'old']);
  });

  it('keeps an attachment url inside the drop folder and refuses remote ones', () => {
    expect(folderPath('Binary/doc-1.txt')).toBe('Binary/doc-1.txt');
    expect(folderPath('../../etc/passwd')).toBe('etc/passwd');
    expect(folderPath('/abs/./x.pdf')).toBe('abs/x.pdf');
    expect(folderPath('https://fhir.example.net/Binary/1')).toBe('');
    expect(folderPath('file:///etc/passwd')).toBe('');
  });

  it('types the NDJSON files from the manifest, by name when it does not list them', () => {
    expect(manifestFileName('https://server/bulk/job/Patient.000.ndjson')).toBe('Patient.000.ndjson');
    const files = fhirFilesOf(
      {
        transactionTime: '2026-01-01T00:00:00Z',
        output: [
          { type: 'Patient', url: 'https://server/bulk/1.ndjson' },
          { type: 'Patient', url: 'https://server/bulk/2.ndjson' },
        ],
        error: [{ type: 'OperationOutcome', url: 'https://server/bulk/err.ndjson' }],
      },
      ['1.ndjson', '2.ndjson', 'err.ndjson', 'Encounter.000.ndjson'],
    );
    expect(files).toEqual({
      '1.ndjson': { type: 'Patient', role: 'output' },
      '2.ndjson': { type: 'Patient', role: 'output' },
      'err.ndjson': { type: 'OperationOutcome', role: 'error' },
      'Encounter.000.ndjson': { type: 'Encounter', role: 'output' },
    });
  });
});

describe('fhirSkipReason', () => {
  it('names why the rows of an unmapped FHIR file are skipped', () => {
    const plan = {
      fhir: {
        manifest: 'manifest.json',
        transactionTime: '2026-01-01T00:00:00Z',
        files: {
          'err.ndjson': { type: 'OperationOutcome', role: 'error' },
          'del.ndjson': { type: 'Bundle', role: 'deleted' },
          'Observation.ndjson': { type: 'Observation', role: 'output' },
          'PractitionerRole.ndjson': { type: 'PractitionerRole', role: 'output' },
        },
      },
    } as unknown as Plan;
    const reasonOf = fhirSkipReason(plan, (f) => f.key);
    const file = (key: string) => ({ key, stem: key, rows: 1, rejected: 0, chunks: [] });
    expect(reasonOf(file('err.ndjson'))).toBe('EXPORT_ERROR');
    expect(reasonOf(file('del.ndjson'))).toBe('DELETED_IN_SOURCE');
    expect(reasonOf(file('Observation.ndjson'))).toBe('UNSUPPORTED_RESOURCE_TYPE');
    expect(reasonOf(file('PractitionerRole.ndjson'))).toBe('NOT_MAPPED');
    expect(reasonOf(file('other.csv'))).toBe('NOT_MAPPED');
    expect(fhirSkipReason({} as Plan, (f) => f.key)(file('x.csv'))).toBe('NOT_MAPPED');
  });
});

describe('readFhirNdjson on a stream split anywhere', () => {
  it('reads the same rows whatever the chunk boundaries, a long inline document included', async () => {
    const big = Buffer.alloc(200_000, 7).toString('base64');
    const text = [
      JSON.stringify({
        resourceType: 'DocumentReference',
        id: 'd1',
        content: [{ attachment: { data: big } }],
      }),
      JSON.stringify({ resourceType: 'DocumentReference', id: 'd2' }),
      '{broken',
    ].join('\n');
    const bytes = Buffer.from(text);
    const parts: Buffer[] = [];
    for (let i = 0; i < bytes.length; i += 4093) parts.push(bytes.subarray(i, i + 4093));
    const sizes: number[] = [];
    const ids: string[] = [];
    const reasons: string[] = [];
    const result = await readFhirNdjson(
      Readable.from(parts),
      {
        file: 'd.ndjson',
        resourceType: 'DocumentReference',
        storeInline: async (line, b) => {
          sizes.push(b.byteLength);
          return `runs/r/inline/d/${line}.bin`;
        },
      },
      { row: (r) => ids.push(r.cell(1)), reject: (r) => reasons.push(r.reason) },
    );
    expect(ids).toEqual(['d1', 'd2']);
    expect(reasons).toEqual(['INVALID_JSON']);
    expect(sizes).toEqual([200_000]);
    expect(result.bytes).toBe(bytes.length);
  });
});

describe('fhirMappingPlan', () => {
  const file = (name: string) => ({ stem: name.toLowerCase(), name, header: [], sample: [] });
  const section = (files: Record<string, string>, roles: Record<string, 'error'> = {}) => ({
    manifest: 'manifest.json',
    transactionTime: '2026-01-01T00:00:00Z',
    files: Object.fromEntries(
      Object.entries(files).map(([name, type]) => [name, { type, role: roles[name] ?? ('output' as const) }]),
    ),
  });

  it('reads every file of a type, leaves out entities without files and the relations and objects they need', () => {
    const fhir = section(
      {
        'Patient.000.ndjson': 'Patient',
        'Patient.001.ndjson': 'Patient',
        'Encounter.ndjson': 'Encounter',
        'Observation.ndjson': 'Observation',
        'err.ndjson': 'OperationOutcome',
      },
      { 'err.ndjson': 'error' },
    );
    const plan = fhirMappingPlan(fhir, Object.keys(fhir.files).map(file));
    expect(Object.keys(plan.spec.entities).sort()).toEqual(['encounters', 'patients']);
    expect(plan.spec.entities.patients?.files).toEqual(['Patient.000.ndjson', 'Patient.001.ndjson']);
    expect(plan.spec.entities.patients?.relations).toEqual({});
    expect(Object.keys(plan.spec.entities.encounters?.relations ?? {})).toEqual(['patient']);
    expect(plan.spec.customObjects.map((o) => o.nameSingular)).toEqual(['encounter']);
    expect(plan.unmappedFiles.sort()).toEqual(['Observation.ndjson', 'err.ndjson']);
    expect(plan.blocking).toEqual([]);
  });

  it('maps encounters to opportunities when asked', () => {
    const fhir = section({ 'Patient.ndjson': 'Patient', 'Encounter.ndjson': 'Encounter' });
    const plan = fhirMappingPlan(fhir, Object.keys(fhir.files).map(file), { encounters: 'opportunity' });
    expect(plan.spec.entities.encounters?.target).toBe('opportunity');
    expect(plan.spec.entities.encounters?.relations.patient?.joinColumn).toBe('pointOfContactId');
    expect(plan.spec.customObjects).toEqual([]);
  });
});
