import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { detectSource, inferPivotFields, type SourceFile } from '../../../lambdas/core/sources/index.ts';

function headersOf(dir: string): SourceFile[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.csv'))
    .map((f) => {
      const line = readFileSync(join(dir, f), 'utf8').split(/\r?\n/)[0] ?? '';
      return {
        stem: f.replace(/\.csv$/, ''),
        header: line.split(',').map((h) => h.replace(/^\uFEFF?"?|"$/g, '')),
      };
    });
}

describe('detectSource', () => {
  it('recognizes the bundled APMS example with every entity', () => {
    const d = detectSource(headersOf('examples/apms'));
    expect(d.source).toBe('apms');
    expect(d.confidence).toBeGreaterThan(0.9);
    expect(d.matchedEntities).toHaveLength(11);
  });

  it('recognizes the bundled PbN example with every entity', () => {
    const d = detectSource(headersOf('examples/pbn'));
    expect(d.source).toBe('pbn');
    expect(d.confidence).toBeGreaterThan(0.9);
    expect(d.matchedEntities).toHaveLength(9);
  });

  it('recognizes PbN from renamed files and header variants', () => {
    const d = detectSource([
      {
        stem: 'Export 1',
        header: ['PatientID', 'FirstName', 'LastName', 'E-mail Address', 'DOB', 'Recall', 'Zip Code'],
      },
      { stem: 'Export 2', header: ['appointment id', 'patient id', 'APPT DATE', 'Appt Type', 'Status'] },
    ]);
    expect(d.source).toBe('pbn');
    expect(d.matchedEntities).toEqual(['appointments', 'patients']);
  });

  it('recognizes APMS from abbreviated headers in another order', () => {
    const d = detectSource([
      { stem: 'pts', header: ['Pt Last Name', 'Pt First Name', 'Pt Account #', 'Date of Birth', 'E-mail'] },
      { stem: 'visits', header: ['Appt ID', 'Pt Acct No', 'Appointment Date', 'Visit Type'] },
    ]);
    expect(d.source).toBe('apms');
    expect(d.matchedEntities).toEqual(['appointments', 'patients']);
  });

  it('falls back to generic when no profile explains the files', () => {
    const d = detectSource([{ stem: 'contacts', header: ['Name', 'Phone', 'Company', 'Notes'] }]);
    expect(d.source).toBe('generic');
    expect(d.matchedEntities).toEqual([]);
  });
});

describe('inferPivotFields', () => {
  it('infers NUMBER, DATE, SELECT and TEXT custom fields from long-format values', () => {
    const rows = [
      ...['Phone', 'Email', 'Phone', 'Text', 'Email', 'Phone'].map((value) => ({
        property: 'Preferred Contact Method',
        value,
      })),
      ...['10', '25', '40'].map((value) => ({ property: 'Copay Amount', value })),
      ...['03/14/2022', '12/01/2021'].map((value) => ({ property: 'Consent Signed Date', value })),
      ...['G-10001', 'G-20002', 'G-30003'].map((value) => ({ property: 'Insurance Group ID', value })),
    ];
    const fields = inferPivotFields(rows);
    expect(fields.map((f) => [f.fieldName, f.type])).toEqual([
      ['consentSignedDate', 'DATE'],
      ['copayAmount', 'NUMBER'],
      ['insuranceGroupId', 'TEXT'],
      ['preferredContactMethod', 'SELECT'],
    ]);
    expect(fields[3]?.options?.map((o) => o.value)).toEqual(['EMAIL', 'PHONE', 'TEXT']);
  });
});
