import { afterEach, describe, expect, it } from 'vitest';
import { AuthError, NotFoundError, RateLimitedError, TransientError } from '../../../lambdas/core/errors.ts';
import type { RequestGate, TwentyRecord } from '../../../lambdas/ports/twenty.ts';
import { TwentyClient } from '../../../lambdas/twenty/client.ts';
import { type FakeHandler, type FakeReply, fakeClock, startFakeTwenty } from './fake-twenty.ts';

const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (stops.length > 0) await stops.pop()!();
});

async function setup(
  handler: FakeHandler,
  options: Partial<ConstructorParameters<typeof TwentyClient>[0]> = {},
) {
  const server = await startFakeTwenty(handler);
  stops.push(server.stop);
  const clock = fakeClock();
  const client = new TwentyClient({
    baseUrl: server.url,
    apiKey: 'test-key',
    clock,
    random: () => 0.5,
    timeoutMs: 2_000,
    ...options,
  });
  return { server, clock, client };
}

const uuid = (n: number) => `00000000-0000-4000-8000-${n.toString().padStart(12, '0')}`;
const person = (n: number, extra: Record<string, unknown> = {}): TwentyRecord => ({
  id: uuid(n),
  name: { firstName: `First${n}`, lastName: 'Synthetic' },
  emails: { primaryEmail: `p${n}@example.test`, additionalEmails: [] },
  ...extra,
});
const created = (req: { body: unknown }): FakeReply => ({
  status: 201,
  body: { data: { createPeople: req.body } },
});

