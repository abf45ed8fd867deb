import { describe, expect, it } from 'vitest';
import {
  changeCounts,
  describeConflict,
  diffSchema,
  isSchemaUpToDate,
  PLACEHOLDER_OPTION,
  seenKey,
} from '../../../lambdas/core/schema/diff.ts';
import { TwentyModel } from '../../../lambdas/ports/twenty-model.ts';
import { clinicMapping } from './clinic-mapping.ts';
import { FakeTwenty, standardObjects } from './fake-twenty.ts';

const model = (flavor: 'v1' | 'v2') => new TwentyModel(standardObjects(flavor));

describe('diffSchema', () => {
  it('plans custom objects, fields and relations in a workspace that has none of them', () => {
    const changes = diffSchema(clinicMapping(), model('v2'));
    expect(changes.conflicts).toEqual([]);
    expect(changes.objects.map((o) => o.nameSingular)).toEqual(['treatmentPlan', 'insuranceClaim']);
    expect(changes.fields.map((f) => `${f.object}.${f.name}:${f.type}`)).toEqual([
      'person.city:TEXT',
      'person.referral:SELECT',
      'person.recallStatus:SELECT',
      'treatmentPlan.status:SELECT',
      'treatmentPlan.cost:CURRENCY',
    ]);
    expect(changes.relations.map((r) => `${r.object}.${r.name}->${r.target} (${r.joinColumn})`)).toEqual([
      'treatmentPlan.person->person (personId)',
      'insuranceClaim.person->person (personId)',
    ]);
  });

  it('creates person.city only where the Twenty version lacks it (v2), not on v1', () => {
    const v1 = diffSchema(clinicMapping(), model('v1'));
    expect(v1.fields.some((f) => f.object === 'person' && f.name === 'city')).toBe(false);
    expect(v1.conflicts).toEqual([]);
  });

  it('builds SELECT options from spec options, value-map targets and defaults, with palette colours and positions', () => {
    const recall = diffSchema(clinicMapping(), model('v2')).fields.find((f) => f.name === 'recallStatus');
    expect(recall?.options).toEqual([
      { value: 'DUE', label: 'Due', color: 'green', position: 0 },
      { value: 'NOT_DUE', label: 'Not due', color: 'turquoise', position: 1 },
      { value: 'OVERDUE', label: 'Overdue', color: 'sky', position: 2 },
    ]);
  });

  it('gives an addOption SELECT the values seen in the source, or a placeholder when none were seen', () => {
    const without = diffSchema(clinicMapping(), model('v2')).fields.find((f) => f.name === 'referral');
    expect(without?.options?.map((o) => o.value)).toEqual([PLACEHOLDER_OPTION.value]);
    const seen = new Map([
      [
        seenKey('patients', 'referral'),
        new Map([
          ['GOOGLE', 'Google'],
          ['FRIEND', 'Friend'],
        ]),
      ],
    ]);
    const withSeen = diffSchema(clinicMapping(), model('v2'), seen).fields.find((f) => f.name === 'referral');
    expect(withSeen?.options?.map((o) => [o.value, o.label])).toEqual([
      ['GOOGLE', 'Google'],
      ['FRIEND', 'Friend'],
    ]);
  });

  it('renames the inverse field when two relations would give the target the same inverse name', () => {
    const [plans, claims] = diffSchema(clinicMapping(), model('v2')).relations;
    expect(plans?.targetFieldLabel).toBe('Treatment plans');
    expect(claims?.targetFieldLabel).toBe('Treatment plans Insurance claims');
  });

  it('plans one relation when two entities of one object declare the same join column', () => {
    const mapping = clinicMapping((m) => {
      const plans = m.entities.plans;
      if (plans) m.entities.lineItems = { ...plans, files: ['items.csv'], idColumn: 'Item ID' };
    });
    const changes = diffSchema(mapping, model('v2'));
    expect(changes.relations.filter((r) => r.object === 'treatmentPlan')).toHaveLength(1);
    expect(changes.fields.filter((f) => f.object === 'treatmentPlan' && f.name === 'status')).toHaveLength(1);
  });

  it('reports a missing standard field without a custom spec as a conflict naming object.field', () => {
    const changes = diffSchema(
      clinicMapping((m) => {
        const city = m.entities.patients?.fields?.city;
        if (city) delete city.custom;
      }),
      model('v2'),
    );
    expect(changes.conflicts.map(describeConflict)).toEqual([
      'person.city: the workspace has no such field and the mapping has no custom spec to create it',
    ]);
  });

  it('reports a name clash with another type, a reserved name and an undeclared object as conflicts', () => {
    const changes = diffSchema(
      clinicMapping((m) => {
        const patients = m.entities.patients;
        if (!patients?.fields) return;
        patients.fields.jobTitle = {
          from: 'Occupation',
          transform: 'number',
          custom: { type: 'NUMBER', label: 'Job' },
        };
        patients.fields.currency = { from: 'City', custom: { type: 'TEXT', label: 'Currency' } };
        m.entities.visits = { files: ['visits.csv'], target: 'visit', idColumn: 'Visit ID' };
      }),
      model('v2'),
    );
    const messages = changes.conflicts.map(describeConflict);
    expect(messages).toContain('person.jobTitle: exists as TEXT but the mapping needs NUMBER');
    expect(messages).toContain('person.currency: name is reserved by Twenty');
    expect(messages.some((m) => m.startsWith('visit: entity visits targets an object'))).toBe(true);
  });

  it('refuses options a standard SELECT lacks without naming the values (they come from the source)', () => {
    const changes = diffSchema(
      clinicMapping((m) => {
        const status = m.entities.appointments?.fields?.status;
        if (status) status.valueMap = { Booked: 'TODO', Waitlisted: 'WAITLISTED_SECRET' };
      }),
      model('v2'),
    );
    expect(changes.conflicts).toHaveLength(1);
    expect(describeConflict(changes.conflicts[0] as never)).toMatch(
      /^task\.status: standard SELECT field lacks 1 option/,
    );
    expect(JSON.stringify(changes.conflicts)).not.toContain('WAITLISTED_SECRET');
  });

  it('reports an owner column the Twenty version does not have (v1 opportunities have no ownerId)', () => {
    const mapping = clinicMapping((m) => {
      m.entities.cases = {
        files: ['cases.csv'],
        target: 'opportunity',
        idColumn: 'Case ID',
        owner: { from: 'Owner Email', joinColumn: 'ownerId' },
      };
    });
    expect(diffSchema(mapping, model('v2')).conflicts).toEqual([]);
    expect(diffSchema(mapping, model('v1')).conflicts.map(describeConflict)[0]).toMatch(
      /^opportunity\.ownerId: owner column/,
    );
  });

  it('adds only the missing options to an existing custom SELECT, positioned after the existing ones', async () => {
    const twenty = new FakeTwenty('v2');
    const person = twenty.objects.find((o) => o.nameSingular === 'person');
    person?.fields.push({
      id: 'f-recall',
      name: 'recallStatus',
      label: 'Recall status',
      type: 'SELECT',
      isCustom: true,
      isUnique: false,
      isNullable: true,
      options: [{ value: 'DUE', label: 'Due', color: 'red', position: 0 }],
    });
    const changes = diffSchema(clinicMapping(), await twenty.metadata());
    expect(changes.options).toEqual([
      {
        object: 'person',
        field: 'recallStatus',
        existing: [{ value: 'DUE', label: 'Due', color: 'red', position: 0 }],
        options: [
          { value: 'NOT_DUE', label: 'Not due', color: 'turquoise', position: 1 },
          { value: 'OVERDUE', label: 'Overdue', color: 'sky', position: 2 },
        ],
      },
    ]);
    expect(changeCounts(changes).options).toBe(2);
  });

  it('is empty once the workspace has everything (what makes ApplySchema idempotent)', async () => {
    const twenty = new FakeTwenty('v2');
    expect(isSchemaUpToDate(diffSchema(clinicMapping(), await twenty.metadata()))).toBe(false);
    const { applySchemaChanges } = await import('../../../lambdas/core/schema/apply.ts');
    const clock = { now: () => 0, sleep: async () => {} };
    await applySchemaChanges(diffSchema(clinicMapping(), await twenty.metadata()), twenty, {
      runId: 'r',
      clock,
    });
    expect(isSchemaUpToDate(diffSchema(clinicMapping(), await twenty.refreshMetadata()))).toBe(true);
  });
});
