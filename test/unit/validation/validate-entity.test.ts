import { describe, expect, it } from 'vitest';
import { compileEntity } from '../../../lambdas/core/mapping/map-record.ts';
import { parseMappingSpec } from '../../../lambdas/core/mapping/spec.ts';
import { REASON_CODES } from '../../../lambdas/core/validation/codes.ts';
import { type SourceRow, validateEntity } from '../../../lambdas/core/validation/validate-entity.ts';

const spec = parseMappingSpec({
  version: 1,
  source: 'generic',
  options: { dateOrder: 'auto' },
  entities: {
    patients: {
      files: ['patients.csv'],
      target: 'person',
      idColumn: 'Id',
      fields: {
        name: { from: ['First', 'Last'], transform: 'fullName', required: true },
        emails: { from: 'Email', transform: 'email' },
        phones: { from: 'Phone', transform: 'phones' },
        dob: {
          from: 'DOB',
          transform: 'date',
          validate: 'birthDate',
          custom: { type: 'DATE', label: 'DOB' },
        },
        status: { from: 'Status', transform: 'select', valueMap: { Active: 'ACTIVE' } },
        memo: { from: 'Memo', transform: 'text', maxLength: 10 },
      },
      relations: { company: { entity: 'practices', from: 'PracticeId', joinColumn: 'companyId' } },
    },
    practices: { files: ['practices.csv'], target: 'company', idColumn: 'Id' },
  },
});
const ctx = { options: spec.options, now: Date.UTC(2026, 0, 15) };
const entity = compileEntity('patients', spec.entities.patients!, ctx);
const practices = new Set(['PR1']);
const GOOD = {
  Id: 'P1',
  First: 'Ann',
  Last: 'Lee',
  Email: 'ann@example.com',
  Phone: '212-555-0100',
  DOB: '1990-05-01',
  Status: 'Active',
  Memo: 'ok',
  PracticeId: 'PR1',
};

function run(rows: SourceRow[]) {
  const gen = validateEntity(rows, {
    file: 'patients.csv',
    entity,
    has: (e, id) => e === 'practices' && practices.has(id),
  });
  const results = [];
  let next = gen.next();
  while (!next.done) {
    results.push(next.value);
    next = gen.next();
  }
  return { results, counters: next.value };
}

function reasonFor(cells: Record<string, string>): string | undefined {
  const { results } = run([{ line: 2, cells }]);
  const r = results[0];
  return r?.ok ? undefined : r?.rejects[0]?.reason;
}