describe('TwentyTransport failure policy', () => {
  it('throws a terminal AuthError without retrying when Twenty answers 403', async () => {
    const { client, server } = await setup(() => ({
      status: 403,
      body: { messages: ['Forbidden resource'] },
    }));
    const error = await client.findOne('people', uuid(1)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthError);
    expect((error as Error).message).toBe('Twenty rejected the API key (403)');
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]?.headers.authorization).toBe('Bearer test-key');
  });

  it('treats 401 as an auth failure too', async () => {
    const { client } = await setup(() => ({ status: 401, body: {} }));
    await expect(client.findOne('people', uuid(1))).rejects.toBeInstanceOf(AuthError);
  });

  it('throws NotFoundError on 404 and destroy reports an already-missing row as false', async () => {
    const { client } = await setup(() => ({ status: 404, body: { messages: ['not found'] } }));
    await expect(client.findOne('people', uuid(1))).rejects.toBeInstanceOf(NotFoundError);
    await expect(client.destroy('people', uuid(1))).resolves.toBe(false);
  });

  it('retries 5xx with full-jitter exponential backoff and then succeeds', async () => {
    const { client, clock } = await setup(
      (_req, i) =>
        i < 3
          ? { status: i === 1 ? 503 : 500, body: {} }
          : { status: 200, body: { data: { person: { id: uuid(1) } } } },
      { baseBackoffMs: 100, maxBackoffMs: 1_000 },
    );
    await expect(client.findOne('people', uuid(1))).resolves.toEqual({ id: uuid(1) });
    expect(clock.sleeps).toEqual([50, 100, 200]);
    expect(client.stats()).toMatchObject({
      requests: 4,
      retries: 3,
      byStatus: { '500': 2, '503': 1, '200': 1 },
    });
  });

  it('caps the backoff ceiling at maxBackoffMs', async () => {
    const { client, clock } = await setup(() => ({ status: 502, body: {} }), {
      baseBackoffMs: 100,
      maxBackoffMs: 300,
      maxRetries: 4,
      random: () => 0.999,
    });
    await expect(client.findOne('people', uuid(1))).rejects.toBeInstanceOf(TransientError);
    expect(clock.sleeps).toEqual([99, 199, 299, 299]);
  });

  it('gives up with a TransientError named for ASL Retry after maxRetries server errors', async () => {
    const { client, server } = await setup(() => ({ status: 500, body: { messages: ['secret value'] } }), {
      maxRetries: 2,
    });
    const error = (await client.findOne('people', uuid(1)).catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(TransientError);
    expect(error.name).toBe('TransientError');
    expect(error.message).toBe('Twenty answered 500 on GET /rest/people/:id after 3 attempts');
    expect(server.requests).toHaveLength(3);
  });

  it('retries a reset connection and counts it as a network error', async () => {
    const { client } = await setup((_req, i) =>
      i === 0 ? 'reset' : { status: 200, body: { data: { person: { id: uuid(2) } } } },
    );
    await expect(client.findOne('people', uuid(2))).resolves.toEqual({ id: uuid(2) });
    expect(client.stats().networkErrors).toBe(1);
  });

  it('times out a stalled request and ends with a TransientError naming the timeout', async () => {
    const { client, server } = await setup(() => ({ stallMs: 400, status: 200, body: {} }), {
      timeoutMs: 100,
      maxRetries: 1,
    });
    const error = (await client.findOne('people', uuid(1)).catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(TransientError);
    expect(error.message).toContain('(timeout)');
    expect(server.requests).toHaveLength(2);
  });

  it('waits Retry-After on a v2 429 and reports it to the gate', async () => {
    const throttled: number[] = [];
    let acquired = 0;
    let succeeded = 0;
    const gate: RequestGate = {
      acquire: async () => {
        acquired++;
      },
      onThrottled: (ms) => throttled.push(ms),
      onSuccess: () => {
        succeeded++;
      },
    };
    const { client, clock } = await setup(
      (_req, i) =>
        i === 0
          ? {
              status: 429,
              headers: { 'retry-after': '2' },
              body: { error: 'RATE_LIMITED', retryAfterSeconds: 2 },
            }
          : { status: 200, body: { data: { person: { id: uuid(1) } } } },
      { limiter: gate },
    );
    await client.findOne('people', uuid(1));
    expect(clock.sleeps).toEqual([2000]);
    expect(throttled).toEqual([2000]);
    expect(acquired).toBe(2);
    expect(succeeded).toBe(1);
    expect(client.stats().throttled).toBe(1);
  });

  it('uses retryAfterSeconds from the body when the header is missing', async () => {
    const { client, clock } = await setup((_req, i) =>
      i === 0
        ? { status: 429, body: { retryAfterSeconds: 3 } }
        : { status: 200, body: { data: { x: { id: uuid(1) } } } },
    );
    await client.findOne('people', uuid(1));
    expect(clock.sleeps).toEqual([3000]);
  });

  it('derives the v1 wait from the window in the message, bounded by maxThrottleWaitMs', async () => {
    const reply = (i: number): FakeReply =>
      i === 0
        ? { status: 429, body: { statusCode: 429, messages: ['Limit reached (100 tokens per 60000 ms)'] } }
        : { status: 200, body: { data: { x: { id: uuid(1) } } } };
    const bounded = await setup((_req, i) => reply(i), { maxThrottleWaitMs: 5_000 });
    await bounded.client.findOne('people', uuid(1));
    expect(bounded.clock.sleeps).toEqual([5000]);
    const short = await setup((_req, i) =>
      i === 0
        ? { status: 429, body: { messages: ['Limit reached (5 tokens per 1000 ms)'] } }
        : { status: 200, body: { data: { x: { id: uuid(1) } } } },
    );
    await short.client.findOne('people', uuid(1));
    expect(short.clock.sleeps).toEqual([1000]);
  });

  it('throws RateLimitedError carrying the wait when Twenty keeps answering 429', async () => {
    const { client } = await setup(() => ({ status: 429, headers: { 'retry-after': '1' }, body: {} }), {
      maxThrottleRetries: 3,
    });
    const error = await client.findOne('people', uuid(1)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitedError);
    expect((error as RateLimitedError).retryAfterMs).toBe(1000);
    expect(client.stats().requests).toBe(4);
  });

  it('logs routes, statuses and waits but never a payload or a filter value', async () => {
    const lines: string[] = [];
    const log = {
      debug: (m: string, f?: object) => lines.push(m + JSON.stringify(f)),
      info: (m: string, f?: object) => lines.push(m + JSON.stringify(f)),
      warn: (m: string, f?: object) => lines.push(m + JSON.stringify(f)),
      error: (m: string, f?: object) => lines.push(m + JSON.stringify(f)),
    };
    const { client } = await setup(
      (req, i) => (i % 2 === 0 ? { status: 503, body: { messages: ['canary-9931'] } } : created(req)),
      { log },
    );
    await client.createMany('people', [person(9931, { jobTitle: 'canary-9931' })]);
    await client
      .findAll('people', { filter: { field: 'jobTitle', op: 'eq', value: 'canary-9931' } })
      .catch(() => undefined);
    expect(lines.length).toBeGreaterThan(2);
    expect(lines.join('\n')).not.toMatch(/canary|p9931@/);
  });

  it('keeps filter values out of error messages', async () => {
    const { client } = await setup(() => ({ status: 500, body: {} }), { maxRetries: 0 });
    const error = (await client
      .findAll('people', { filter: { field: 'emails.primaryEmail', op: 'eq', value: 'secret@example.test' } })
      .catch((e: unknown) => e)) as Error;
    expect(error.message).not.toContain('secret');
    expect(error.message).toContain('GET /rest/people');
  });
});

