import { describe, expect, it } from 'vitest';
import { isPopulated, mismatchedFields, sameValue } from '../../../lambdas/core/reconcile/compare.ts';

describe('read-back comparison', () => {
  it('accepts what Twenty does on write: lowercased emails, micros as strings, dates as timestamps, defaults', () => {
    expect(
      sameValue(
        { primaryEmail: 'Ann@Example.test' },
        { primaryEmail: 'ann@example.test', additionalEmails: null },
      ),
    ).toBe(true);
    expect(
      sameValue(
        { amountMicros: 12_500_000, currencyCode: 'USD' },
        { amountMicros: '12500000', currencyCode: 'USD' },
      ),
    ).toBe(true);
    expect(sameValue('1980-02-03', '1980-02-03T00:00:00.000Z')).toBe(true);
    expect(sameValue('2024-05-01T10:00:00Z', '2024-05-01T10:00:00.000Z')).toBe(true);
    expect(sameValue({ markdown: '# Hi' }, { markdown: '# Hi', blocknote: '[]' })).toBe(true);
    expect(sameValue('', null)).toBe(true);
    expect(sameValue(null, '')).toBe(true);
    expect(
      sameValue(
        { primaryPhoneNumber: '5551234567', primaryPhoneCountryCode: 'US' },
        {
          primaryPhoneNumber: '5551234567',
          primaryPhoneCountryCode: 'US',
          primaryPhoneCallingCode: '+1',
          additionalPhones: [],
        },
      ),
    ).toBe(true);
  });

  it('rejects changed values, lost values, extra array items and type changes', () => {
    expect(sameValue({ primaryEmail: 'a@x.test' }, { primaryEmail: 'b@x.test' })).toBe(false);
    expect(sameValue('Smith', '')).toBe(false);
    expect(sameValue('', 'Smith')).toBe(false);
    expect(sameValue(['a@x.test'], ['a@x.test', 'b@x.test'])).toBe(false);
    expect(sameValue(12, '13')).toBe(false);
    expect(sameValue('12', 12)).toBe(true);
    expect(sameValue('1980-02-03', '1980-02-04T00:00:00.000Z')).toBe(false);
    expect(sameValue(true, 'true')).toBe(false);
    expect(sameValue({ markdown: 'a' }, null)).toBe(false);
    // Case differences matter outside emails.
    expect(sameValue('Smith', 'smith')).toBe(false);
  });

  it('lists the mismatched top-level fields by name, ignoring id', () => {
    expect(
      mismatchedFields(
        { id: 'x', name: { firstName: 'A', lastName: 'B' }, city: 'Reno', jobTitle: '' },
        { id: 'y', name: { firstName: 'A', lastName: 'C' }, city: 'Reno', jobTitle: null },
      ),
    ).toEqual(['name']);
    expect(isPopulated({ primaryEmail: '', additionalEmails: [] })).toBe(false);
    expect(isPopulated({ primaryEmail: 'a@x.test' })).toBe(true);
  });
});
