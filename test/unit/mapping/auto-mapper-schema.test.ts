import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import {
  type ProposedMapping,
  proposeMapping,
  type SampledFile,
  STANDARD_FIELDS,
  standardTypeOf,
} from '../../../lambdas/core/mapping/auto-mapper.ts';
import { parseMappingSpec } from '../../../lambdas/core/mapping/spec.ts';
import { describeConflict, diffSchema } from '../../../lambdas/core/schema/diff.ts';
import type { ObjectMeta } from '../../../lambdas/ports/twenty.ts';
import { TwentyModel } from '../../../lambdas/ports/twenty-model.ts';
import { parseObject } from '../../../lambdas/twenty/metadata-json.ts';
import { standardSchema } from '../../../lib/sandbox/model.ts';

const FLAVORS = ['v1', 'v2'] as const;

/** The sandbox's standard objects, read through the same metadata parser the Twenty client uses. */
function standardObjects(flavor: 'v1' | 'v2'): ObjectMeta[] {
  const schema = standardSchema(flavor, '2024-01-01T00:00:00.000Z');
  return schema.objects
    .map((o) => parseObject(o, schema.fields))
    .filter((o): o is ObjectMeta => o !== undefined);
}

/** What a standard field of each type accepts from the loader (independent of the auto-mapper's table). */
const ACCEPTS: Record<string, readonly string[]> = {
  TEXT: ['text', 'usState', 'zip'],
  FULL_NAME: ['fullName'],
  EMAILS: ['email'],
  PHONES: ['phones'],
  LINKS: ['links'],
  ADDRESS: ['address'],
  DATE_TIME: ['dateTime'],
  CURRENCY: ['money'],
  NUMBER: ['number'],
  BOOLEAN: ['boolean'],
  RICH_TEXT_V2: ['richText'],
  SELECT: ['select'],
};

/** Asserts the proposal passes the schema diff of both flavors and writes standard fields in their type. */
function expectLoadable(proposal: ProposedMapping): void {
  const spec = parseMappingSpec(proposal.spec, 'proposal');
  for (const flavor of FLAVORS) {
    const model = new TwentyModel(standardObjects(flavor));
    const changes = diffSchema(spec, model);
    expect(changes.conflicts.map(describeConflict), `conflicts on ${flavor}`).toEqual([]);
    for (const [entityName, entity] of Object.entries(spec.entities)) {
      const object = model.find(entity.target);
      for (const [name, field] of Object.entries(entity.fields)) {
        const existing = object?.fields.find((f) => f.name === name);
        if (existing === undefined || field.custom !== undefined) continue;
        expect(ACCEPTS[existing.type] ?? [], `${flavor} ${entityName}.${name} (${existing.type})`).toContain(
          field.transform,
        );
        if (existing.type === 'SELECT') {
          const options = new Set(existing.options.map((o) => o.value));
          for (const value of [
            ...Object.values(field.valueMap ?? {}),
            field.default ?? options.values().next().value,
          ])
            expect(options, `${flavor} ${entityName}.${name} option`).toContain(value);
          expect(field.unmapped).not.toBe('addOption');
        }
      }
    }
  }
}

function readExport(dir: string): SampledFile[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.csv'))
    .sort()
    .map((f) => {
      const rows = parse(readFileSync(join(dir, f), 'utf8')) as string[][];
      return { stem: f.replace(/\.csv$/, ''), header: rows[0] ?? [], sample: rows.slice(1) };
    });
}

const rows = <T>(n: number, row: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => row(i));

