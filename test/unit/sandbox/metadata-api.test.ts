import { describe, expect, it } from 'vitest';
import { makeEngine, uuid } from './helpers.ts';

async function objectId(call: ReturnType<typeof makeEngine>['call'], singular: string): Promise<string> {
  const list = await call('GET', '/rest/metadata/objects');
  return list.body.data.find((o: { nameSingular: string }) => o.nameSingular === singular).id;
}

describe('sandbox metadata REST', () => {
  it('lists objects in the v2 envelope and the v1 envelope', async () => {
    const v2 = makeEngine({ flavor: 'v2' });
    const list = await v2.call('GET', '/rest/metadata/objects');
    expect(list.status).toBe(200);
    expect(Array.isArray(list.body.data)).toBe(true);
    expect(list.body.totalCount).toBe(list.body.data.length);
    expect(list.body.pageInfo).toHaveProperty('hasNextPage', false);
    const v1 = makeEngine({ flavor: 'v1' });
    const old = await v1.call('GET', '/rest/metadata/objects');
    expect(Array.isArray(old.body.data.objects)).toBe(true);
  });

  it('creates a custom object with record routes and activity target join columns at once', async () => {
    const { call } = makeEngine();
    const created = await call('POST', '/rest/metadata/objects', {
      nameSingular: 'claim',
      namePlural: 'claims',
      labelSingular: 'Claim',
      labelPlural: 'Claims',
    });
    expect(created.status).toBe(201);
    expect(created.body.data.createOneObject.nameSingular).toBe('claim');
    const record = await call('POST', '/rest/batch/claims', [{ id: uuid(1), name: 'C-1' }]);
    expect(record.status).toBe(201);
    const target = await call('POST', '/rest/noteTargets?depth=0', { targetClaimId: uuid(1) });
    expect(target.status).toBe(201);
    expect(target.body.data.createNoteTarget.targetClaimId).toBe(uuid(1));
  });

  it('enforces Twenty’s name rules', async () => {
    const { call } = makeEngine();
    const base = { labelSingular: 'X', labelPlural: 'Xs' };
    for (const [nameSingular, namePlural] of [
      ['Claim', 'claims'],
      ['claim-item', 'claimItems'],
      ['event', 'claims'],
      ['a'.repeat(64), 'claims'],
      ['claim', 'claim'],
      ['person', 'persons'],
    ]) {
      const answer = await call('POST', '/rest/metadata/objects', { ...base, nameSingular, namePlural });
      expect(answer.status, `${nameSingular}/${namePlural}`).toBe(400);
    }
  });

  it('refuses exactly Twenty’s reserved keywords as field names, not guessed extras', async () => {
    const { call } = makeEngine();
    const personId = await objectId(call, 'person');
    const create = (name: string) =>
      call('POST', '/rest/metadata/fields', { objectMetadataId: personId, type: 'TEXT', name, label: name });
    for (const name of ['aggregate', 'userWorkspace', 'keyValuePairs', 'fullNames', 'index']) {
      expect((await create(name)).status, name).toBe(400);
    }
    for (const name of ['search', 'files', 'fullName', 'webhook', 'indexes']) {
      expect((await create(name)).status, name).toBe(201);
    }
  });

  it('creates SELECT fields only with enum-safe values and colors', async () => {
    const { call } = makeEngine();
    const personId = await objectId(call, 'person');
    const field = (options: unknown) => ({
      objectMetadataId: personId,
      type: 'SELECT',
      name: 'insurance',
      label: 'Insurance',
      options,
    });
    expect(
      (
        await call(
          'POST',
          '/rest/metadata/fields',
          field([{ value: 'In Review', label: 'In review', color: 'blue' }]),
        )
      ).status,
    ).toBe(400);
    expect(
      (await call('POST', '/rest/metadata/fields', field([{ value: 'PPO', label: 'PPO' }]))).status,
    ).toBe(400);
    const ok = await call(
      'POST',
      '/rest/metadata/fields',
      field([
        { value: 'PPO', label: 'PPO', color: 'blue', position: 0 },
        { value: 'REJECTED_RESUBMIT', label: 'Rejected', color: 'red', position: 1 },
      ]),
    );
    expect(ok.status).toBe(201);
    expect((await call('POST', '/rest/people', { insurance: 'PPO' })).status).toBe(201);
    expect((await call('POST', '/rest/people', { insurance: 'HMO' })).status).toBe(400);
  });

  it('creates a MANY_TO_ONE relation with its join column and inverse field', async () => {
    const { call } = makeEngine();
    await call('POST', '/rest/metadata/objects', {
      nameSingular: 'appointment',
      namePlural: 'appointments',
      labelSingular: 'Appointment',
      labelPlural: 'Appointments',
    });
    const appointmentId = await objectId(call, 'appointment');
    const personId = await objectId(call, 'person');
    const relation = await call('POST', '/rest/metadata/fields', {
      objectMetadataId: appointmentId,
      type: 'RELATION',
      name: 'patient',
      label: 'Patient',
      relationCreationPayload: {
        targetObjectMetadataId: personId,
        targetFieldLabel: 'Appointments',
        targetFieldIcon: 'IconCalendar',
        type: 'MANY_TO_ONE',
      },
    });
    expect(relation.status).toBe(201);
    expect(relation.body.data.createOneField.settings).toMatchObject({
      relationType: 'MANY_TO_ONE',
      joinColumnName: 'patientId',
    });
    const people = await call('GET', '/rest/metadata/objects');
    const personFields = people.body.data
      .find((o: { id: string }) => o.id === personId)
      .fields.map((f: { name: string }) => f.name);
    expect(personFields).toContain('appointments');
    await call('POST', '/rest/people', { id: uuid(1) });
    expect((await call('POST', '/rest/appointments', { patientId: uuid(1) })).status).toBe(201);
    expect((await call('POST', '/rest/appointments', { patientId: uuid(2) })).status).toBe(400);
  });

  it('enforces custom unique fields and lets upsert match on them', async () => {
    const { call } = makeEngine();
    const personId = await objectId(call, 'person');
    const created = await call('POST', '/rest/metadata/fields', {
      objectMetadataId: personId,
      type: 'TEXT',
      name: 'chartNumber',
      label: 'Chart number',
      isUnique: true,
    });
    expect(created.status).toBe(201);
    await call('POST', '/rest/people', { id: uuid(1), chartNumber: 'C1' });
    expect((await call('POST', '/rest/people', { id: uuid(2), chartNumber: 'C1' })).status).toBe(400);
    const upsert = await call('POST', '/rest/people?upsert=true', {
      id: uuid(3),
      chartNumber: 'C1',
      jobTitle: 'x',
    });
    expect(upsert.body.data.createPerson.id).toBe(uuid(1));
  });

  it('deletes custom fields and objects but not standard ones', async () => {
    const { call } = makeEngine();
    const personId = await objectId(call, 'person');
    const field = await call('POST', '/rest/metadata/fields', {
      objectMetadataId: personId,
      type: 'NUMBER',
      name: 'visits',
      label: 'Visits',
    });
    const fieldId = field.body.data.createOneField.id;
    await call('POST', '/rest/people', { id: uuid(1), visits: 3 });
    expect((await call('DELETE', `/rest/metadata/fields/${fieldId}`)).status).toBe(200);
    expect((await call('GET', `/rest/people/${uuid(1)}`)).body.data.person).not.toHaveProperty('visits');
    const standard = (await call('GET', '/rest/metadata/fields')).body.data.find(
      (f: { name: string; objectMetadataId: string }) =>
        f.name === 'jobTitle' && f.objectMetadataId === personId,
    );
    expect((await call('DELETE', `/rest/metadata/fields/${standard.id}`)).status).toBe(400);
    expect((await call('DELETE', `/rest/metadata/objects/${personId}`)).status).toBe(400);
    const updated = await call('PATCH', `/rest/metadata/objects/${personId}`, { labelPlural: 'Patients' });
    expect(updated.body.data.updateOneObject.labelPlural).toBe('Patients');
  });
});

