import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../lambdas/core/errors.ts';
import { sandboxOptionsFromFlags } from '../../../lib/cli/sandbox-command.ts';
import { parseFaultSpec, parseRate } from '../../../lib/sandbox/options.ts';
import { parseFilter, parseOrderBy } from '../../../lib/sandbox/query.ts';

describe('parseRate', () => {
  it('parses N/MS and off', () => {
    expect(parseRate('100/1000')).toEqual({ limit: 100, windowMs: 1000 });
    expect(parseRate('off')).toBeNull();
  });
  it('throws ConfigError on junk', () => {
    expect(() => parseRate('fast')).toThrow(ConfigError);
    expect(() => parseRate('0/1000')).toThrow(ConfigError);
  });
});

describe('parseFaultSpec', () => {
  it('parses the documented spec', () => {
    expect(parseFaultSpec('429:0.05,500:0.03,503:0.02,reset:0.01,slow:0.01@3000')).toEqual([
      { kind: '429', probability: 0.05 },
      { kind: '500', probability: 0.03 },
      { kind: '503', probability: 0.02 },
      { kind: 'reset', probability: 0.01 },
      { kind: 'slow', probability: 0.01, delayMs: 3000 },
    ]);
  });
  it('rejects unknown kinds and probabilities above one', () => {
    expect(() => parseFaultSpec('404:0.1')).toThrow(ConfigError);
    expect(() => parseFaultSpec('500:0.7,503:0.7')).toThrow(ConfigError);
  });
});

describe('parseFilter', () => {
  it('parses nested combinators, lists and quoted values', () => {
    expect(parseFilter('and(a[eq]:"x, y",or(b.c[in]:[1,2],not(d[is]:NULL)))')).toEqual({
      kind: 'and',
      items: [
        { kind: 'leaf', path: ['a'], op: 'eq', value: 'x, y' },
        {
          kind: 'or',
          items: [
            { kind: 'leaf', path: ['b', 'c'], op: 'in', value: ['1', '2'] },
            { kind: 'not', item: { kind: 'leaf', path: ['d'], op: 'is', value: 'NULL' } },
          ],
        },
      ],
    });
  });
  it('treats top-level commas as and', () => {
    expect(parseFilter('a[gt]:1,b[lt]:2')).toMatchObject({
      kind: 'and',
      items: [{ op: 'gt' }, { op: 'lt' }],
    });
  });
});

describe('parseOrderBy', () => {
  it('defaults to AscNullsFirst and maps Desc to nulls last', () => {
    expect(parseOrderBy('createdAt,name.lastName[Desc]')).toEqual([
      { path: ['createdAt'], descending: false, nullsFirst: true },
      { path: ['name', 'lastName'], descending: true, nullsFirst: false },
    ]);
  });
});

describe('sandboxOptionsFromFlags', () => {
  it('maps flags to options and persists by default', () => {
    expect(
      sandboxOptionsFromFlags({ port: '4000', rateShort: '10/1000', flavor: 'v1', batchMax: '200' }),
    ).toMatchObject({
      port: 4000,
      flavor: 'v1',
      dataDir: '.ferry/sandbox',
      batchMax: 200,
      rateShort: { limit: 10, windowMs: 1000 },
    });
    expect(sandboxOptionsFromFlags({ memory: true }).dataDir).toBeUndefined();
  });
  it('refuses contradictory or malformed flags', () => {
    expect(() => sandboxOptionsFromFlags({ memory: true, data: 'x' })).toThrow(ConfigError);
    expect(() => sandboxOptionsFromFlags({ flavor: 'v3' })).toThrow(ConfigError);
    expect(() => sandboxOptionsFromFlags({ port: 'abc' })).toThrow(ConfigError);
  });
});
