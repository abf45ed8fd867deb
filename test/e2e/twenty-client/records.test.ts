import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthError, NotFoundError } from '../../../lambdas/core/errors.ts';
import { MemoryRateLimitStore } from '../../../lambdas/core/rate-limit/memory-rate-limit-store.ts';
import { parseRate } from '../../../lambdas/core/rate-limit/rate-spec.ts';
import { SharedBucketGate } from '../../../lambdas/core/rate-limit/shared-bucket-gate.ts';
import { bucketPolicy } from '../../../lambdas/core/rate-limit/token-bucket.ts';
import { workspaceKey } from '../../../lambdas/core/rate-limit/workspace-key.ts';
import { systemClock } from '../../../lambdas/ports/clock.ts';
import { TwentyClient } from '../../../lambdas/twenty/client.ts';
import { where } from '../../../lambdas/twenty/filter.ts';
import { dumpRecords, type RunningSandbox, sandboxAndClient, syntheticPerson, testId } from './helpers.ts';

describe.each(['v1', 'v2'] as const)('TwentyClient against the %s sandbox', (flavor) => {
  let sandbox: RunningSandbox;
  let client: TwentyClient;

  beforeAll(async () => {
    ({ sandbox, client } = await sandboxAndClient(
      {
        flavor,
        batchMax: 60,
        members: [{ email: 'Dr.Owner@Example.test', firstName: 'Owner', lastName: 'Synthetic' }],
      },
      { batchMax: 60 },
    ));
  });
  afterAll(async () => {
    await sandbox?.stop();
  });

  it('splits a large createMany into batches under the cap and writes every record once', async () => {
    const before = client.stats().requests;
    const records = Array.from({ length: 150 }, (_, i) => syntheticPerson(1, i));
    const result = await client.createMany('people', records);
    expect(result.failed).toEqual([]);
    expect(result.written).toHaveLength(150);
    expect(client.stats().requests - before).toBe(3);
    const stored = (await dumpRecords(sandbox, 'person')).filter((r) =>
      r.id.startsWith(testId(1, 0).slice(0, 8)),
    );
    expect(stored).toHaveLength(150);
  });

  it("gets Twenty's 400 for an explicit over-cap batch and the client adapts to the announced cap", async () => {
    const raw = await fetch(`${sandbox.url}/rest/batch/people?upsert=true`, {
      method: 'POST',
      headers: { authorization: `Bearer ${sandbox.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(Array.from({ length: 61 }, (_, i) => syntheticPerson(2, i))),
    });
    expect(raw.status).toBe(400);
    expect(JSON.stringify(await raw.json())).toContain('Maximum number of records to upsert is 60');
    const eager = new TwentyClient({ baseUrl: sandbox.url, apiKey: sandbox.apiKey, batchMax: 100 });
    const result = await eager.createMany(
      'people',
      Array.from({ length: 130 }, (_, i) => syntheticPerson(3, i)),
    );
    expect(result.written).toHaveLength(130);
    expect(eager.batchMax).toBe(60);
    expect(eager.stats().byStatus['400']).toBe(1);
  });

  it('remembers the announced cap per workspace: a later client starts there and pays no refused request', async () => {
    const store = new MemoryRateLimitStore();
    const gate = () =>
      new SharedBucketGate({
        store,
        workspaceKey: workspaceKey(sandbox.url),
        policy: bucketPolicy(parseRate('6000/60s')),
        clock: systemClock,
      });
    const first = new TwentyClient({ baseUrl: sandbox.url, apiKey: sandbox.apiKey, limiter: gate() });
    await first.createMany(
      'people',
      Array.from({ length: 70 }, (_, i) => syntheticPerson(9, i)),
    );
    expect(first.stats().byStatus['400']).toBe(1);
    expect(await store.loadCaps(workspaceKey(sandbox.url))).toEqual({ batchMax: 60 });
    // A new client (the next LoadChunk tick, another Lambda) of the same workspace.
    const next = new TwentyClient({ baseUrl: sandbox.url, apiKey: sandbox.apiKey, limiter: gate() });
    expect(await next.settleBatchCap()).toBe(60);
    const result = await next.createMany(
      'people',
      Array.from({ length: 70 }, (_, i) => syntheticPerson(10, i)),
    );
    expect(result.written).toHaveLength(70);
    expect(next.stats().byStatus['400']).toBeUndefined();
    // --batch-max stays an upper bound: a client configured lower keeps its own bound.
    const bounded = new TwentyClient({
      baseUrl: sandbox.url,
      apiKey: sandbox.apiKey,
      limiter: gate(),
      batchMax: 25,
    });
    expect(await bounded.settleBatchCap()).toBe(25);
  });

  it('revives a soft-deleted row when the same id is upserted again', async () => {
    const person = syntheticPerson(4, 1);
    await client.createMany('people', [person]);
    await client.softDelete('people', person.id);
    expect((await dumpRecords(sandbox, 'person')).find((r) => r.id === person.id)?.deletedAt).toBeTruthy();
    const result = await client.createMany('people', [{ ...person, jobTitle: 'Revived' }]);
    expect(result.written.map((w) => w.id)).toEqual([person.id]);
    const back = await client.findOne('people', person.id);
    expect(back.deletedAt ?? null).toBeNull();
    expect(back.jobTitle).toBe('Revived');
  });

  it('reports a unique email held by a soft-deleted person without echoing it, until that row is destroyed', async () => {
    const holder = syntheticPerson(5, 1);
    await client.createMany('people', [holder]);
    await client.softDelete('people', holder.id);
    const newcomer = syntheticPerson(5, 2, { emails: holder.emails });
    const refused = await client.createMany('people', [newcomer], { upsert: false });
    expect(refused.written).toEqual([]);
    expect(refused.failed).toHaveLength(1);
    expect(refused.failed[0]?.id).toBe(newcomer.id);
    expect(refused.failed[0]?.reason.toLowerCase()).toContain('duplicate');
    expect(refused.failed[0]?.reason).not.toContain('example.test');
    expect(await client.destroy('people', holder.id)).toBe(true);
    const accepted = await client.createMany('people', [newcomer], { upsert: false });
    expect(accepted.written.map((w) => w.id)).toEqual([newcomer.id]);
  });

  it('isolates an in-batch email collision: before sending by default, by bisection when Twenty sees it', async () => {
    const records = Array.from({ length: 40 }, (_, i) => syntheticPerson(6, i));
    records[30] = syntheticPerson(6, 30, { emails: records[10]!.emails });
    const prechecked = await client.createMany('people', records);
    expect(prechecked.failed.map((f) => f.index)).toEqual([30]);
    expect(prechecked.written).toHaveLength(39);

    const fresh = Array.from({ length: 40 }, (_, i) => syntheticPerson(7, i));
    fresh[25] = syntheticPerson(7, 25, { emails: fresh[5]!.emails });
    const before = client.stats().byStatus['400'] ?? 0;
    const bisected = await client.createMany('people', fresh, { checkCollisions: false, upsert: false });
    expect((client.stats().byStatus['400'] ?? 0) - before).toBeGreaterThan(0);
    expect(bisected.written.length + bisected.failed.length).toBe(40);
    expect(bisected.failed.map((f) => f.index)).toEqual([25]);
    const stored = (await dumpRecords(sandbox, 'person')).filter((r) =>
      r.id.startsWith(testId(7, 0).slice(0, 8)),
    );
    expect(stored.map((r) => r.id).sort()).toEqual(bisected.written.map((w) => w.id).sort());
  });

  it('pages through every record with cursors in bounded pages', async () => {
    const records = Array.from({ length: 430 }, (_, i) => syntheticPerson(8, i));
    await client.createMany('people', records, { concurrency: 2 });
    const before = client.stats().requests;
    const ids: string[] = [];
    for await (const record of client.findMany('people', {
      filter: where('name.firstName', 'startsWith', 'Given'),
      orderBy: [{ field: 'id' }],
      limit: 50,
      fields: ['name'],
    })) {
      if (record.id.startsWith(testId(8, 0).slice(0, 8))) ids.push(record.id);
    }
    expect(ids).toEqual(records.map((r) => r.id).sort());
    expect(client.stats().requests - before).toBeGreaterThan(8);
  });

  it('filters on composite sub-fields, in-lists and combinators', async () => {
    const group = Array.from({ length: 20 }, (_, i) => syntheticPerson(9, i));
    await client.createMany('people', group);
    const chosen = [group[2]!, group[11]!];
    const byEmail = await client.findAll('people', {
      filter: where(
        'emails.primaryEmail',
        'in',
        chosen.map((p) => (p.emails as { primaryEmail: string }).primaryEmail),
      ),
    });
    expect(byEmail.map((p) => p.id).sort()).toEqual(chosen.map((p) => p.id).sort());
    const byIds = await client.findAll('people', {
      filter: {
        and: [
          where(
            'id',
            'in',
            group.map((p) => p.id),
          ),
          where('name.lastName', 'eq', 'Family3'),
        ],
      },
    });
    expect(byIds.map((p) => p.id).sort()).toEqual(
      group
        .filter((_, i) => i % 7 === 3)
        .map((p) => p.id)
        .sort(),
    );
    const notEven = await client.findAll('people', {
      filter: {
        and: [
          where(
            'id',
            'in',
            group.map((p) => p.id),
          ),
          { not: where('jobTitle', 'eq', 'Even') },
        ],
      },
    });
    expect(notEven).toHaveLength(10);
  });

  it('updates, restores, destroys and destroys by filter', async () => {
    const [a, b, c, d] = [1, 2, 3, 4].map((n) => syntheticPerson(10, n));
    await client.createMany('people', [a!, b!, c!, d!]);
    expect((await client.update('people', a!.id, { jobTitle: 'Updated' })).jobTitle).toBe('Updated');
    await client.softDelete('people', b!.id);
    const restored = await client.restore('people', b!.id);
    expect(restored.deletedAt ?? null).toBeNull();
    expect(await client.destroy('people', a!.id)).toBe(true);
    await expect(client.findOne('people', a!.id)).rejects.toBeInstanceOf(NotFoundError);
    expect(await client.destroy('people', a!.id)).toBe(false);
    expect(await client.destroyMany('people', where('id', 'in', [c!.id, d!.id]))).toBe(2);
    expect(
      (await dumpRecords(sandbox, 'person')).filter((r) => [a!.id, c!.id, d!.id].includes(r.id)),
    ).toEqual([]);
  });

  it('lists workspace members with their emails', async () => {
    const members = await client.members();
    expect(members).toHaveLength(1);
    expect(members[0]).toMatchObject({ firstName: 'Owner', lastName: 'Synthetic' });
    expect(members[0]?.userEmail.toLowerCase()).toBe('dr.owner@example.test');
  });

  it('throws AuthError with a fixed message for a wrong API key', async () => {
    const intruder = new TwentyClient({ baseUrl: sandbox.url, apiKey: 'wrong-key' });
    const error = await intruder.findAll('people').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthError);
    expect((error as Error).message).toBe('Twenty rejected the API key (403)');
  });
});
