import { describe, expect, it } from 'vitest';
import { deterministicId, recordId } from '../../../lambdas/core/mapping/ids.ts';
import { canonicalJson, contentHash } from '../../../lambdas/core/prepare/record.ts';

/** The first implementation of canonicalJson: every stored content hash was computed from its bytes. */
function referenceCanonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(referenceCanonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${referenceCanonicalJson(v)}`).join(',')}}`;
}

/** A deterministic pseudo-random value of mapped-record shapes: nested objects, arrays, odd keys. */
function randomValue(next: () => number, depth: number): unknown {
  const pick = Math.floor(next() * (depth > 3 ? 6 : 9));
  const keys = ['b', 'a', 'Z', 'é', 'primaryEmail', 'a b', '"q"', '10', '2', '\u0001', 'ü', 'id'];
  const text = ['', 'Ada', 'O\'Brien "Jr"', 'line\nbreak', '患者', '\u2028', 'emoji 😀'];
  switch (pick) {
    case 0:
      return null;
    case 1:
      return undefined;
    case 2:
      return next() < 0.5;
    case 3:
      return Math.round((next() - 0.5) * 1e6) / 100;
    case 4:
    case 5:
      return text[Math.floor(next() * text.length)];
    case 6:
    case 7: {
      const out: Record<string, unknown> = {};
      const n = Math.floor(next() * 5);
      for (let i = 0; i < n; i++)
        out[keys[Math.floor(next() * keys.length)] as string] = randomValue(next, depth + 1);
      return out;
    }
    default:
      return Array.from({ length: Math.floor(next() * 4) }, () => randomValue(next, depth + 1));
  }
}

describe('canonicalJson and contentHash', () => {
  const record = {
    data: {
      name: { firstName: 'Ada', lastName: 'Lovelace' },
      emails: { primaryEmail: 'ada@example.test', additionalEmails: ['b@example.test'] },
      score: 1.5,
      ok: true,
      none: null,
      skip: undefined,
      é: 'ü',
      z: [1, undefined, { b: 2, a: 1 }],
    },
    targets: [{ object: 'noteTargets', data: { id: 'x', personId: 'y' } }],
    file: undefined,
  };

  it('sorts keys at every level, leaves undefined keys out and hashes the same bytes as ever', () => {
    expect(canonicalJson(record)).toBe(
      '{"data":{"emails":{"additionalEmails":["b@example.test"],"primaryEmail":"ada@example.test"},' +
        '"name":{"firstName":"Ada","lastName":"Lovelace"},"none":null,"ok":true,"score":1.5,' +
        '"z":[1,null,{"a":1,"b":2}],"é":"ü"},"targets":[{"data":{"id":"x","personId":"y"},"object":"noteTargets"}]}',
    );
    // Stored in every id map: a different digest would make every record of a re-run "changed".
    expect(contentHash(record)).toBe('8bfef085c4782711c5fb8dd34eb156248f3a7d8e9b5f67af5bafc71db3d186a6');
  });

  it('gives the bytes of the first implementation for any value', () => {
    let seed = 42;
    const next = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed / 2_147_483_648;
    };
    for (let i = 0; i < 2_000; i++) {
      const value = randomValue(next, 0);
      expect(canonicalJson(value)).toBe(referenceCanonicalJson(value));
    }
    // A sparse array: a hole joins as an empty string, as before.
    const sparse: unknown[] = [1];
    sparse[2] = 3;
    expect(canonicalJson(sparse)).toBe(referenceCanonicalJson(sparse));
  });
});

describe('deterministicId', () => {
  it('keeps the UUIDv5 values every earlier run wrote', () => {
    expect(recordId('clinic-1', 'pbn', 'patients', 'P1')).toBe('db5e3636-1ae1-55b2-b51b-2d1255061cbe');
    expect(deterministicId(['a b', 'c'])).toBe('ecf8b32b-ab00-537c-8ae0-0b9740fc48e6');
    expect(deterministicId(['Zoë', '患者'], '0f0e0d0c-0b0a-4908-8706-050403020100')).toBe(
      'fbb2af9f-6dde-5b94-8178-2ebffd38a4a3',
    );
  });
});
