import { describe, expect, it } from 'vitest';
import { date, dateTime, detectDateOrder } from '../../../lambdas/core/mapping/transforms/date.ts';
import { emails } from '../../../lambdas/core/mapping/transforms/email.ts';
import { fullName, splitFullName } from '../../../lambdas/core/mapping/transforms/full-name.ts';
import { links } from '../../../lambdas/core/mapping/transforms/links.ts';
import { boolean, money, number } from '../../../lambdas/core/mapping/transforms/numbers.ts';
import { phones } from '../../../lambdas/core/mapping/transforms/phones.ts';
import { richText } from '../../../lambdas/core/mapping/transforms/rich-text.ts';
import {
  compileSelect,
  multiSelect,
  select,
  toOptionValue,
} from '../../../lambdas/core/mapping/transforms/select.ts';
import { text } from '../../../lambdas/core/mapping/transforms/text.ts';
import { address, usState, zip } from '../../../lambdas/core/mapping/transforms/us-address.ts';

const NOW = Date.UTC(2026, 0, 15);

describe('text', () => {
  it('trims and returns null for blank', () => {
    expect(text('  hi ')).toEqual({ ok: true, value: 'hi' });
    expect(text('   ')).toEqual({ ok: true, value: null });
  });
  it('rejects VALUE_TOO_LONG when over maxLength', () => {
    expect(text('abcdef', 5)).toEqual({ ok: false, reason: 'VALUE_TOO_LONG', rule: 'maxLength 5' });
  });
});

describe('fullName', () => {
  it('splits "Last, First M" and "First Last"', () => {
    expect(splitFullName('Smith, John Q')).toEqual({ firstName: 'John Q', lastName: 'Smith' });
    expect(splitFullName('Maria Garcia')).toEqual({ firstName: 'Maria', lastName: 'Garcia' });
  });
  it('drops prefixes, keeps suffixes and particles with the last name', () => {
    expect(splitFullName('Dr. Anna de la Cruz Jr.')).toEqual({
      firstName: 'Anna',
      lastName: 'de la Cruz Jr.',
    });
    expect(splitFullName('Smith Jr., John')).toEqual({ firstName: 'John', lastName: 'Smith Jr.' });
  });
  it('joins first/middle/last columns and is blank when all are empty', () => {
    expect(fullName(['Ann', 'B', 'Lee'])).toEqual({
      ok: true,
      value: { firstName: 'Ann B', lastName: 'Lee' },
    });
    expect(fullName(['', ''])).toEqual({ ok: true, value: null });
  });
});

describe('emails', () => {
  it('lower-cases and keeps extra addresses as additionalEmails', () => {
    expect(emails([' Ann@Example.COM; ann.work@example.com ', 'ann@example.com'])).toEqual({
      ok: true,
      value: { primaryEmail: 'ann@example.com', additionalEmails: ['ann.work@example.com'] },
    });
  });
  it('rejects INVALID_EMAIL on a malformed address', () => {
    expect(emails(['ann@@example'])).toMatchObject({ ok: false, reason: 'INVALID_EMAIL' });
    expect(emails(['ann.example.com'])).toMatchObject({ ok: false, reason: 'INVALID_EMAIL' });
  });
});

describe('phones', () => {
  it('normalizes US numbers into the PHONES composite with a warning', () => {
    expect(phones(['(212) 555-0100'], 'US')).toEqual({
      ok: true,
      value: {
        primaryPhoneNumber: '2125550100',
        primaryPhoneCountryCode: 'US',
        primaryPhoneCallingCode: '+1',
        additionalPhones: [],
      },
      warnings: ['PHONE_NORMALIZED'],
    });
  });
  it('keeps secondary numbers and extensions in additionalPhones', () => {
    const r = phones(['212-555-0100 ext. 42', '+44 20 7946 0958'], 'US');
    expect(r.ok && r.value?.additionalPhones).toEqual([
      { number: '2125550100;ext=42', countryCode: 'US', callingCode: '+1' },
      { number: '2079460958', countryCode: 'GB', callingCode: '+44' },
    ]);
    expect(r.ok && r.warnings).toContain('PHONE_EXTENSION');
  });
  it('uses the configured default country', () => {
    const r = phones(['020 7946 0958'], 'GB');
    expect(r.ok && r.value?.primaryPhoneCallingCode).toBe('+44');
  });
  it('rejects INVALID_PHONE on a number too short to be valid', () => {
    expect(phones(['555-0100'], 'US')).toMatchObject({ ok: false, reason: 'INVALID_PHONE' });
  });
});

