import { describe, expect, it } from 'vitest';
import { dumpRecords, recordingClock, sandboxAndClient, syntheticPerson, testId } from './helpers.ts';

const FAULTS = '429:0.05,500:0.03,503:0.02,reset:0.01';

describe.each(['v1', 'v2'] as const)('TwentyClient resilience against the %s sandbox', (flavor) => {
  it('completes under a tight rate limit and waits as Twenty tells it to', async () => {
    const clock = recordingClock();
    const throttledWaits: number[] = [];
    const { sandbox, client } = await sandboxAndClient(
      { flavor, rateShort: { limit: 4, windowMs: 400 }, rateLong: null },
      {
        clock,
        batchMax: 20,
        limiter: { acquire: async () => {}, onThrottled: (ms) => throttledWaits.push(ms) },
      },
    );
    try {
      const records = Array.from({ length: 300 }, (_, i) => syntheticPerson(30, i));
      const result = await client.createMany('people', records, { concurrency: 2 });
      expect(result.failed).toEqual([]);
      expect(result.written).toHaveLength(300);
      const stats = client.stats();
      expect(stats.throttled).toBeGreaterThan(0);
      expect(throttledWaits).toHaveLength(stats.throttled);
      if (flavor === 'v2') {
        // Retry-After is whole seconds: every wait is exactly what the header said.
        expect(throttledWaits.every((ms) => ms % 1000 === 0 && ms >= 1000)).toBe(true);
      } else {
        // v1 sends only "Limit reached (4 tokens per 400 ms)": the client waits one window.
        expect(new Set(throttledWaits)).toEqual(new Set([400]));
      }
      expect(clock.sleeps.filter((ms) => throttledWaits.includes(ms)).length).toBe(stats.throttled);
      expect(await dumpRecords(sandbox, 'person')).toHaveLength(300);
    } finally {
      await sandbox.stop();
    }
  });

  it('completes a load under injected faults with exact counts and no duplicates', async () => {
    const { sandbox, client } = await sandboxAndClient(
      { flavor, faults: FAULTS, seed: flavor === 'v2' ? 7 : 11 },
      { batchMax: 60, maxRetries: 8 },
    );
    try {
      const records = Array.from({ length: 1_500 }, (_, i) => syntheticPerson(31, i));
      const result = await client.createMany('people', records, { concurrency: 3 });
      expect(result.failed).toEqual([]);
      expect(result.written).toHaveLength(1_500);
      const read: string[] = [];
      for await (const record of client.findMany('people', { limit: 100, orderBy: [{ field: 'id' }] })) {
        read.push(record.id);
      }
      expect(read).toHaveLength(1_500);
      expect(new Set(read).size).toBe(1_500);
      await client.update('people', testId(31, 5), { jobTitle: 'After faults' });
      expect(await client.destroy('people', testId(31, 6))).toBe(true);
      const stored = await dumpRecords(sandbox, 'person');
      expect(stored).toHaveLength(1_499);
      expect(new Set(stored.map((r) => r.id)).size).toBe(1_499);
      expect(stored.every((r) => !r.deletedAt)).toBe(true);
      const stats = client.stats();
      expect(stats.retries).toBeGreaterThan(0);
      expect(
        stats.throttled + stats.networkErrors + (stats.byStatus['500'] ?? 0) + (stats.byStatus['503'] ?? 0),
      ).toBeGreaterThan(0);
    } finally {
      await sandbox.stop();
    }
  });
});
