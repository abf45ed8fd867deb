import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TwentyClient } from '../../../lambdas/twenty/client.ts';
import { type RunningSandbox, sandboxAndClient, syntheticPerson, testId } from './helpers.ts';

describe.each(['v1', 'v2'] as const)('TwentyClient metadata against the %s sandbox', (flavor) => {
  let sandbox: RunningSandbox;
  let client: TwentyClient;

  beforeAll(async () => {
    ({ sandbox, client } = await sandboxAndClient({ flavor }));
  });
  afterAll(async () => {
    await sandbox?.stop();
  });

  it('reads the standard model once and detects the flavor from taskTarget join columns', async () => {
    const model = await client.metadata();
    expect(model.flavor).toBe(flavor);
    const person = flavor === 'v2' ? 'targetPersonId' : 'personId';
    expect(model.joinColumn('person', 'taskTarget')).toBe(person);
    expect(model.joinColumn('company', 'noteTarget')).toBe(flavor === 'v2' ? 'targetCompanyId' : 'companyId');
    expect(model.joinColumn('person', 'attachment')).toBe(person);
    expect(model.uniqueKeys('person')).toContain('emails.primaryEmail');
    expect(model.uniqueKeys('company')).toContain('domainName.primaryLinkUrl');
    expect(model.object('people').nameSingular).toBe('person');
    expect(model.hasField('person', 'city')).toBe(flavor === 'v1');
    const before = client.stats().requests;
    expect(await client.metadata()).toBe(model);
    expect(client.stats().requests).toBe(before);
  });

  it('creates a custom object, fields, select options and a relation, then writes records to it', async () => {
    const claim = await client.createObject({
      nameSingular: 'patientClaim',
      namePlural: 'patientClaims',
      labelSingular: 'Patient claim',
      labelPlural: 'Patient claims',
    });
    const again = await client.createObject({
      nameSingular: 'patientClaim',
      namePlural: 'patientClaims',
      labelSingular: 'Patient claim',
      labelPlural: 'Patient claims',
    });
    expect(again.id).toBe(claim.id);
    const claimNumber = await client.createField({
      objectMetadataId: claim.id,
      type: 'TEXT',
      name: 'claimNumber',
      label: 'Claim number',
    });
    // A retried create (Twenty rejects the duplicate) resolves to the field the first attempt made.
    const sameField = await client.createField({
      objectMetadataId: claim.id,
      type: 'TEXT',
      name: 'claimNumber',
      label: 'Claim number',
    });
    expect(sameField.id).toBe(claimNumber.id);
    await client.createField({
      objectMetadataId: claim.id,
      type: 'SELECT',
      name: 'claimStatus',
      label: 'Claim status',
      options: [
        { value: 'SUBMITTED', label: 'Submitted', color: 'blue', position: 0 },
        { value: 'PAID', label: 'Paid', color: 'green', position: 1 },
      ],
    });
    await client.addSelectOptions('patientClaim', 'claimStatus', [
      { value: 'REJECTED_RESUBMIT', label: 'Rejected - resubmit', color: 'red' },
      { value: 'PAID', label: 'Paid', color: 'green' },
    ]);
    let model = await client.refreshMetadata();
    const person = model.object('person');
    await client.createField({
      objectMetadataId: claim.id,
      type: 'RELATION',
      name: 'patient',
      label: 'Patient',
      relationCreationPayload: {
        targetObjectMetadataId: person.id,
        targetFieldLabel: 'Claims',
        type: 'MANY_TO_ONE',
      },
    });
    model = await client.refreshMetadata();
    expect(model.isCustom('patientClaim')).toBe(true);
    expect(model.optionValues('patientClaim', 'claimStatus')).toEqual([
      'SUBMITTED',
      'PAID',
      'REJECTED_RESUBMIT',
    ]);
    expect(model.joinColumns('patientClaim')).toContain('patientId');

    const patient = syntheticPerson(20, 1);
    await client.createMany('people', [patient]);
    const claims = Array.from({ length: 5 }, (_, i) => ({
      id: testId(21, i),
      name: `Claim ${i}`,
      claimNumber: `C-${i}`,
      claimStatus: i % 2 === 0 ? 'PAID' : 'REJECTED_RESUBMIT',
      patientId: patient.id,
    }));
    const result = await client.createMany('patientClaims', [
      ...claims,
      { id: testId(21, 9), claimStatus: 'UNKNOWN' },
    ]);
    expect(result.written.map((w) => w.id)).toEqual(claims.map((c) => c.id));
    expect(result.failed.map((f) => f.id)).toEqual([testId(21, 9)]);
    const back = await client.findAll('patientClaims', {
      filter: { field: 'patientId', op: 'eq', value: patient.id },
    });
    expect(back.map((c) => c.claimNumber).sort()).toEqual(claims.map((c) => c.claimNumber));
  });
});
