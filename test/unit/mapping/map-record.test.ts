import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../lambdas/core/errors.ts';
import { deterministicId, recordId } from '../../../lambdas/core/mapping/ids.ts';
import { compileEntity, mapRow } from '../../../lambdas/core/mapping/map-record.ts';
import { looksLikeSsn, phiVerdict } from '../../../lambdas/core/mapping/phi.ts';
import { parseMappingSpec } from '../../../lambdas/core/mapping/spec.ts';

const spec = parseMappingSpec({
  version: 1,
  source: 'generic',
  entities: {
    notes: {
      files: ['notes.csv'],
      target: 'note',
      idColumn: 'NoteId',
      fields: {
        bodyV2: { from: 'Text', transform: 'richText' },
        title: { from: ['Kind', 'Date'], transform: 'text' },
      },
      targets: [{ entity: 'patients', from: 'PatientId' }],
    },
    patients: { files: ['p.csv'], target: 'person', idColumn: 'Id' },
  },
});
const ctx = { options: spec.options, now: Date.UTC(2026, 0, 1) };

describe('mapRow', () => {
  it('maps fields, joins multi-column text and collects targets by source id', () => {
    const r = mapRow(
      spec.entities.notes!,
      { NoteId: 'N1', Text: 'a\nb', Kind: 'Recall', Date: '2024', PatientId: 'P9' },
      ctx,
    );
    expect(r).toEqual({
      ok: true,
      record: {
        sourceId: 'N1',
        fields: { bodyV2: { markdown: 'a\\\nb', blocknote: null }, title: 'Recall 2024' },
        relations: {},
        targets: [{ entity: 'patients', sourceId: 'P9' }],
      },
      warnings: [],
    });
  });

  it('refuses to compile a mapping that reads an SSN column', () => {
    const bad = parseMappingSpec({
      version: 1,
      source: 'generic',
      entities: {
        p: { files: ['p.csv'], target: 'person', idColumn: 'Id', fields: { x: { from: 'Patient SSN' } } },
      },
    });
    expect(() => compileEntity('p', bad.entities.p!, ctx)).toThrow(ValidationError);
    expect(() => compileEntity('p', bad.entities.p!, ctx)).toThrow(
      /entities\.p\.fields\.x\.from: .*SSNs are never migrated/,
    );
  });
});

describe('phiVerdict', () => {
  it('flags SSN-like names always and policy patterns unless allowed', () => {
    expect(phiVerdict('Social Security #')).toBe('ssn');
    expect(phiVerdict('SSN_Last4')).toBe('ssn');
    expect(phiVerdict('Class Name')).toBe('allowed');
    const policy = { neverMigrate: ['*diagnosis*'], allow: ['Diagnosis Code'] };
    expect(phiVerdict('Primary Diagnosis', policy)).toBe('policy');
    expect(phiVerdict('Diagnosis Code', policy)).toBe('allowed');
    expect(phiVerdict('SSN', { neverMigrate: [], allow: ['SSN'] })).toBe('ssn');
  });
  it("treats Canada's social insurance number as an SSN, by name and by value shape", () => {
    expect(phiVerdict('SIN')).toBe('ssn');
    expect(phiVerdict('SIN #')).toBe('ssn');
    expect(phiVerdict('Social Insurance Number')).toBe('ssn');
    expect(phiVerdict('Single')).toBe('allowed');
    expect(looksLikeSsn('046 454 286')).toBe(true);
    expect(looksLikeSsn('046-454-286')).toBe(true);
    expect(looksLikeSsn('123-45-6789')).toBe(true);
    // a phone number is not one
    expect(looksLikeSsn('416 555 0199')).toBe(false);
  });
});

describe('deterministicId', () => {
  it('is a stable RFC 9562 UUIDv5 that separates its parts', () => {
    const a = recordId('clinic-1', 'pbn', 'patients', 'P1');
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(recordId('clinic-1', 'pbn', 'patients', 'P1')).toBe(a);
    expect(deterministicId(['a b', 'c'])).not.toBe(deterministicId(['a', 'b c']));
  });
  it('matches the RFC 4122 DNS-namespace example for python.org', () => {
    expect(deterministicId(['python.org'], '6ba7b810-9dad-11d1-80b4-00c04fd430c8')).toBe(
      '886313e1-3b8a-5372-9b90-0c9aee199e5d',
    );
  });
});
