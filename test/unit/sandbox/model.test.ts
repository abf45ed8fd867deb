import { STANDARD_OBJECT } from 'twenty-sdk/define';
import { afterAll, describe, expect, it } from 'vitest';
import { makeEngine } from './helpers.ts';

/**
 * Fields of the twenty-sdk standard objects that point at objects the sandbox does not model
 * (calendar, messaging, AI chat, timeline, dashboards, workflows, lists) or are internal (search).
 */
const NOT_MODELLED = new Set([
  'searchVector',
  'agentChatThreadTargets',
  'calendarEventTargets',
  'messageThreadTargets',
  'messageParticipants',
  'calendarEventParticipants',
  'timelineActivities',
  'listMemberships',
  'targetDashboard',
  'targetWorkflow',
  'targetAgentChatThread',
  'blocklist',
  'agentChatThreads',
]);

const CHECKED = [
  'person',
  'company',
  'opportunity',
  'task',
  'taskTarget',
  'note',
  'noteTarget',
  'attachment',
  'workspaceMember',
] as const;

describe('sandbox model (v2)', () => {
  const { engine } = makeEngine({ flavor: 'v2' });
  afterAll(() => engine.close());
  const objects = engine.dump().objects as Array<{ nameSingular: string; fields: Array<{ name: string }> }>;

  for (const name of CHECKED) {
    it(`has the twenty-sdk field names of ${name}`, () => {
      const expected = Object.keys(
        (STANDARD_OBJECT as Record<string, { fields: Record<string, unknown> }>)[name]!.fields,
      )
        .filter((f) => !NOT_MODELLED.has(f))
        .sort();
      const object = objects.find((o) => o.nameSingular === name);
      expect(object).toBeDefined();
      const actual = object!.fields
        .map((f) => f.name)
        .filter((f) => !NOT_MODELLED.has(f))
        .sort();
      expect(actual).toEqual(expected);
    });
  }

  it('exposes v2 morph join columns on task targets', async () => {
    const { call, engine: e } = makeEngine({ flavor: 'v2' });
    const answer = await call('GET', '/rest/taskTargets?depth=0');
    expect(answer.status).toBe(200);
    const { body } = await call('POST', '/rest/taskTargets?depth=0', {});
    expect(Object.keys(body.data.createTaskTarget)).toEqual(
      expect.arrayContaining(['taskId', 'targetPersonId', 'targetCompanyId', 'targetOpportunityId']),
    );
    e.close();
  });
});

describe('sandbox model (v1)', () => {
  it('uses personId/companyId join columns and keeps person.city', async () => {
    const { call, engine } = makeEngine({ flavor: 'v1' });
    const target = await call('POST', '/rest/noteTargets?depth=0', {});
    expect(Object.keys(target.body.data.createNoteTarget)).toEqual(
      expect.arrayContaining(['noteId', 'personId', 'companyId', 'opportunityId']),
    );
    expect(Object.keys(target.body.data.createNoteTarget)).not.toContain('targetPersonId');
    const person = await call('POST', '/rest/people?depth=0', { city: 'Springfield' });
    expect(person.status).toBe(201);
    engine.close();
  });
});
