import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoRateLimitStore } from '../../../lambdas/adapters/dynamo-rate-limiter.ts';
import { parseRate } from '../../../lambdas/core/rate-limit/rate-spec.ts';
import { bucketPolicy, freshBucket, throttleBucket } from '../../../lambdas/core/rate-limit/token-bucket.ts';
import { workspaceKey } from '../../../lambdas/core/rate-limit/workspace-key.ts';
import { createDynamoRateLimiter } from '../../../lambdas/runtime/rate-limiter.ts';
import { type EmbeddedDynamo, startEmbeddedDynamo } from '../../../lib/local/embedded-dynamodb.ts';
import { maxInAnyWindow } from '../../unit/rate-limit/virtual-clock.ts';

let dynamo: EmbeddedDynamo;

beforeAll(async () => {
  dynamo = await startEmbeddedDynamo();
});

afterAll(async () => {
  await dynamo.stop();
});

describe('DynamoRateLimitStore', () => {
  it('round-trips a bucket and refuses a write against a stale version', async () => {
    const store = new DynamoRateLimitStore(dynamo.client, dynamo.tableNames.RateLimit);
    const policy = bucketPolicy(parseRate('self-hosted'));
    const state = throttleBucket(freshBucket(policy, 1_000_000), policy, 1_000_000, 1_500);
    expect(await store.save('roundtrip', state, undefined)).toBe(true);
    expect(await store.save('roundtrip', state, undefined)).toBe(false);
    const loaded = await store.load('roundtrip');
    expect(loaded?.version).toBe(1);
    expect(loaded?.state.tokens).toEqual([0, 0]);
    expect(loaded?.state.factor).toBeCloseTo(0.7);
    expect(loaded?.state.blockedUntil).toBe(1_001_500);
    expect(await store.save('roundtrip', state, 1)).toBe(true);
    expect(await store.save('roundtrip', state, 1)).toBe(false);
    expect(await store.load('absent')).toBeUndefined();
  });

  it("keeps a workspace's announced batch cap beside its bucket, the lowest one winning", async () => {
    const store = new DynamoRateLimitStore(dynamo.client, dynamo.tableNames.RateLimit);
    const policy = bucketPolicy(parseRate('self-hosted'));
    expect(await store.save('caps', freshBucket(policy, 1_000), undefined)).toBe(true);
    expect(await store.loadCaps('caps')).toEqual({});
    await store.saveCaps('caps', { batchMax: 60 });
    await store.saveCaps('caps', { batchMax: 100 });
    expect(await store.loadCaps('caps')).toEqual({ batchMax: 60 });
    await store.saveCaps('caps', { batchMax: 40 });
    expect(await store.loadCaps('caps')).toEqual({ batchMax: 40 });
    // The bucket item is untouched by the caps item.
    expect((await store.load('caps'))?.version).toBe(1);
  });
});

describe('createDynamoRateLimiter', () => {
  it('keeps four concurrent takers within the bucket, counting grants per window', async () => {
    const rate = '20/1s';
    const url = 'http://twenty.test/four-takers';
    const gates = Array.from({ length: 4 }, () =>
      createDynamoRateLimiter({
        client: dynamo.client,
        tableName: dynamo.tableNames.RateLimit,
        twentyUrl: url,
        rate,
      }),
    );
    const sent: number[] = [];
    const until = Date.now() + 3_000;
    await Promise.all(
      gates.map(async (gate) => {
        while (Date.now() < until) {
          await gate.acquire();
          sent.push(Date.now());
        }
      }),
    );
    expect(maxInAnyWindow(sent, 1_000)).toBeLessThanOrEqual(20);
    // 3 s at (20 − 2)/s plus the one-token burst, less scheduling slack
    expect(sent.length).toBeGreaterThanOrEqual(45);
    expect(gates.reduce((sum, g) => sum + g.stats.grants, 0)).toBe(sent.length);
  });

  it('makes a second process honour the Retry-After a first one reported', async () => {
    const url = 'http://twenty.test/retry-after';
    const options = {
      client: dynamo.client,
      tableName: dynamo.tableNames.RateLimit,
      twentyUrl: url,
      rate: '50/1s',
    };
    const reporter = createDynamoRateLimiter(options);
    const other = createDynamoRateLimiter(options);
    await reporter.acquire();
    await other.acquire();
    reporter.onThrottled(700);
    const reportedAt = Date.now();
    await reporter.acquire();
    expect(Date.now() - reportedAt).toBeGreaterThanOrEqual(690);
    const stored = await new DynamoRateLimitStore(dynamo.client, dynamo.tableNames.RateLimit).load(
      workspaceKey(url),
    );
    expect(stored?.state.factor).toBeLessThan(1);
    const started = Date.now();
    await other.acquire();
    // the other loader reads the shared block: its grant is after the block, not immediate
    expect(Date.now()).toBeGreaterThanOrEqual(reportedAt + 690);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('gives different workspaces independent buckets', () => {
    expect(workspaceKey('https://a.twenty.com/')).toBe(workspaceKey('https://A.twenty.com'));
    expect(workspaceKey('https://a.twenty.com')).not.toBe(workspaceKey('https://b.twenty.com'));
  });
});
