import { describe, expect, it } from 'vitest';
import { AuthError, SchemaConflictError, ValidationError } from '../../../lambdas/core/errors.ts';
import { ADMIN_KEY_NEEDED, SCHEMA_LEDGER_PHASE } from '../../../lambdas/core/schema/apply.ts';
import { applySchema, schemaChangesKeyFor } from '../../../lambdas/tasks/apply-schema/apply-schema.ts';
import {
  ApplySchemaInputSchema,
  ApplySchemaOutputSchema,
} from '../../../lambdas/tasks/apply-schema/schema.ts';
import { taskRunner } from '../../../lambdas/tasks/handler-kit.ts';
import { clinicFiles, clinicMapping, clinicMappingInput } from './clinic-mapping.ts';
import { FakeTwenty, seedRun, stageDeps } from './fake-twenty.ts';

const runId = 'run-schema';

async function setup(flavor: 'v1' | 'v2' = 'v2') {
  const twenty = new FakeTwenty(flavor);
  const deps = stageDeps(twenty);
  const { planKey } = await seedRun(deps.work, runId, clinicFiles(), clinicMappingInput());
  return { twenty, deps, planKey };
}

async function ledgerOf(deps: ReturnType<typeof stageDeps>) {
  const out = [];
  for await (const entry of deps.ledger.entriesForRun(runId)) out.push(entry);
  return out;
}