describe('TwentyClient.createMany', () => {
  /** A batch endpoint that refuses any batch holding a record flagged `bad`, echoing its email. */
  function strictBatch(store: Map<string, unknown>): FakeHandler {
    return (req) => {
      const rows = req.body as Array<Record<string, unknown>>;
      const bad = rows.find((row) => row.bad === true);
      if (bad) {
        const email = (bad.emails as { primaryEmail: string }).primaryEmail;
        return {
          status: 400,
          body: {
            statusCode: 400,
            error: 'BadRequestException',
            messages: [`Field "bad" is unknown; value "${email}"`],
          },
        };
      }
      for (const row of rows) store.set(row.id as string, row);
      return created(req);
    };
  }

  it('sends at most batchMax records per request with upsert=true', async () => {
    const store = new Map<string, unknown>();
    const { client, server } = await setup(strictBatch(store), { batchMax: 25 });
    const records = Array.from({ length: 130 }, (_, i) => person(i));
    const result = await client.createMany('people', records);
    expect(result.failed).toEqual([]);
    expect(result.written.map((w) => w.index)).toEqual(records.map((_, i) => i));
    expect(server.requests.map((r) => (r.body as unknown[]).length)).toEqual([25, 25, 25, 25, 25, 5]);
    expect(
      server.requests.every((r) => r.path === '/rest/batch/people' && r.query.get('upsert') === 'true'),
    ).toBe(true);
    // Nothing is read back from a batch write: Twenty is not asked for related records.
    expect(server.requests.every((r) => r.query.get('depth') === '0')).toBe(true);
    expect(store.size).toBe(130);
  });

  it('isolates bad records by bisection and never loses or duplicates a good one', async () => {
    const store = new Map<string, unknown>();
    const { client, server } = await setup(strictBatch(store));
    const records = Array.from({ length: 60 }, (_, i) => person(i, i === 7 || i === 42 ? { bad: true } : {}));
    const result = await client.createMany('people', records);
    expect(result.failed.map((f) => [f.index, f.id])).toEqual([
      [7, uuid(7)],
      [42, uuid(42)],
    ]);
    expect(result.written).toHaveLength(58);
    expect(store.size).toBe(58);
    const accepted = server.requests
      .filter((_r, i) => i > 0)
      .flatMap((r) => (r.body as Array<{ id: string }>).map((x) => x.id));
    expect(server.requests.length).toBeLessThan(30);
    expect(new Set(accepted).size).toBeGreaterThanOrEqual(58);
  });

  it("reports Twenty's reason with the echoed value masked", async () => {
    const { client } = await setup(strictBatch(new Map()));
    const result = await client.createMany('people', [person(1, { bad: true })]);
    expect(result.failed[0]?.reason).toBe('Field "«…»" is unknown; value "«…»"');
    expect(JSON.stringify(result)).not.toContain('p1@example.test');
  });

  it('lowers the batch size when Twenty announces a smaller cap and still writes everything', async () => {
    const store = new Map<string, unknown>();
    const { client, server } = await setup((req) => {
      const rows = req.body as Array<{ id: string }>;
      if (rows.length > 10) {
        return {
          status: 400,
          body: { statusCode: 400, messages: ['Maximum number of records to upsert is 10.'] },
        };
      }
      for (const row of rows) store.set(row.id, row);
      return created(req);
    });
    const result = await client.createMany(
      'people',
      Array.from({ length: 95 }, (_, i) => person(i)),
    );
    expect(result.failed).toEqual([]);
    expect(store.size).toBe(95);
    expect(client.batchMax).toBe(10);
    expect(server.requests.filter((r) => (r.body as unknown[]).length > 10)).toHaveLength(1);
  });

  it('fails records without a UUID id or colliding on a unique key before sending them', async () => {
    const store = new Map<string, unknown>();
    const { client, server } = await setup(strictBatch(store));
    const records = [
      person(1),
      { ...person(2), id: 'not-a-uuid' },
      person(3, { emails: { primaryEmail: 'P1@example.test ', additionalEmails: [] } }),
      person(1, { name: { firstName: 'Again', lastName: 'Same id' } }),
      person(4),
    ];
    const result = await client.createMany('people', records);
    expect(result.failed.map((f) => [f.index, f.reason])).toEqual([
      [1, 'id: missing or not a UUID (Ferry sends deterministic ids)'],
      [2, 'emails.primaryEmail: same value as record 0 of this batch (unique in Twenty)'],
      [3, 'id: same value as record 0 of this batch (unique in Twenty)'],
    ]);
    expect(result.written.map((w) => w.index)).toEqual([0, 4]);
    expect(server.requests).toHaveLength(1);
    expect(JSON.stringify(result.failed)).not.toContain('example.test');
  });

  it('runs several batches concurrently when asked and still returns results in input order', async () => {
    let inFlight = 0;
    let peak = 0;
    const { client } = await setup(
      async (req) => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 20));
        inFlight--;
        return created(req);
      },
      { batchMax: 10 },
    );
    const result = await client.createMany(
      'people',
      Array.from({ length: 80 }, (_, i) => person(i)),
      { concurrency: 4 },
    );
    expect(peak).toBe(4);
    expect(result.written.map((w) => w.index)).toEqual(Array.from({ length: 80 }, (_, i) => i));
  });

  it('propagates a TransientError when a batch keeps failing with 5xx', async () => {
    const { client } = await setup(() => ({ status: 503, body: {} }), { maxRetries: 1 });
    await expect(client.createMany('people', [person(1)])).rejects.toBeInstanceOf(TransientError);
  });
});

