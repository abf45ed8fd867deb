import { describe, expect, it } from 'vitest';
import { compileEntity } from '../../../lambdas/core/mapping/map-record.ts';
import {
  type EntitySpecInput,
  type MappingSpecInput,
  parseMappingSpec,
} from '../../../lambdas/core/mapping/spec.ts';
import {
  apmsProfile,
  bindPivots,
  bindProfile,
  buildPivotIndex,
  type EntityPivot,
  withPivot,
} from '../../../lambdas/core/sources/index.ts';

const PIVOT: EntityPivot = {
  files: ['props.csv'],
  idColumn: 'PatientID',
  nameColumn: 'PropertyName',
  valueColumn: 'PropertyValue',
};

const row = (line: number, id: string, name: string, value: string) => ({
  line,
  cells: { PatientID: id, PropertyName: name, PropertyValue: value },
});

describe('buildPivotIndex', () => {
  it('joins property rows per record and refuses blank, undecodable and repeated ones', () => {
    const index = buildPivotIndex(
      [
        row(2, '1', 'Preferred Language', 'Spanish'),
        row(3, '1', 'Copay Amount', '20'),
        row(4, '2', '', 'x'),
        row(5, '', 'Copay Amount', '10'),
        row(6, '2', 'Copay Amount', 'caf\uFFFD'),
        row(7, '1', 'Copay Amount', '30'),
        row(8, '3', 'Copay Amount', '15'),
      ],
      PIVOT,
    );
    expect(index.get('1')).toEqual({ 'Preferred Language': 'Spanish', 'Copay Amount': '20' });
    expect(index.get('3')).toEqual({ 'Copay Amount': '15' });
    expect(index.rejects.map((r) => [r.line, r.reason, r.field])).toEqual([
      [4, 'MISSING_REQUIRED', 'PropertyName'],
      [5, 'MISSING_REQUIRED', 'PatientID'],
      [6, 'ENCODING_ERROR', 'PropertyValue'],
      [7, 'DUPLICATE_SOURCE_ID', 'PropertyName'],
    ]);
    expect(JSON.stringify(index.rejects)).not.toContain('Spanish');
  });

  it('counts rows of loaded records as loaded and the others as skipped PIVOTED', () => {
    const index = buildPivotIndex(
      [row(2, '1', 'A', 'x'), row(3, '1', 'B', 'y'), row(4, '2', 'A', 'z'), row(5, '9', 'A', 'w')],
      PIVOT,
    );
    expect(index.settle((id) => id === '1')).toEqual({ loaded: 2, skipped: { PIVOTED: 2 } });
    expect(index.settle(() => true)).toEqual({ loaded: 4, skipped: {} });
  });
});

describe('withPivot', () => {
  it('adds the record properties as cells without overwriting real columns', () => {
    const index = buildPivotIndex(
      [row(2, '7', 'Copay Amount', '20'), row(3, '7', 'Pt City', 'Elsewhere')],
      PIVOT,
    );
    const cells = { 'Pt Acct #': ' 7 ', 'Pt City': 'Springfield' };
    expect(withPivot(cells, index, 'Pt Acct #')).toEqual({
      'Pt Acct #': ' 7 ',
      'Pt City': 'Springfield',
      'Copay Amount': '20',
    });
    const other = { 'Pt Acct #': '8' };
    expect(withPivot(other, index, 'Pt Acct #')).toBe(other);
  });
});

describe('bindPivots', () => {
  const spec: MappingSpecInput = {
    version: 1,
    source: 'apms',
    options: { dateOrder: 'MDY' },
    entities: {
      patients: {
        files: ['p.csv'],
        target: 'person',
        idColumn: 'Id',
        fields: { copayAmount: { from: 'Name' } },
        pivot: PIVOT,
      },
    },
  };
  const rows = [
    ...['Phone', 'Email', 'Phone', 'Text', 'Email', 'Phone'].map((v, i) => ({
      PatientID: String(i + 1),
      PropertyName: 'Preferred Contact Method',
      PropertyValue: v,
    })),
    { PatientID: '1', PropertyName: 'Copay Amount', PropertyValue: '20' },
    { PatientID: '1', PropertyName: 'Consent Signed Date', PropertyValue: '03/14/2022' },
    { PatientID: '2', PropertyName: 'Pt SSN', PropertyValue: '000-00-0000' },
    { PatientID: '3', PropertyName: 'Consent Signed Date', PropertyValue: 'caf\uFFFD' },
  ];

  it('adds one typed custom field per property, never an SSN, and a suffix on a name clash', async () => {
    const bound = parseMappingSpec(await bindPivots(spec, () => rows), 'bound');
    const fields = bound.entities.patients?.fields ?? {};
    expect(Object.keys(fields).sort()).toEqual([
      'consentSignedDate',
      'copayAmount',
      'copayAmount2',
      'preferredContactMethod',
    ]);
    expect(fields.consentSignedDate).toMatchObject({
      from: 'Consent Signed Date',
      transform: 'date',
      custom: { type: 'DATE' },
    });
    expect(fields.copayAmount2).toMatchObject({ from: 'Copay Amount', transform: 'number' });
    expect(fields.preferredContactMethod?.custom?.options?.map((o) => o.value)).toEqual([
      'EMAIL',
      'PHONE',
      'TEXT',
    ]);
  });

  it('keeps a field the operator already reads from a property', async () => {
    const patients = spec.entities.patients as EntitySpecInput;
    const edited: MappingSpecInput = {
      ...spec,
      entities: { patients: { ...patients, fields: { copay: { from: 'Copay Amount' } } } },
    };
    const bound = parseMappingSpec(await bindPivots(edited, () => rows), 'bound');
    expect(bound.entities.patients?.fields.copay).toMatchObject({ from: 'Copay Amount', transform: 'text' });
    expect(bound.entities.patients?.fields.copayAmount).toBeUndefined();
  });

  it('makes the pivoted properties mappable fields of the APMS patient after bindProfile', async () => {
    const bound = bindProfile(apmsProfile, [
      {
        stem: 'PatientDemographics',
        header: ['Pt Acct #', 'Pt Last Name', 'Pt First Name', 'Pt MI', 'Pt DOB', 'Practice ID'],
      },
      { stem: 'Custom Props', header: ['Patient ID', 'PropertyName', 'PropertyValue'] },
    ]);
    expect(bound.entities.patients?.pivot).toMatchObject({
      files: ['Custom Props.csv'],
      idColumn: 'Patient ID',
    });
    const withProps = parseMappingSpec(
      await bindPivots(bound, () =>
        ['Spanish', 'English', 'Spanish', 'English'].map((v, i) => ({
          'Patient ID': String(100 + i),
          PropertyName: 'Preferred Language',
          PropertyValue: v,
        })),
      ),
      'apms',
    );
    const patients = withProps.entities.patients;
    if (patients === undefined) throw new Error('patients missing');
    const compiled = compileEntity('patients', patients, {
      options: withProps.options,
      now: Date.UTC(2025, 0, 1),
    });
    const index = buildPivotIndex([row(2, '100', 'Preferred Language', 'Spanish')], PIVOT);
    const result = compiled.mapRow(
      withPivot(
        { 'Pt Acct #': '100', 'Pt Last Name': 'Doe', 'Pt First Name': 'Jo', 'Pt DOB': '01/02/1980' },
        index,
        'Pt Acct #',
      ),
    );
    expect(result.ok ? result.record.fields.preferredLanguage : result.rejects).toBe('SPANISH');
  });
});