describe('applySchema', () => {
  it('creates objects, then fields, then relations, in dependency order', async () => {
    const { twenty, deps, planKey } = await setup();
    const output = await applySchema({ runId, planKey }, deps);
    expect(ApplySchemaOutputSchema.parse(output)).toEqual({
      runId,
      objectsCreated: 2,
      fieldsCreated: 5,
      optionsAdded: 0,
      relationsCreated: 2,
    });
    const writes = twenty.writes();
    const last = (prefix: string) => writes.findLastIndex((c) => c.startsWith(prefix));
    const first = (prefix: string) => writes.findIndex((c) => c.startsWith(prefix));
    expect(last('createObject')).toBeLessThan(first('createField'));
    expect(last('createField CURRENCY')).toBeLessThan(first('createField RELATION'));
    expect(writes.filter((c) => c.startsWith('createField RELATION'))).toEqual([
      'createField RELATION person',
      'createField RELATION person',
    ]);
  });

  it('creates the options the Segment chunks will write into an addOption select', async () => {
    const { twenty, deps, planKey } = await setup();
    await applySchema({ runId, planKey }, deps);
    const referral = (await twenty.metadata()).field('person', 'referral');
    expect(referral?.options.map((o) => [o.value, o.label])).toEqual([
      ['GOOGLE', 'Google'],
      ['FRIEND_FAMILY', 'Friend / family'],
    ]);
  });

  it('records every creation in the ledger as schema-created in phase 00-schema', async () => {
    const { deps, planKey } = await setup();
    await applySchema({ runId, planKey }, deps);
    const entries = await ledgerOf(deps);
    expect(entries.every((e) => e.op === 'schema-created' && e.phase === SCHEMA_LEDGER_PHASE)).toBe(true);
    expect(entries.map((e) => e.sourceId).sort()).toEqual(
      [
        'insuranceClaim',
        'insuranceClaim.person',
        'person.city',
        'person.recallStatus',
        'person.referral',
        'treatmentPlan',
        'treatmentPlan.cost',
        'treatmentPlan.person',
        'treatmentPlan.status',
      ].sort(),
    );
    expect(entries.find((e) => e.sourceId === 'treatmentPlan')?.entity).toBe('treatmentPlan');
  });

  it('creates nothing when run a second time', async () => {
    const { twenty, deps, planKey } = await setup();
    await applySchema({ runId, planKey }, deps);
    const before = twenty.writes().length;
    const again = await applySchema({ runId, planKey }, deps);
    expect(again).toEqual({
      runId,
      objectsCreated: 0,
      fieldsCreated: 0,
      optionsAdded: 0,
      relationsCreated: 0,
    });
    expect(twenty.writes()).toHaveLength(before);
  });

  it('adds a newly seen value to the existing select on a later run, keeping the before-image', async () => {
    const { twenty, deps, planKey } = await setup();
    await applySchema({ runId, planKey }, deps);
    const files = clinicFiles();
    files['patients.csv']?.push({ 'Patient ID': 'P5', First: 'E', Last: 'F', Referral: 'Radio ad' });
    await seedRun(deps.work, runId, files, clinicMappingInput());
    const output = await applySchema({ runId, planKey }, deps);
    expect(output.optionsAdded).toBe(1);
    expect(twenty.writes().at(-1)).toBe('addSelectOptions person.referral 1');
    const entry = (await ledgerOf(deps)).find((e) => e.sourceId === 'person.referral:options');
    expect(entry?.beforeImage).toEqual({
      options: [
        { value: 'GOOGLE', label: 'Google', color: 'green' },
        { value: 'FRIEND_FAMILY', label: 'Friend / family', color: 'turquoise' },
      ],
    });
  });

  it('completes the schema when another run creates one of its fields between its read and its write', async () => {
    const { twenty, deps, planKey } = await setup();
    const walkIn = { value: 'WALK_IN', label: 'Walk-in', color: 'gray' };
    const create = twenty.createField.bind(twenty);
    let raced = false;
    twenty.createField = async (input) => {
      if (input.name === 'referral' && !raced) {
        raced = true;
        // The other run's ApplySchema gets there first, with its own option.
        await create({ ...input, options: [walkIn] });
      }
      return create(input);
    };
    const output = await applySchema({ runId, planKey }, deps);
    const referral = (await twenty.metadata()).field('person', 'referral');
    expect(referral?.options.map((o) => o.value).sort()).toEqual(['FRIEND_FAMILY', 'GOOGLE', 'WALK_IN']);
    expect(output.optionsAdded).toBe(2);
  });

  it('adds its options to a select another run created after this run read the workspace', async () => {
    const { twenty, deps, planKey } = await setup();
    const read = twenty.metadata.bind(twenty);
    let reads = 0;
    twenty.metadata = async () => {
      reads += 1;
      // Between the diff (first read) and the apply (second read), the other run creates the field.
      if (reads === 2) {
        const person = (await read()).object('person');
        await twenty.createField({
          objectMetadataId: person.id,
          type: 'SELECT',
          name: 'referral',
          label: 'Referral',
          options: [{ value: 'WALK_IN', label: 'Walk-in', color: 'gray' }],
        });
      }
      return read();
    };
    await applySchema({ runId, planKey }, deps);
    const referral = (await twenty.metadata()).field('person', 'referral');
    expect(referral?.options.map((o) => o.value).sort()).toEqual(['FRIEND_FAMILY', 'GOOGLE', 'WALK_IN']);
    expect(twenty.writes()).toContain('addSelectOptions person.referral 2');
  });

  it("fails with Twenty's own refusal when a creation is refused every round", async () => {
    const { twenty, deps, planKey } = await setup();
    const create = twenty.createField.bind(twenty);
    let attempts = 0;
    twenty.createField = async (input) => {
      if (input.name !== 'referral') return create(input);
      attempts += 1;
      throw new ValidationError('Name "referral" is reserved');
    };
    const error = await applySchema({ runId, planKey }, deps).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SchemaConflictError);
    expect((error as Error).message).toContain('Twenty refused to create person.referral');
    // The first round and three more, each after a fresh read of the workspace.
    expect(attempts).toBe(4);
  });

  it('fails with an AuthError asking for an admin key when metadata writes are forbidden', async () => {
    const { twenty, deps, planKey } = await setup();
    twenty.denyMetadataWrites = true;
    const error = await applySchema({ runId, planKey }, deps).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthError);
    expect((error as Error).message).toBe(ADMIN_KEY_NEEDED);
    expect(await ledgerOf(deps)).toEqual([]);
  });

  it('fails before writing anything when the mapping conflicts with the workspace', async () => {
    const twenty = new FakeTwenty('v2');
    const deps = stageDeps(twenty);
    const input = clinicMappingInput();
    const city = input.entities.patients?.fields?.city;
    if (city) delete city.custom;
    const { planKey } = await seedRun(deps.work, runId, clinicFiles(), input);
    const error = await applySchema({ runId, planKey }, deps).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SchemaConflictError);
    expect((error as Error).message).toContain('person.city');
    expect(twenty.writes()).toEqual([]);
  });

  it('reads the plan mapping section when mapping.json is absent, and writes schema-changes.json', async () => {
    const { twenty, deps, planKey } = await setup('v1');
    deps.work.objects.delete(`runs/${runId}/mapping.json`);
    const plan = JSON.parse(await deps.work.getText(planKey));
    await deps.work.put(planKey, JSON.stringify({ ...plan, mapping: clinicMapping() }));
    const output = await applySchema({ runId, planKey }, deps);
    expect(output.fieldsCreated).toBe(4); // v1 already has person.city
    expect(twenty.writes()).not.toContain('createField TEXT city');
    const stored = JSON.parse(await deps.work.getText(schemaChangesKeyFor(runId)));
    expect(stored.applied).toEqual({
      objectsCreated: 2,
      fieldsCreated: 4,
      optionsAdded: 0,
      relationsCreated: 2,
    });
  });

  it('rejects bad input through the task runner naming the field, not the value', async () => {
    const { deps } = await setup();
    const run = taskRunner('ApplySchema', ApplySchemaInputSchema, applySchema);
    await expect(run({ runId: 'r', planKey: 42 }, deps)).rejects.toThrow(/planKey \(invalid_type\)/);
  });
});