describe('TwentyClient.findMany', () => {
  it('walks every page with starting_after cursors', async () => {
    const all = Array.from({ length: 250 }, (_, i) => ({ id: uuid(i), secret: 'x', jobTitle: `t${i}` }));
    const { client, server } = await setup((req) => {
      const limit = Math.min(Number(req.query.get('limit')), 100);
      const after = req.query.get('starting_after');
      const start = after ? all.findIndex((r) => r.id === after) + 1 : 0;
      const page = all.slice(start, start + limit);
      return {
        status: 200,
        body: {
          data: { people: page },
          totalCount: all.length,
          pageInfo: {
            hasNextPage: start + limit < all.length,
            startCursor: page[0]?.id,
            endCursor: page.at(-1)?.id,
          },
        },
      };
    });
    const seen: string[] = [];
    for await (const record of client.findMany('people', {
      limit: 60,
      fields: ['jobTitle'],
      filter: { and: [{ field: 'id', op: 'in', value: [uuid(1), uuid(2)] }, 'jobTitle[is]:NOT_NULL'] },
      orderBy: [{ field: 'createdAt' }],
    })) {
      expect(record).not.toHaveProperty('secret');
      seen.push(record.id);
    }
    expect(seen).toEqual(all.map((r) => r.id));
    expect(server.requests).toHaveLength(5);
    expect(server.requests[0]?.query.get('filter')).toBe(
      `and(id[in]:[${uuid(1)},${uuid(2)}],jobTitle[is]:NOT_NULL)`,
    );
    expect(server.requests[0]?.query.get('order_by')).toBe('createdAt[AscNullsFirst]');
    // Twenty's default depth unless the caller asks otherwise.
    expect(server.requests[0]?.query.has('depth')).toBe(false);
  });

  it('asks for depth=0 on every page when the caller reads no related records', async () => {
    const all = Array.from({ length: 90 }, (_, i) => ({ id: uuid(i) }));
    const { client, server } = await setup((req) => {
      const after = req.query.get('starting_after');
      const start = after ? all.findIndex((r) => r.id === after) + 1 : 0;
      const page = all.slice(start, start + 60);
      return {
        status: 200,
        body: {
          data: { people: page },
          totalCount: all.length,
          pageInfo: { hasNextPage: start + 60 < all.length, endCursor: page.at(-1)?.id },
        },
      };
    });
    const seen: string[] = [];
    for await (const record of client.findMany('people', { fields: ['id'], depth: 0 })) seen.push(record.id);
    expect(seen).toHaveLength(90);
    expect(server.requests.map((r) => r.query.get('depth'))).toEqual(['0', '0']);
  });
});