describe('validateEntity', () => {
  it('accepts a clean row with Twenty-shaped fields and source-id relations', () => {
    const { results, counters } = run([{ line: 2, cells: GOOD }]);
    expect(results[0]).toMatchObject({
      ok: true,
      record: {
        sourceId: 'P1',
        fields: { name: { firstName: 'Ann', lastName: 'Lee' }, dob: '1990-05-01', status: 'ACTIVE' },
        relations: { company: 'PR1' },
      },
    });
    expect(counters).toMatchObject({ rows: 1, accepted: 1, rejected: 0 });
  });

  it.each([
    ['MISSING_REQUIRED', { First: '', Last: '' }],
    ['MISSING_REQUIRED', { Id: ' ' }],
    ['INVALID_EMAIL', { Email: 'nope@' }],
    ['INVALID_PHONE', { Phone: '12' }],
    ['INVALID_DATE', { DOB: '2031-01-01' }],
    ['AMBIGUOUS_DATE', { DOB: '03/04/1990' }],
    ['UNMAPPED_VALUE', { Status: 'Dormant' }],
    ['VALUE_TOO_LONG', { Memo: 'x'.repeat(11) }],
    ['ORPHAN_REFERENCE', { PracticeId: 'PR404' }],
    ['ENCODING_ERROR', { Last: 'L\uFFFDe' }],
  ])('rejects %s', (reason, patch) => {
    expect(reasonFor({ ...GOOD, ...patch })).toBe(reason);
  });

  it('rejects MALFORMED_ROW for a row the parser could not split', () => {
    const { results, counters } = run([
      { line: 7, cells: null, malformedRule: 'column count matches header' },
    ]);
    expect(results[0]).toEqual({
      ok: false,
      line: 7,
      rejects: [
        {
          file: 'patients.csv',
          line: 7,
          entity: 'patients',
          sourceId: null,
          field: '(row)',
          reason: 'MALFORMED_ROW',
          rule: 'column count matches header',
        },
      ],
    });
    expect(counters.rejectsByReason).toEqual({ MALFORMED_ROW: 1 });
  });

  it('rejects the second and later occurrences of a source id as DUPLICATE_SOURCE_ID', () => {
    const { results, counters } = run([
      { line: 2, cells: GOOD },
      { line: 3, cells: { ...GOOD, Email: 'b@example.com' } },
      { line: 4, cells: { ...GOOD, Email: 'c@example.com' } },
    ]);
    expect(results.map((r) => r.ok)).toEqual([true, false, false]);
    expect(counters.rejectsByReason).toEqual({ DUPLICATE_SOURCE_ID: 2 });
  });

  it('gives a shared family email to the first patient and additionalEmails to the rest', () => {
    const { results, counters } = run([
      { line: 2, cells: GOOD },
      { line: 3, cells: { ...GOOD, Id: 'P2', First: 'Bo' } },
    ]);
    expect(results[1]).toMatchObject({
      ok: true,
      record: { fields: { emails: { primaryEmail: null, additionalEmails: ['ann@example.com'] } } },
      warnings: expect.arrayContaining(['SHARED_EMAIL']),
    });
    expect(counters.warningsByCode.SHARED_EMAIL).toBe(1);
    expect(counters.rejected).toBe(0);
  });

  it('never puts a cell value in a reject', () => {
    const secret = 'canary-7f3a@@x';
    const { results } = run([{ line: 2, cells: { ...GOOD, Email: secret, Memo: 'canary-7f3a-long-value' } }]);
    expect(JSON.stringify(results)).not.toContain('canary-7f3a');
  });

  it('counts each rejected row once by its primary reason and warnings separately', () => {
    const { counters } = run([
      { line: 2, cells: { ...GOOD, Email: 'bad@', Phone: '1' } },
      { line: 3, cells: { ...GOOD, Id: 'P2', Email: 'z@example.com' } },
    ]);
    expect(counters).toMatchObject({
      rows: 2,
      accepted: 1,
      rejected: 1,
      rejectsByReason: { INVALID_EMAIL: 1 },
    });
    expect(counters.warningsByCode.PHONE_NORMALIZED).toBe(1);
  });

  it('exports every reason code the issue requires', () => {
    for (const code of [
      'MISSING_REQUIRED',
      'DUPLICATE_SOURCE_ID',
      'ORPHAN_REFERENCE',
      'MALFORMED_ROW',
      'ENCODING_ERROR',
    ])
      expect(REASON_CODES).toContain(code);
  });
});

describe('locations of one practice sharing a website', () => {
  it('keep it on the first company and as a secondary link on the others (Twenty keeps domains unique)', () => {
    const locations = parseMappingSpec({
      version: 1,
      source: 'generic',
      entities: {
        locations: {
          files: ['locations.csv'],
          target: 'company',
          idColumn: 'Id',
          fields: {
            name: { from: 'Name', transform: 'text' },
            domainName: { from: 'Web', transform: 'links' },
          },
        },
      },
    });
    const compiled = compileEntity('locations', locations.entities.locations!, {
      options: locations.options,
      now: Date.UTC(2026, 0, 15),
    });
    const rows: SourceRow[] = [
      { line: 2, cells: { Id: 'L1', Name: 'Downtown', Web: 'https://cedar.example' } },
      { line: 3, cells: { Id: 'L2', Name: 'Westside', Web: 'www.cedar.example/' } },
      { line: 4, cells: { Id: 'L3', Name: 'Lakeside', Web: 'lake.example' } },
    ];
    const gen = validateEntity(rows, { file: 'locations.csv', entity: compiled, has: () => true });
    const results = [];
    let next = gen.next();
    while (!next.done) {
      results.push(next.value);
      next = gen.next();
    }
    expect(results.map((r) => r.ok)).toEqual([true, true, true]);
    const links = results.map((r) => (r.ok ? r.record.fields.domainName : undefined)) as {
      primaryLinkUrl: string;
      secondaryLinks: { url: string }[];
    }[];
    expect(links[0]?.primaryLinkUrl).toMatch(/cedar\.example/);
    expect(links[1]?.primaryLinkUrl).toBe('');
    expect(links[1]?.secondaryLinks.map((l) => l.url)).toEqual([expect.stringMatching(/cedar\.example/)]);
    expect(links[2]?.primaryLinkUrl).toMatch(/lake\.example/);
    expect(next.value.warningsByCode.SHARED_DOMAIN).toBe(1);
  });
});