/** A layout the auto-mapper was not written for: renamed, abbreviated columns, statuses in other words. */
const RENAMED: SampledFile[] = [
  {
    stem: 'Patient_Roster',
    header: [
      'Pt #',
      'Pt Fname',
      'Pt Lname',
      'EmailAddr',
      'Cell Ph',
      'Addr1',
      'City',
      'ST',
      'Zip',
      'Company',
      'Status',
      'Office ID',
    ],
    sample: rows(8, (i) => [
      `A${i}`,
      `First${i}`,
      `Last${i}`,
      `pt${i}@example.test`,
      `(212) 555-01${10 + i}`,
      `${i} Elm St`,
      'Hartford',
      'CT',
      '06103',
      `Employer ${i}`,
      ['Active', 'Inactive'][i % 2] ?? '',
      `OF${i % 2}`,
    ]),
  },
  {
    stem: 'Offices',
    header: ['Office ID', 'Office Name', 'Web Site', 'Address', 'City', 'State', 'Zip', 'Phone'],
    sample: rows(2, (i) => [
      `OF${i}`,
      `Office ${i}`,
      `www.office${i}.test`,
      '1 Main St',
      'Hartford',
      'CT',
      '06103',
      '(860) 555-0100',
    ]),
  },
  {
    stem: 'ApptHistory',
    header: ['Appt ID', 'Pt #', 'Appt Dt', 'Appt Type', 'Appt Status', 'Prov Email', 'Notes'],
    sample: rows(9, (i) => [
      `V${i}`,
      `A${i % 8}`,
      `03/${10 + i}/2024 09:30`,
      'Cleaning',
      ['Checked In', 'Completed', 'Booked'][i % 3] ?? '',
      'dr@example.test',
      'Bring x-rays',
    ]),
  },
  {
    stem: 'Visits',
    header: ['Visit No', 'Pt #', 'Visit Date', 'Status'],
    sample: rows(9, (i) => [
      `W${i}`,
      `A${i % 8}`,
      `2024-04-${10 + i}`,
      ['Kept', 'Broken', 'Rescheduled'][i % 3] ?? '',
    ]),
  },
  {
    stem: 'Cases',
    header: ['Case #', 'Pt #', 'Case Type', 'Billed Amt', 'Case Status', 'Closed Dt', 'Stage'],
    sample: rows(8, (i) => [
      `C${i}`,
      `A${i}`,
      'Ortho',
      `$${i}20.00`,
      ['Open', 'Won', 'Proposed', 'Pending'][i % 4] ?? '',
      `2024-05-0${1 + i}`,
      `Free text stage description number ${i}`,
    ]),
  },
  {
    stem: 'tasks',
    header: ['Task ID', 'Subject', 'Due Date', 'Status', 'Amount'],
    sample: rows(6, (i) => [
      `T${i}`,
      `Call back ${i}`,
      `2024-06-0${1 + i}`,
      ['Done', 'To Do'][i % 2] ?? '',
      `${i}`,
    ]),
  },
];