describe('sandbox rate limits and faults', () => {
  it('answers 429 in the v2 format with Retry-After and X-RateLimit headers', async () => {
    const { call, clock } = makeEngine({
      flavor: 'v2',
      rateShort: { limit: 2, windowMs: 1000 },
      rateLong: null,
    });
    expect((await call('GET', '/rest/people')).status).toBe(200);
    expect((await call('GET', '/rest/people')).status).toBe(200);
    const limited = await call('GET', '/rest/people');
    expect(limited.status).toBe(429);
    expect(limited.body).toMatchObject({ statusCode: 429, error: 'RATE_LIMITED', retryAfterSeconds: 1 });
    expect(limited.headers).toMatchObject({
      'retry-after': '1',
      'x-ratelimit-limit': '2',
      'x-ratelimit-remaining': '0',
    });
    clock.now += 500;
    expect((await call('GET', '/rest/people')).status).toBe(200);
  });

  it('answers 429 in the v1 format without headers, counting per request not per record', async () => {
    const { call, engine } = makeEngine({
      flavor: 'v1',
      rateShort: null,
      rateLong: { limit: 1, windowMs: 60_000 },
    });
    const batch = Array.from({ length: 60 }, (_, i) => ({ id: uuid(i + 1) }));
    expect((await call('POST', '/rest/batch/people', batch)).status).toBe(201);
    const limited = await call('GET', '/rest/people');
    expect(limited.status).toBe(429);
    expect(limited.body).toEqual({ statusCode: 429, messages: ['Limit reached (1 tokens per 60000 ms)'] });
    expect(limited.headers['retry-after']).toBeUndefined();
    expect(engine.stats().rateLimited).toBe(1);
  });

  it('injects the same faults for the same seed', async () => {
    const run = async () => {
      const { call } = makeEngine({ faults: '500:0.2,503:0.1,reset:0.1,slow:0.1@5', seed: 42 });
      const outcomes: string[] = [];
      for (let i = 0; i < 60; i += 1) {
        const a = await call('GET', '/rest/people?limit=1');
        outcomes.push(a.reset ? 'reset' : a.delayMs ? `slow${a.status}` : String(a.status));
      }
      return outcomes;
    };
    const first = await run();
    expect(await run()).toEqual(first);
    expect(new Set(first)).toEqual(new Set(['200', '500', '503', 'reset', 'slow200']));
  });

  it('exempts inspection routes from limits and faults but not from auth', async () => {
    const { engine, call } = makeEngine({ faults: '500:1', rateShort: { limit: 1, windowMs: 60_000 } });
    expect((await call('GET', '/__sandbox/stats')).status).toBe(200);
    expect((await call('GET', '/__sandbox/dump')).status).toBe(200);
    const denied = await engine.handle({ method: 'GET', url: '/__sandbox/stats', headers: {} });
    expect(denied.status).toBe(403);
  });
});
