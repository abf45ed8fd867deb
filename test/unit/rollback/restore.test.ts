import { describe, expect, it } from 'vitest';
import type { LedgerEntry } from '../../../lambdas/core/ledger/entry.ts';
import {
  fieldsNotRestored,
  planGroup,
  recreateRecord,
  restorePatch,
} from '../../../lambdas/core/rollback/restore.ts';
import type { FieldMeta } from '../../../lambdas/ports/twenty.ts';
import { TwentyModel } from '../../../lambdas/ports/twenty-model.ts';

const entry = (sourceId: string, op: LedgerEntry['op']): LedgerEntry => ({
  runId: 'r1',
  phase: '02-people',
  entity: 'person',
  sourceId,
  twentyId: `tw-${sourceId}`,
  op,
  contentHash: 'h',
  at: '2026-01-01T00:00:00.000Z',
});

describe('restorePatch', () => {
  it('writes back only the fields Ferry sent, never Twenty-owned ones, null for fields the record lacked', () => {
    const before = { id: 'x', jobTitle: 'Desk', city: 'Oslo', updatedAt: 't', position: 3, companyId: null };
    const patch = restorePatch(before, [
      'jobTitle',
      'companyId',
      'isProvider',
      'updatedAt',
      'position',
      'id',
    ]);
    expect(patch).toEqual({ jobTitle: 'Desk', companyId: null, isProvider: null });
  });
});

describe('fieldsNotRestored', () => {
  it('names the restored fields whose live value differs, comparing composites deeply', () => {
    const patch = { emails: { primaryEmail: 'a', additionalEmails: [] }, jobTitle: 'Desk', isProvider: null };
    expect(
      fieldsNotRestored({ emails: { primaryEmail: 'a', additionalEmails: [] }, jobTitle: 'Desk' }, patch),
    ).toEqual([]);
    expect(
      fieldsNotRestored({ emails: { primaryEmail: 'b', additionalEmails: [] }, jobTitle: 'Desk' }, patch),
    ).toEqual(['emails']);
  });
});

describe('planGroup', () => {
  it('destroys created records, restores updated ones and skips what an earlier rollback undid', () => {
    const plan = planGroup([
      entry('P3', 'updated'),
      entry('P2', 'destroyed'),
      entry('P2', 'created'),
      entry('P1', 'created'),
      entry('P4', 'restored'),
      entry('P4', 'updated'),
    ]);
    expect(Object.fromEntries([...plan].map(([id, step]) => [id, step.action]))).toEqual({
      P3: 'restore',
      P2: 'skip',
      P1: 'destroy',
      P4: 'skip',
    });
  });

  it('tells entries undone by this rollback (an earlier tick) from those an earlier rollback undid', () => {
    const plan = planGroup(
      [
        entry('P1', 'created'),
        { ...entry('P1', 'destroyed'), at: '2026-01-02T00:00:00.000Z' },
        entry('P2', 'created'),
        entry('P2', 'destroyed'),
        entry('P3', 'created'),
      ],
      '2026-01-01T12:00:00.000Z',
    );
    expect(Object.fromEntries([...plan].map(([id, step]) => [id, step.action]))).toEqual({
      P1: 'done',
      P2: 'skip',
      P3: 'destroy',
    });
  });
});

describe('recreateRecord', () => {
  it('keeps the id, scalar/composite fields and join columns, drops system fields and embedded relations', () => {
    const model = new TwentyModel([
      {
        id: 'o1',
        nameSingular: 'company',
        namePlural: 'companies',
        labelSingular: 'Company',
        labelPlural: 'Companies',
        isCustom: false,
        isActive: true,
        fields: [
          field('name', 'TEXT'),
          field('domainName', 'LINKS'),
          field('createdAt', 'DATE_TIME'),
          { ...field('accountOwner', 'RELATION'), joinColumnName: 'accountOwnerId' },
          field('people', 'RELATION'),
        ],
      },
    ]);
    const body = recreateRecord(model, 'companies', 'c-1', {
      id: 'other',
      name: 'Acme',
      domainName: { primaryLinkUrl: 'acme.test' },
      createdAt: '2020-01-01',
      accountOwnerId: null,
      accountOwner: { id: 'm' },
      people: [{ id: 'p' }],
      gone: 'x',
    });
    expect(body).toEqual({
      id: 'c-1',
      name: 'Acme',
      domainName: { primaryLinkUrl: 'acme.test' },
      accountOwnerId: null,
    });
  });
});

function field(name: string, type: string): FieldMeta {
  return {
    id: `f-${name}`,
    name,
    label: name,
    type,
    isCustom: false,
    isUnique: false,
    isNullable: true,
    options: [],
  };
}