describe('proposeMapping against the standard models', () => {
  it('keeps the sandbox standard fields and the auto-mapper catalogue in step, type for type', () => {
    for (const flavor of FLAVORS)
      for (const object of standardObjects(flavor)) {
        if (!(object.nameSingular in STANDARD_FIELDS)) continue;
        for (const field of object.fields) {
          if (
            ['UUID', 'DATE_TIME', 'ACTOR', 'POSITION', 'TS_VECTOR'].includes(field.type) &&
            /^(id|createdAt|updatedAt|deletedAt|createdBy|updatedBy|position|searchVector)$/.test(field.name)
          )
            continue;
          const type = /RELATION/.test(field.type) ? 'RELATION' : field.type;
          expect(
            standardTypeOf(object.nameSingular, field.name),
            `${flavor} ${object.nameSingular}.${field.name}`,
          ).toBe(type);
        }
      }
  });

  it('maps the tiny export appointment Status onto task.status with a guessed value map and a default', () => {
    const proposal = proposeMapping(readExport('test/fixtures/exports/tiny'), { source: 'generic' });
    const status = proposal.spec.entities.appointments?.fields?.status;
    expect(status).toEqual({
      from: 'Status',
      transform: 'select',
      // A cancelled appointment is over: nothing is left to do on its task.
      valueMap: { Completed: 'DONE', Scheduled: 'TODO', Cancelled: 'DONE' },
      unmapped: 'default',
      default: 'TODO',
    });
    // 7-digit local numbers cannot be E.164 phones: kept as text rather than rejecting every row.
    expect(proposal.spec.entities.patients?.fields?.phones).toBeUndefined();
    expect(proposal.spec.entities.patients?.fields?.phone).toMatchObject({
      from: 'Phone',
      custom: { type: 'TEXT' },
    });
    expect(proposal.confidence.appointments?.Status).toBeLessThan(1);
    expect(proposal.confidence.appointments?.Status).toBeGreaterThan(0);
    expect(proposal.valueMaps).toEqual([
      {
        entity: 'appointments',
        field: 'status',
        column: 'Status',
        target: 'standard',
        mapped: { Completed: 'DONE', Scheduled: 'TODO', Cancelled: 'DONE' },
        unmatched: [],
        default: 'TODO',
      },
    ]);
    expectLoadable(proposal);
  });

  it('proposes a renamed, abbreviated layout that passes the v1 and v2 schema diff', () => {
    const proposal = proposeMapping(RENAMED);
    const { entities } = proposal.spec;
    expect(entities.appointments?.fields?.status).toMatchObject({
      from: 'Appt Status',
      valueMap: { 'Checked In': 'IN_PROGRESS', Completed: 'DONE', Booked: 'TODO' },
      default: 'TODO',
    });
    expect(entities.cases?.fields?.stage).toMatchObject({
      from: 'Case Status',
      transform: 'select',
      valueMap: { Open: 'NEW', Won: 'CUSTOMER', Proposed: 'PROPOSAL', Pending: 'SCREENING' },
      unmapped: 'default',
      default: 'NEW',
    });
    expect(entities.cases?.fields?.amount).toEqual({ from: 'Billed Amt', transform: 'money' });
    expect(entities.cases?.fields?.closeDate).toMatchObject({ from: 'Closed Dt', transform: 'dateTime' });
    expect(entities.appointments?.fields?.dueAt).toMatchObject({ from: 'Appt Dt', transform: 'dateTime' });
    expect(entities.offices).toBeUndefined();
    expect(entities.practices?.fields?.address).toMatchObject({ transform: 'address' });
    expect(entities.practices?.fields?.address?.custom).toBeUndefined();
    expect(entities.tasks).toMatchObject({ target: 'task' });
    expect(entities.tasks?.fields?.status).toMatchObject({ valueMap: { Done: 'DONE', 'To Do': 'TODO' } });
    // Columns that would have clashed with standard fields of another type get free names.
    expect(entities.patients?.fields?.company).toBeUndefined();
    expect(entities.patients?.fields?.patientCompany).toMatchObject({
      from: 'Company',
      custom: { type: 'TEXT' },
    });
    expect(entities.tasks?.fields?.amount).toMatchObject({ from: 'Amount', custom: { type: 'NUMBER' } });
    expect(entities.appointments?.targets).toEqual([{ entity: 'patients', from: 'Pt #' }]);
    expect(entities.cases?.fields?.caseStage).toMatchObject({ from: 'Stage', custom: { type: 'TEXT' } });
    expectLoadable(proposal);
  });

  it('maps a status whose values match no standard option to a custom SELECT instead', () => {
    const proposal = proposeMapping(RENAMED);
    const visits = proposal.spec.entities.appointments2;
    expect(visits?.target).toBe('task');
    expect(visits?.fields?.status).toBeUndefined();
    expect(visits?.fields?.appointmentStatus).toMatchObject({
      from: 'Status',
      transform: 'select',
      unmapped: 'addOption',
      valueMap: { Kept: 'KEPT', Broken: 'BROKEN', Rescheduled: 'RESCHEDULED' },
      custom: { type: 'SELECT' },
    });
    expect(proposal.unmapped).toContainEqual({
      file: 'Visits',
      column: 'Status',
      inferredType: 'select',
      proposedCustomField: { name: 'appointmentStatus', type: 'SELECT', label: 'Status' },
    });
    expect(proposal.valueMaps).toContainEqual(
      expect.objectContaining({ entity: 'appointments2', field: 'appointmentStatus', target: 'custom' }),
    );
  });
});
