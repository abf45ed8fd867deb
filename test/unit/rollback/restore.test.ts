import { describe, expect, it } from 'vitest';
import type { LedgerEntry } from '../../../lambdas/core/ledger/entry.ts';
import { fieldsNotRestored, planGroup, restorePatch } from '../../../lambdas/core/rollback/restore.ts';

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
});
