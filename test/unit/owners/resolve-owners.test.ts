import { describe, expect, it } from 'vitest';
import {
  memberEmailsAmong,
  normalizeEmail,
  OwnersFileSchema,
  ownerIdFor,
  ownersKeyFor,
  ownersReportKeyFor,
  resolveOwners,
  skipsAsMember,
} from '../../../lambdas/core/owners/resolve.ts';
import { resolveOwnersStage } from '../../../lambdas/tasks/resolve-owners/resolve-owners.ts';
import { ResolveOwnersOutputSchema } from '../../../lambdas/tasks/resolve-owners/schema.ts';
import { clinicFiles, clinicMappingInput } from '../schema/clinic-mapping.ts';
import { FakeTwenty, seedRun, stageDeps } from '../schema/fake-twenty.ts';

const runId = 'run-owners';
const members = [
  { id: 'm-known', userEmail: 'DR.KNOWN@clinic.test', firstName: 'K', lastName: 'N' },
  { id: 'm-front', userEmail: 'front@clinic.test', firstName: 'F', lastName: 'D' },
];

describe('resolveOwners', () => {
  const scan = {
    entity: 'appointments',
    object: 'task',
    joinColumn: 'assigneeId',
    emails: new Map([
      ['dr.known@clinic.test', 3],
      ['locum@clinic.test', 2],
    ]),
  };

  it('matches owners to members by trimmed, lower-cased email', () => {
    expect(normalizeEmail('  Dr.Known@Clinic.TEST ')).toBe('dr.known@clinic.test');
    const owners = resolveOwners(runId, [scan], members);
    expect(owners.byEmail['dr.known@clinic.test']).toBe('m-known');
    expect(ownerIdFor(owners, ' DR.known@clinic.test')).toBe('m-known');
    expect(ownerIdFor(owners, '   ')).toBeNull();
  });

  it('lists the staff emails of members and skips only those rows of a skipIfMember entity', () => {
    const staff = memberEmailsAmong(
      ['front@clinic.test', 'locum@clinic.test', 'dr.known@clinic.test'],
      members,
    );
    expect(staff).toEqual(['dr.known@clinic.test', 'front@clinic.test']);
    const set = new Set(staff);
    const providers = { skipIfMember: { from: 'Email' } };
    expect(skipsAsMember(providers, { Email: ' DR.Known@clinic.test ' }, set)).toBe(true);
    expect(skipsAsMember(providers, { Email: 'locum@clinic.test' }, set)).toBe(false);
    expect(skipsAsMember(providers, { Email: '' }, set)).toBe(false);
    expect(skipsAsMember({}, { Email: 'front@clinic.test' }, set)).toBe(false);
  });

  it('leaves unmatched owners unassigned with a warning when no fallback is given', () => {
    const owners = resolveOwners(runId, [scan], members);
    expect(owners).toMatchObject({ matched: 1, unmatched: 1, fallbackUsed: 0, fallbackOwner: null });
    expect(owners.byEmail['locum@clinic.test']).toBeNull();
    expect(owners.entities.appointments).toMatchObject({
      rowsWithOwner: 5,
      rowsUnassigned: 2,
      rowsOnFallback: 0,
    });
    expect(owners.warnings).toEqual(['OWNERS_UNASSIGNED']);
  });

  it('gives unmatched owners the fallback member when the fallback email is a member', () => {
    const owners = resolveOwners(runId, [scan], members, ' Front@Clinic.test');
    expect(owners).toMatchObject({ fallbackOwner: 'm-front', fallbackUsed: 1, warnings: [] });
    expect(ownerIdFor(owners, 'locum@clinic.test')).toBe('m-front');
    expect(owners.entities.appointments?.rowsOnFallback).toBe(2);
  });

  it('ignores a fallback email that is not a member, with its own warning', () => {
    const owners = resolveOwners(runId, [scan], members, 'nobody@clinic.test');
    expect(owners.fallbackOwner).toBeNull();
    expect(owners.byEmail['locum@clinic.test']).toBeNull();
    expect(owners.warnings).toEqual(['FALLBACK_OWNER_NOT_A_MEMBER', 'OWNERS_UNASSIGNED']);
  });
});

describe('resolveOwnersStage', () => {
  async function run(fallbackOwnerEmail?: string) {
    const twenty = new FakeTwenty('v2');
    twenty.membersList = members;
    const deps = stageDeps(twenty);
    const mapping = clinicMappingInput();
    if (mapping.entities.patients?.fields)
      mapping.entities.patients.fields.isProvider = {
        from: 'Occupation',
        transform: 'boolean',
        custom: { type: 'BOOLEAN', label: 'Provider' },
      };
    const { planKey } = await seedRun(deps.work, runId, clinicFiles(), mapping);
    const output = await resolveOwnersStage(
      { runId, planKey, ...(fallbackOwnerEmail ? { fallbackOwnerEmail } : {}) },
      deps,
    );
    return { deps, output, twenty };
  }

  it('writes owners.json from the owner column of the Segment chunks (blank cells ignored)', async () => {
    const { deps, output } = await run();
    const owners = OwnersFileSchema.parse(JSON.parse(await deps.work.getText(ownersKeyFor(runId))));
    expect(owners.byEmail).toEqual({ 'dr.known@clinic.test': 'm-known', 'locum@clinic.test': null });
    expect(owners.entities.appointments).toMatchObject({ rowsWithOwner: 3, distinctEmails: 2 });
    expect(ResolveOwnersOutputSchema.parse(output)).toEqual({
      runId,
      ownersKey: ownersKeyFor(runId),
      reportKey: ownersReportKeyFor(runId),
      entities: 1,
      distinctEmails: 2,
      matched: 1,
      unmatched: 1,
      fallbackUsed: 0,
      fallbackOwnerFound: false,
    });
  });

  it('lists unmatched staff emails and provider counts in the report only, never in output or logs', async () => {
    const { deps, output } = await run('front@clinic.test');
    const report = await deps.work.getText(ownersReportKeyFor(runId));
    expect(report).toContain('| locum@clinic.test | appointments | 1 |');
    expect(report).toContain('fallback owner front@clinic.test');
    expect(report).toMatch(/\| patients \| 1 \| 0 \| 1 \|/);
    expect(output.fallbackUsed).toBe(1);
    const outside = JSON.stringify(output) + deps.log.lines.join('\n');
    for (const email of [
      'locum@clinic.test',
      'dr.known@clinic.test',
      'front@clinic.test',
      'ann@example.test',
    ])
      expect(outside).not.toContain(email);
  });
});
