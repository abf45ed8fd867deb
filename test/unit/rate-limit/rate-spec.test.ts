import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../lambdas/core/errors.ts';
import { parseRate, ratePresets, requestsPerMinute } from '../../../lambdas/core/rate-limit/rate-spec.ts';

describe('parseRate', () => {
  it('returns the presets by name, case-insensitively', () => {
    expect(parseRate('cloud').windows).toEqual([{ limit: 50, windowMs: 60_000 }]);
    expect(parseRate('PRO').windows).toEqual([{ limit: 100, windowMs: 60_000 }]);
    expect(parseRate(' org ').windows).toEqual([{ limit: 200, windowMs: 60_000 }]);
    expect(parseRate('self-hosted')).toBe(ratePresets['self-hosted']);
    expect(ratePresets['self-hosted'].windows).toEqual([
      { limit: 100, windowMs: 1_000 },
      { limit: 100, windowMs: 60_000 },
    ]);
  });

  it('parses N/60s, N/1s, N/<ms>ms and N/min', () => {
    expect(parseRate('600/60s').windows).toEqual([{ limit: 600, windowMs: 60_000 }]);
    expect(parseRate('10/1s').windows).toEqual([{ limit: 10, windowMs: 1_000 }]);
    expect(parseRate('5/250ms').windows).toEqual([{ limit: 5, windowMs: 250 }]);
    expect(parseRate('50/min').windows).toEqual([{ limit: 50, windowMs: 60_000 }]);
    expect(parseRate('7/s').windows).toEqual([{ limit: 7, windowMs: 1_000 }]);
  });

  it('takes a short and a long window and sorts them shortest first', () => {
    const spec = parseRate('1000/60s+100/1s');
    expect(spec.windows).toEqual([
      { limit: 100, windowMs: 1_000 },
      { limit: 1000, windowMs: 60_000 },
    ]);
    expect(spec.label).toBe('100/1s+1000/60s');
    expect(requestsPerMinute(spec)).toBe(1000);
  });

  it.each([
    '',
    'fast',
    '0/60s',
    '-5/60s',
    '10/0s',
    '10/5ms',
    '1.5/60s',
    '10/60h',
    '1/1s+2/2s+3/3s',
    '10/1s+20/1000ms',
  ])('rejects %j with a ConfigError that names the option, not the value', (spec) => {
    let thrown: unknown;
    try {
      parseRate(spec, '--rate');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    const message = (thrown as Error).message;
    expect(message).toContain('--rate');
    if (spec.trim() !== '') expect(message).not.toContain(spec);
  });
});
