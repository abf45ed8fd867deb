import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmbeddedDynamo, startEmbeddedDynamo } from '../../../lib/local/embedded-dynamodb.ts';
import { type RunningSandbox, startSandbox } from '../../../lib/sandbox/index.ts';
import { runLoaderFleet } from './loader-fleet.ts';

/** The sandbox's one window, also given to the bucket: loaders configured at Twenty's own rate. */
const RATE = { limit: 20, windowMs: 1000 };
const BATCH_MAX = 60;
/** Requests per scenario: enough that a single 429 more than 1% would show (≈ 7 s at 18/s). */
const REQUESTS = 120;

describe('concurrent loaders sharing one DynamoDB token bucket', () => {
  let sandbox: RunningSandbox;
  let dynamo: EmbeddedDynamo;

  beforeAll(async () => {
    sandbox = await startSandbox({ rateShort: RATE, rateLong: null, batchMax: BATCH_MAX });
    dynamo = await startEmbeddedDynamo();
  });

  afterAll(async () => {
    await sandbox?.stop();
    await dynamo?.stop();
  });

  for (const [scenario, loaders] of [
    [1, 2],
    [2, 4],
  ] as const) {
    it(`keeps 429s at or below 1% and writes every record exactly once with ${loaders} loaders`, async () => {
      const before = await sandbox.stats();
      const result = await runLoaderFleet({
        sandbox,
        dynamo,
        rate: RATE,
        loaders,
        recordsPerLoader: (REQUESTS / loaders) * BATCH_MAX,
        batchMax: BATCH_MAX,
        scenario,
      });
      const after = await sandbox.stats();

      const requests = after.totalRequests - before.totalRequests;
      const throttled = after.rateLimited - before.rateLimited;
      expect(result.failed).toBe(0);
      expect(result.written).toBe(result.sent);
      expect(requests).toBeGreaterThanOrEqual(REQUESTS);
      expect(throttled / requests).toBeLessThanOrEqual(0.01);
      expect(result.client.throttled).toBe(throttled);

      const people = (await sandbox.dump()).records.person ?? [];
      const counts = new Map<string, number>();
      for (const person of people) {
        const id = String(person.id);
        counts.set(id, (counts.get(id) ?? 0) + 1);
      }
      const missing = result.ids.filter((id) => counts.get(id) === undefined);
      const duplicated = result.ids.filter((id) => (counts.get(id) ?? 0) > 1);
      expect(missing).toEqual([]);
      expect(duplicated).toEqual([]);
      const emails = people
        .map((p) => (p.emails as { primaryEmail?: string } | undefined)?.primaryEmail ?? '')
        .filter((email) => email.startsWith(`s${scenario}-`));
      expect(new Set(emails).size).toBe(result.sent);
      expect(emails.length).toBe(result.sent);
    });
  }
});
