import { describe, expect, it } from 'vitest';
import { makeEngine, uuid } from './helpers.ts';

const person = (n: number, email?: string) => ({
  id: uuid(n),
  name: { firstName: `First${n}`, lastName: `Last${n}` },
  ...(email === undefined ? {} : { emails: { primaryEmail: email } }),
});

describe('sandbox records REST', () => {
  it('creates one record with client id and server-set timestamps', async () => {
    const { call, clock } = makeEngine();
    const answer = await call('POST', '/rest/people', { ...person(1), createdAt: '1999-01-01T00:00:00Z' });
    expect(answer.status).toBe(201);
    const created = answer.body.data.createPerson;
    expect(created.id).toBe(uuid(1));
    expect(created.createdAt).toBe(new Date(clock.now).toISOString());
    expect(created.createdBy.source).toBe('API');
    expect(created.emails).toEqual({ primaryEmail: '', additionalEmails: null });
  });

  it('returns create<Plural> for a batch and find one by id', async () => {
    const { call } = makeEngine();
    const batch = await call('POST', '/rest/batch/people', [person(1), person(2)]);
    expect(batch.status).toBe(201);
    expect(batch.body.data.createPeople).toHaveLength(2);
    const one = await call('GET', `/rest/people/${uuid(2)}`);
    expect(one.status).toBe(200);
    expect(one.body.data.person.name.firstName).toBe('First2');
  });

  it('answers 404 for a missing record and 400 for a bad UUID', async () => {
    const { call } = makeEngine();
    expect((await call('GET', `/rest/people/${uuid(9)}`)).status).toBe(404);
    const bad = await call('GET', '/rest/people/not-a-uuid');
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ statusCode: 400, error: 'BadRequestException' });
    expect((await call('POST', '/rest/people', { id: 'nope' })).status).toBe(400);
  });

  it('refuses a batch over the cap with Twenty’s message', async () => {
    const { call } = makeEngine({ batchMax: 3 });
    const answer = await call('POST', '/rest/batch/people', [person(1), person(2), person(3), person(4)]);
    expect(answer.status).toBe(400);
    expect(answer.body.messages).toEqual(['Maximum number of records to upsert is 3.']);
  });

  it('rejects unknown fields, wrong types and bad composites without echoing values', async () => {
    const { call } = makeEngine();
    const unknown = await call('POST', '/rest/people', { shoeSize: 'SECRET-VALUE' });
    expect(unknown.status).toBe(400);
    expect(JSON.stringify(unknown.body)).not.toContain('SECRET-VALUE');
    expect((await call('POST', '/rest/people', { jobTitle: 42 })).status).toBe(400);
    expect((await call('POST', '/rest/people', { name: { firstName: 'A', middle: 'B' } })).status).toBe(400);
    expect((await call('POST', '/rest/people', { emails: { primaryEmail: 'not an email' } })).status).toBe(
      400,
    );
    expect(
      (await call('POST', '/rest/opportunities', { amount: { amountMicros: '12', currencyCode: 'USD' } }))
        .status,
    ).toBe(400);
    expect((await call('POST', '/rest/opportunities', { stage: 'WON' })).status).toBe(400);
    expect(
      (await call('POST', '/rest/opportunities', { stage: 'MEETING', closeDate: 'yesterday' })).status,
    ).toBe(400);
    expect((await call('POST', '/rest/tasks', { bodyV2: { markdown: '# hi', html: '<b/>' } })).status).toBe(
      400,
    );
  });

  it('requires relation join columns to reference an existing row', async () => {
    const { call } = makeEngine();
    const orphan = await call('POST', '/rest/people', { ...person(1), companyId: uuid(50) });
    expect(orphan.status).toBe(400);
    await call('POST', '/rest/companies', { id: uuid(50), name: 'Clinic' });
    const ok = await call('POST', '/rest/people', { ...person(1), companyId: uuid(50) });
    expect(ok.status).toBe(201);
    expect(ok.body.data.createPerson.company.name).toBe('Clinic');
    const flat = await call('GET', `/rest/people/${uuid(1)}?depth=0`);
    expect(flat.body.data.person.company).toBeUndefined();
    expect(flat.body.data.person.companyId).toBe(uuid(50));
  });

  it('keeps a soft-deleted person’s email reserved and upsert revives it', async () => {
    const { call } = makeEngine();
    await call('POST', '/rest/people', person(1, 'ann@example.test'));
    const soft = await call('DELETE', `/rest/people/${uuid(1)}?soft_delete=true`);
    expect(soft.status).toBe(200);
    expect((await call('GET', `/rest/people/${uuid(1)}`)).status).toBe(404);
    const clash = await call('POST', '/rest/people', person(2, 'ANN@example.test'));
    expect(clash.status).toBe(400);
    expect(clash.body.messages[0]).toMatch(/duplicate entry/);
    const upsert = await call('POST', '/rest/batch/people?upsert=true', [
      { ...person(2, 'ann@example.test'), jobTitle: 'Hygienist' },
    ]);
    expect(upsert.status).toBe(201);
    const revived = upsert.body.data.createPeople[0];
    expect(revived.id).toBe(uuid(1));
    expect(revived.deletedAt).toBeNull();
    expect(revived.jobTitle).toBe('Hygienist');
    expect(revived.name.firstName).toBe('First2');
  });

  it('upserts by id, merging composite sub-fields', async () => {
    const { call } = makeEngine();
    await call('POST', '/rest/people', {
      ...person(1, 'a@example.test'),
      phones: { primaryPhoneNumber: '5550100' },
    });
    const again = await call('POST', '/rest/people?upsert=true', {
      id: uuid(1),
      name: { lastName: 'Changed' },
    });
    expect(again.status).toBe(201);
    const rec = again.body.data.createPerson;
    expect(rec.name).toEqual({ firstName: 'First1', lastName: 'Changed' });
    expect(rec.phones.primaryPhoneNumber).toBe('5550100');
    const plain = await call('POST', '/rest/people', { id: uuid(1) });
    expect(plain.status).toBe(400);
  });

  it('refuses an upsert row that matches two different records', async () => {
    const { call } = makeEngine();
    await call('POST', '/rest/batch/people', [person(1, 'one@example.test'), person(2, 'two@example.test')]);
    const answer = await call('POST', '/rest/batch/people?upsert=true', [person(1, 'two@example.test')]);
    expect(answer.status).toBe(400);
  });

  it('refuses batches whose rows collide with each other, atomically', async () => {
    const { call } = makeEngine();
    const sameEmail = await call('POST', '/rest/batch/people?upsert=true', [
      person(1, 'fam@example.test'),
      person(2, 'fam@example.test'),
    ]);
    expect(sameEmail.status).toBe(400);
    const sameId = await call('POST', '/rest/batch/people?upsert=true', [person(3), person(3)]);
    expect(sameId.status).toBe(400);
    const partial = await call('POST', '/rest/batch/people', [person(4), { ...person(5), jobTitle: 7 }]);
    expect(partial.status).toBe(400);
    expect((await call('GET', `/rest/people/${uuid(4)}`)).status).toBe(404);
  });

  it('enforces unique company domains, case of emails folded', async () => {
    const { call } = makeEngine();
    await call('POST', '/rest/companies', { name: 'A', domainName: { primaryLinkUrl: 'https://a.test' } });
    const dup = await call('POST', '/rest/companies', {
      name: 'B',
      domainName: { primaryLinkUrl: 'https://a.test' },
    });
    expect(dup.status).toBe(400);
    const noDomain1 = await call('POST', '/rest/companies', { name: 'C' });
    const noDomain2 = await call('POST', '/rest/companies', { name: 'D' });
    expect([noDomain1.status, noDomain2.status]).toEqual([201, 201]);
  });

  it('updates with PATCH and rejects a unique clash', async () => {
    const { call } = makeEngine();
    await call('POST', '/rest/batch/people', [person(1, 'a@example.test'), person(2, 'b@example.test')]);
    const ok = await call('PATCH', `/rest/people/${uuid(1)}`, {
      jobTitle: 'Dentist',
      name: { firstName: 'Zed' },
    });
    expect(ok.status).toBe(200);
    expect(ok.body.data.updatePerson).toMatchObject({
      jobTitle: 'Dentist',
      name: { firstName: 'Zed', lastName: 'Last1' },
    });
    const clash = await call('PATCH', `/rest/people/${uuid(1)}`, {
      emails: { primaryEmail: 'b@example.test' },
    });
    expect(clash.status).toBe(400);
    expect((await call('PATCH', `/rest/people/${uuid(9)}`, { jobTitle: 'x' })).status).toBe(404);
  });

  it('hard-deletes by default, nulling references and cascading targets', async () => {
    const { call, engine } = makeEngine();
    await call('POST', '/rest/companies', { id: uuid(50), name: 'Clinic' });
    await call('POST', '/rest/people', { ...person(1), companyId: uuid(50) });
    await call('POST', '/rest/tasks', { id: uuid(60), title: 'Recall' });
    await call('POST', '/rest/taskTargets', { id: uuid(61), taskId: uuid(60), targetPersonId: uuid(1) });
    expect((await call('DELETE', `/rest/companies/${uuid(50)}`)).status).toBe(200);
    expect((await call('GET', `/rest/people/${uuid(1)}?depth=0`)).body.data.person.companyId).toBeNull();
    await call('DELETE', `/rest/tasks/${uuid(60)}`);
    expect((await call('GET', `/rest/taskTargets/${uuid(61)}`)).status).toBe(404);
    expect(engine.dump().records.company).toHaveLength(0);
  });

  it('restores a soft-deleted record', async () => {
    const { call } = makeEngine();
    await call('POST', '/rest/people', person(1));
    await call('DELETE', `/rest/people/${uuid(1)}?soft_delete=true`);
    const restored = await call('PATCH', `/rest/people/${uuid(1)}/restore`);
    expect(restored.status).toBe(200);
    expect(restored.body.data.restorePerson.deletedAt).toBeNull();
    expect((await call('GET', `/rest/people/${uuid(1)}`)).status).toBe(200);
  });

  it('requires a filter to delete many', async () => {
    const { call } = makeEngine();
    await call('POST', '/rest/batch/people', [person(1), person(2), person(3)]);
    expect((await call('DELETE', '/rest/people')).status).toBe(400);
    const answer = await call('DELETE', `/rest/people?filter=id[in]:[${uuid(1)},${uuid(2)}]`);
    expect(answer.status).toBe(200);
    expect(answer.body.data.deletePeople).toHaveLength(2);
    expect((await call('GET', '/rest/people')).body.totalCount).toBe(1);
  });

  it('keeps workspace members read-only', async () => {
    const { call } = makeEngine({
      members: [{ email: 'Doc@Example.test', firstName: 'Dee', lastName: 'Oh' }],
    });
    const list = await call('GET', '/rest/workspaceMembers');
    expect(list.body.data.workspaceMembers).toHaveLength(1);
    expect(list.body.data.workspaceMembers[0].userEmail).toBe('doc@example.test');
    expect((await call('POST', '/rest/workspaceMembers', {})).status).toBe(403);
  });
});