describe('date', () => {
  it('reads slash dates in the fixed order and ISO dates', () => {
    expect(date('03/04/2021', 'MDY', NOW)).toEqual({ ok: true, value: '2021-03-04' });
    expect(date('03/04/2021', 'DMY', NOW)).toEqual({ ok: true, value: '2021-04-03' });
    expect(date('2021-03-04', 'auto', NOW)).toEqual({ ok: true, value: '2021-03-04' });
    expect(date('Mar 4, 2021', 'auto', NOW)).toEqual({ ok: true, value: '2021-03-04' });
  });
  it('rejects AMBIGUOUS_DATE only when the order is unknown', () => {
    expect(date('03/04/2021', 'auto', NOW)).toMatchObject({ ok: false, reason: 'AMBIGUOUS_DATE' });
    expect(date('13/04/2021', 'auto', NOW)).toEqual({ ok: true, value: '2021-04-13' });
  });
  it('rejects INVALID_DATE on impossible dates and birth dates', () => {
    expect(date('2021-02-29', 'auto', NOW)).toMatchObject({ ok: false, reason: 'INVALID_DATE' });
    expect(date('02/30/2020', 'MDY', NOW)).toMatchObject({ ok: false, reason: 'INVALID_DATE' });
    expect(date('2030-01-01', 'auto', NOW, 'birthDate')).toMatchObject({ ok: false, reason: 'INVALID_DATE' });
    expect(date('1880-01-01', 'auto', NOW, 'birthDate')).toMatchObject({ ok: false, reason: 'INVALID_DATE' });
  });
  it('pivots two-digit years into the past with a warning', () => {
    expect(date('1/2/85', 'MDY', NOW)).toEqual({
      ok: true,
      value: '1985-01-02',
      warnings: ['TWO_DIGIT_YEAR'],
    });
    expect(date('1/2/25', 'MDY', NOW)).toMatchObject({ ok: true, value: '2025-01-02' });
  });
});

describe('dateTime', () => {
  it('converts local wall time in the source time zone to UTC, DST included', () => {
    expect(dateTime('03/04/2021 2:30 PM', 'MDY', 'America/New_York', NOW)).toEqual({
      ok: true,
      value: '2021-03-04T19:30:00.000Z',
    });
    expect(dateTime('07/04/2021 14:30', 'MDY', 'America/New_York', NOW)).toMatchObject({
      value: '2021-07-04T18:30:00.000Z',
    });
  });
  it('honours an explicit offset', () => {
    expect(dateTime('2021-07-04T10:00:00+02:00', 'auto', 'America/New_York', NOW)).toMatchObject({
      value: '2021-07-04T08:00:00.000Z',
    });
  });
});

describe('detectDateOrder', () => {
  it('proves MDY or DMY from values over 12 and reports ambiguous columns', () => {
    expect(detectDateOrder(['03/04/2021', '12/31/2020'])?.order).toBe('MDY');
    expect(detectDateOrder(['03/04/2021', '31/12/2020'])?.order).toBe('DMY');
    expect(detectDateOrder(['03/04/2021', '11/12/2020'])?.order).toBe('ambiguous');
  });
});

describe('money and numbers', () => {
  it('parses currency formats into exact amountMicros', () => {
    expect(money('$1,234.50', 'USD')).toEqual({
      ok: true,
      value: { amountMicros: 1_234_500_000, currencyCode: 'USD' },
    });
    expect(money('(12.00)', 'USD')).toMatchObject({ value: { amountMicros: -12_000_000 } });
    expect(money('1.234,50', 'EUR')).toMatchObject({
      value: { amountMicros: 1_234_500_000, currencyCode: 'EUR' },
    });
    expect(money('0.1', 'USD')).toMatchObject({ value: { amountMicros: 100_000 } });
  });
  it('rejects INVALID_NUMBER on non-numeric input', () => {
    expect(money('twelve', 'USD')).toMatchObject({ ok: false, reason: 'INVALID_NUMBER' });
    expect(number('1,2,3.4.5')).toMatchObject({ ok: false, reason: 'INVALID_NUMBER' });
    expect(number('-1,500.25')).toEqual({ ok: true, value: -1500.25 });
  });
  it('reads boolean spellings and rejects INVALID_BOOLEAN otherwise', () => {
    expect(['Y', 'yes', '1', 'TRUE', 'x'].map((v) => boolean(v))).toEqual(
      Array(5).fill({ ok: true, value: true }),
    );
    expect(['N', 'no', '0', 'false'].map((v) => boolean(v))).toEqual(
      Array(4).fill({ ok: true, value: false }),
    );
    expect(boolean('maybe')).toMatchObject({ ok: false, reason: 'INVALID_BOOLEAN' });
  });
});

