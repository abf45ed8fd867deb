import { describe, expect, it } from 'vitest';
import { NotFoundError, SchemaConflictError } from '../../../lambdas/core/errors.ts';
import { TwentyModel } from '../../../lambdas/ports/twenty-model.ts';
import { renderFilter, renderOrderBy, where } from '../../../lambdas/twenty/filter.ts';
import { listOf, parseObject } from '../../../lambdas/twenty/metadata-json.ts';
import { sanitizeTwentyMessage } from '../../../lambdas/twenty/sanitize.ts';

const relation = (name: string, join: string, type = 'RELATION') => ({
  id: `f-${name}`,
  name,
  type,
  relation: { type: 'MANY_TO_ONE', targetObjectMetadataId: 'o-person', joinColumnName: join },
});

function modelOf(taskTargetFields: unknown[], extra: unknown[] = []): TwentyModel {
  const objects = [
    {
      id: 'o-person',
      nameSingular: 'person',
      namePlural: 'people',
      labelSingular: 'Person',
      labelPlural: 'People',
      fields: [
        { id: 'f1', name: 'emails', type: 'EMAILS', isUnique: true },
        { id: 'f2', name: 'name', type: 'FULL_NAME' },
        {
          id: 'f3',
          name: 'company',
          type: 'RELATION',
          relation: { type: 'MANY_TO_ONE', joinColumnName: 'companyId' },
        },
        {
          id: 'f4',
          name: 'taskTargets',
          type: 'RELATION',
          relation: { type: 'ONE_TO_MANY', joinColumnName: null },
        },
      ],
    },
    { id: 'o-tt', nameSingular: 'taskTarget', namePlural: 'taskTargets', fields: taskTargetFields },
    ...extra,
  ];
  return new TwentyModel(objects.map((raw) => parseObject(raw)!));
}

describe('TwentyModel', () => {
  it('detects v2 from morph join columns and answers target join columns', () => {
    const model = modelOf([
      relation('targetPerson', 'targetPersonId', 'MORPH_RELATION'),
      relation('targetCompany', 'targetCompanyId', 'MORPH_RELATION'),
    ]);
    expect(model.flavor).toBe('v2');
    expect(model.joinColumn('person', 'taskTarget')).toBe('targetPersonId');
    expect(model.joinColumn('people', 'taskTarget')).toBe('targetPersonId');
    expect(() => model.joinColumn('opportunity', 'taskTarget')).toThrow(SchemaConflictError);
  });

  it('detects v1 from plain join columns, including custom objects', () => {
    const model = modelOf([relation('person', 'personId'), relation('patientClaim', 'patientClaimId')]);
    expect(model.flavor).toBe('v1');
    expect(model.joinColumn('person', 'taskTarget')).toBe('personId');
    expect(model.joinColumn('patientClaim', 'taskTarget')).toBe('patientClaimId');
  });

  it('lists unique keys with the composite sub-field and only owning-side join columns', () => {
    const model = modelOf([]);
    expect(model.uniqueKeys('people')).toEqual(['emails.primaryEmail']);
    expect(model.joinColumns('person')).toEqual(['companyId']);
    expect(model.object('people').nameSingular).toBe('person');
    expect(() => model.object('invoice')).toThrow(NotFoundError);
  });

  it("reads Twenty's settings.joinColumnName, GraphQL edges and loose field lists", () => {
    const raw = {
      data: {
        objects: [
          {
            id: 'o-tt',
            nameSingular: 'taskTarget',
            namePlural: 'taskTargets',
            isCustom: false,
            fields: {
              edges: [
                {
                  node: {
                    id: 'x',
                    name: 'person',
                    type: 'RELATION',
                    settings: { joinColumnName: 'personId' },
                  },
                },
              ],
            },
          },
        ],
      },
    };
    const objects = listOf(raw, 'objects').map((o) => parseObject(o)!);
    expect(new TwentyModel(objects).flavor).toBe('v1');
    const loose = [
      {
        id: 'y',
        objectMetadataId: 'o-x',
        name: 'status',
        type: 'SELECT',
        options: [{ value: 'OPEN', label: 'Open', color: 'red' }],
      },
    ];
    const custom = parseObject(
      { id: 'o-x', nameSingular: 'claim', namePlural: 'claims', isCustom: true },
      loose,
    )!;
    const model = new TwentyModel([custom]);
    expect(model.optionValues('claim', 'status')).toEqual(['OPEN']);
    expect(model.isCustom('claims')).toBe(true);
  });
});

describe('sanitizeTwentyMessage', () => {
  it('masks quoted values, emails and phone-like numbers but keeps known field names and ids', () => {
    const names = new Set(['emails', 'primaryEmail']);
    const message =
      'A duplicate entry was detected on "emails.primaryEmail" with value "jane.doe@example.test" for 3f0e2c1a-1111-4222-8333-444455556666';
    expect(sanitizeTwentyMessage(message, names)).toBe(
      'A duplicate entry was detected on "emails.primaryEmail" with value "«…»" for 3f0e2c1a-1111-4222-8333-444455556666',
    );
    expect(sanitizeTwentyMessage('Key (email)=(jane@example.test) already exists')).toBe(
      'Key (email)=(«…») already exists',
    );
    expect(sanitizeTwentyMessage('Invalid phone +1 (555) 010-9999 rejected')).toBe(
      'Invalid phone «…» rejected',
    );
    expect(sanitizeTwentyMessage("invalid input value: Smith for field 'lastName'")).toBe(
      'invalid input value: «…» for field "«…»"',
    );
  });

  it("keeps Twenty's message templates readable", () => {
    expect(sanitizeTwentyMessage('Maximum number of records to upsert is 60.')).toBe(
      'Maximum number of records to upsert is 60.',
    );
  });
});

describe('renderFilter', () => {
  it('renders nested conditions, in-lists, NULL checks and quotes values that break the grammar', () => {
    expect(
      renderFilter({
        or: [
          where('emails.primaryEmail', 'eq', 'a@b.test'),
          { not: where('name.lastName', 'in', ['O,Neil', 'Li']) },
          where('deletedAt', 'is', 'NOT_NULL'),
          where('amount.amountMicros', 'gte', 1000),
          where('city', 'is', null),
        ],
      }),
    ).toBe(
      'or(emails.primaryEmail[eq]:a@b.test,not(name.lastName[in]:["O,Neil",Li]),deletedAt[is]:NOT_NULL,amount.amountMicros[gte]:1000,city[is]:NULL)',
    );
    expect(renderOrderBy([{ field: 'name.lastName', direction: 'DescNullsLast' }, { field: 'id' }])).toBe(
      'name.lastName[DescNullsLast],id[AscNullsFirst]',
    );
  });
});