describe('sandbox find many', () => {
  async function seeded() {
    const ctx = makeEngine();
    const rows = Array.from({ length: 25 }, (_, i) => ({
      ...person(i + 1, `p${i + 1}@example.test`),
      jobTitle: i % 2 === 0 ? 'Dentist' : 'Hygienist',
      ...(i < 5 ? { avatarUrl: `https://img.test/${i}` } : {}),
    }));
    await ctx.call('POST', '/rest/batch/people', rows);
    return ctx;
  }

  it('pages with cursors through every record exactly once', async () => {
    const { call } = await seeded();
    const seen: string[] = [];
    let after: string | null = null;
    let pages = 0;
    do {
      const url: string = `/rest/people?limit=10&order_by=name.lastName[DescNullsLast]${after ? `&starting_after=${after}` : ''}`;
      const answer = await call('GET', url);
      expect(answer.body.totalCount).toBe(25);
      seen.push(...answer.body.data.people.map((p: { id: string }) => p.id));
      after = answer.body.pageInfo.hasNextPage ? answer.body.pageInfo.endCursor : null;
      pages += 1;
    } while (after);
    expect(pages).toBe(3);
    expect(new Set(seen).size).toBe(25);
    expect(seen[0]).toBe(uuid(9));
  });

  it('pages backwards with ending_before', async () => {
    const { call } = await seeded();
    const first = await call('GET', '/rest/people?limit=10&order_by=createdAt,id');
    const second = await call(
      'GET',
      `/rest/people?limit=10&starting_after=${first.body.pageInfo.endCursor}&order_by=createdAt,id`,
    );
    const back = await call(
      'GET',
      `/rest/people?limit=10&ending_before=${second.body.pageInfo.startCursor}&order_by=createdAt,id`,
    );
    expect(back.body.data.people.map((p: { id: string }) => p.id)).toEqual(
      first.body.data.people.map((p: { id: string }) => p.id),
    );
  });

  it('reports pageInfo as Twenty’s buildCursorPage does in both directions', async () => {
    const { call } = await seeded();
    const order = 'order_by=createdAt,id';
    const first = await call('GET', `/rest/people?limit=10&${order}`);
    expect(first.body.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
    const second = await call(
      'GET',
      `/rest/people?limit=10&starting_after=${first.body.pageInfo.endCursor}&${order}`,
    );
    expect(second.body.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: true });
    // Backwards from the middle page: rows remain before (hasPreviousPage false only at the start).
    const back = await call(
      'GET',
      `/rest/people?limit=5&ending_before=${second.body.pageInfo.startCursor}&${order}`,
    );
    expect(back.body.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: true });
    const toStart = await call(
      'GET',
      `/rest/people?limit=10&ending_before=${second.body.pageInfo.startCursor}&${order}`,
    );
    expect(toStart.body.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
  });

  it('clamps limit to 200 and defaults to 60', async () => {
    const { call } = makeEngine({ batchMax: 200 });
    await call(
      'POST',
      '/rest/batch/people',
      Array.from({ length: 201 }, (_, i) => person(i + 1)).slice(0, 200),
    );
    await call('POST', '/rest/people', person(201));
    expect((await call('GET', '/rest/people')).body.data.people).toHaveLength(60);
    const big = await call('GET', '/rest/people?limit=1000');
    expect(big.body.data.people).toHaveLength(200);
    expect(big.body.pageInfo.hasNextPage).toBe(true);
  });

  it('filters on composite sub-fields, in, is NULL and boolean combinators', async () => {
    const { call } = await seeded();
    const count = async (filter: string) =>
      (await call('GET', `/rest/people?filter=${encodeURIComponent(filter)}`)).body.totalCount as number;
    expect(await count('emails.primaryEmail[eq]:p3@example.test')).toBe(1);
    expect(await count('jobTitle[eq]:Dentist')).toBe(13);
    expect(await count('jobTitle[neq]:Dentist')).toBe(12);
    expect(await count(`id[in]:[${uuid(1)},${uuid(2)},${uuid(99)}]`)).toBe(2);
    expect(await count('companyId[is]:NULL')).toBe(25);
    expect(await count('or(name.firstName[eq]:First1,name.firstName[eq]:First2)')).toBe(2);
    expect(await count('and(jobTitle[eq]:Dentist,not(name.firstName[startsWith]:First1))')).toBe(7);
    expect(await count('name.lastName[endsWith]:5')).toBe(3);
    expect(await count('name.firstName[like]:First2%')).toBe(7);
    expect(await count('name.firstName[ilike]:first2%')).toBe(7);
    expect(await count('name.firstName[like]:first2%')).toBe(0);
    expect(await count('name.firstName[eq]:"First1"')).toBe(1);
    expect(await count(`createdAt[gte]:2025-12-31T00:00:00Z`)).toBe(25);
    expect(await count(`createdAt[lt]:2025-12-31`)).toBe(0);
  });

  it('includes soft-deleted rows only when the filter names deletedAt', async () => {
    const { call } = await seeded();
    await call('DELETE', `/rest/people/${uuid(1)}?soft_delete=true`);
    expect((await call('GET', '/rest/people')).body.totalCount).toBe(24);
    expect((await call('GET', '/rest/people?filter=deletedAt[is]:NOT_NULL')).body.totalCount).toBe(1);
  });

  it('rejects malformed filters, unknown fields and bad cursors with 400', async () => {
    const { call } = await seeded();
    for (const url of [
      '/rest/people?filter=jobTitle[eq',
      '/rest/people?filter=shoe[eq]:1',
      '/rest/people?filter=name[eq]:x',
      '/rest/people?filter=jobTitle[near]:x',
      '/rest/people?filter=companyId[is]:EMPTY',
      '/rest/people?order_by=name.firstName[Sideways]',
      '/rest/people?starting_after=garbage',
      '/rest/people?depth=3',
      '/rest/people?limit=-1',
    ]) {
      const answer = await call('GET', url);
      expect(answer.status, url).toBe(400);
      expect(answer.body.statusCode).toBe(400);
    }
  });

  it('answers 400 for an unknown object', async () => {
    const { call } = makeEngine();
    const answer = await call('GET', '/rest/spaceships');
    expect(answer.status).toBe(400);
    expect(answer.body.messages[0]).toMatch(/spaceships/);
  });
});