describe('US state, ZIP and address', () => {
  it('maps state names and codes to USPS codes', () => {
    expect(usState('new york')).toEqual({ ok: true, value: 'NY' });
    expect(usState('ca')).toEqual({ ok: true, value: 'CA' });
    expect(usState('Ontario')).toEqual({ ok: true, value: 'Ontario', warnings: ['STATE_UNRECOGNIZED'] });
  });
  it('restores leading zeros lost by spreadsheets', () => {
    expect(zip('6103')).toEqual({ ok: true, value: '06103', warnings: ['ZIP_RESTORED'] });
    expect(zip('61031234')).toEqual({ ok: true, value: '06103-1234', warnings: ['ZIP_RESTORED'] });
    expect(zip('10001')).toEqual({ ok: true, value: '10001' });
  });
  it('builds the ADDRESS composite with US normalization', () => {
    expect(
      address({ street1: '1 Elm St', city: 'Hartford', state: 'Connecticut', postcode: '6103' }, 'US'),
    ).toEqual({
      ok: true,
      value: {
        addressStreet1: '1 Elm St',
        addressStreet2: '',
        addressCity: 'Hartford',
        addressState: 'CT',
        addressPostcode: '06103',
        addressCountry: 'United States',
      },
      warnings: ['ZIP_RESTORED'],
    });
  });
});

describe('select', () => {
  it('produces GraphQL enum option values', () => {
    expect(toOptionValue('REJECTED-RESUBMIT')).toBe('REJECTED_RESUBMIT');
    expect(toOptionValue('In Review')).toBe('IN_REVIEW');
    expect(toOptionValue('2nd visit')).toBe('_2ND_VISIT');
    expect(toOptionValue('Évalué')).toBe('EVALUE');
  });
  it('maps values case-insensitively and handles unmapped values per rule', () => {
    const base = { valueMap: { 'Delta Dental': 'DELTA_DENTAL' } };
    expect(select(' delta  dental ', compileSelect({ ...base, unmapped: 'reject' }))).toEqual({
      ok: true,
      value: 'DELTA_DENTAL',
    });
    expect(select('Humana', compileSelect({ ...base, unmapped: 'reject' }))).toMatchObject({
      ok: false,
      reason: 'UNMAPPED_VALUE',
    });
    expect(select('Humana', compileSelect({ ...base, unmapped: 'default', default: 'OTHER' }))).toEqual({
      ok: true,
      value: 'OTHER',
      warnings: ['VALUE_DEFAULTED'],
    });
    expect(select('Humana Inc.', compileSelect({ ...base, unmapped: 'addOption' }))).toEqual({
      ok: true,
      value: 'HUMANA_INC',
      warnings: ['OPTION_ADDED'],
    });
  });
  it('splits multiSelect cells and de-duplicates', () => {
    const c = compileSelect({ valueMap: { Fluoride: 'FLUORIDE', Sealant: 'SEALANT' }, unmapped: 'reject' });
    expect(multiSelect('Fluoride; sealant;FLUORIDE', c, ';')).toEqual({
      ok: true,
      value: ['FLUORIDE', 'SEALANT'],
    });
  });
});

describe('richText and links', () => {
  it('keeps line breaks and escapes markdown markers minimally', () => {
    expect(richText('Line *one*\r\n# not a heading\n\nPara 2')).toEqual({
      ok: true,
      value: { markdown: 'Line \\*one\\*\\\n\\# not a heading\n\nPara 2', blocknote: null },
    });
  });
  it('normalizes websites and drops non-URLs with a warning', () => {
    expect(links(['WWW.Example.com/'])).toEqual({
      ok: true,
      value: { primaryLinkUrl: 'https://www.example.com', primaryLinkLabel: '', secondaryLinks: [] },
    });
    expect(links(['not a url'])).toEqual({ ok: true, value: null, warnings: ['LINK_DROPPED'] });
  });
});
