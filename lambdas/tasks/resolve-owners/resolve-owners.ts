import { NotFoundError, ValidationError } from '../../core/errors.ts';
import type { ChunkManifest } from '../../core/inventory/manifest.ts';
import type { Plan } from '../../core/inventory/plan.ts';
import type { EntitySpec, MappingSpec } from '../../core/mapping/spec.ts';
import {
  memberEmailsAmong,
  membersByEmail,
  normalizeEmail,
  type OwnerColumnScan,
  type ProviderScan,
  renderOwnersReport,
  resolveOwners,
} from '../../core/owners/resolve.ts';
import { ownersKeyFor, ownersReportKeyFor } from '../../core/run-layout.ts';
import {
  chunkRows,
  entityChunks,
  readManifest,
  readPlan,
  readRunMapping,
} from '../../core/schema/run-inputs.ts';
import type { ObjectStore } from '../../ports/object-store.ts';
import { requireDep, type TaskDeps } from '../deps.ts';
import type { ResolveOwnersInput, ResolveOwnersOutput } from './schema.ts';

/** The field a profile sets on people loaded from its provider/staff file. */
export const PROVIDER_FLAG_FIELD = 'isProvider';

/** Distinct normalized values of one column over an entity's chunks, with the rows naming each. */
async function scanColumn(
  work: ObjectStore,
  entity: EntitySpec,
  column: string,
  plan: Plan,
  manifest: ChunkManifest,
): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const { chunks } of entityChunks(entity.files, plan, manifest)) {
    for await (const row of chunkRows(work, chunks)) {
      const email = normalizeEmail(row.cells[column]);
      if (email !== '') counts.set(email, (counts.get(email) ?? 0) + 1);
    }
  }
  return counts;
}

/** The email column of an entity: the first column of its `emails` (transform email) field. */
function emailColumn(entity: EntitySpec): string | undefined {
  for (const field of Object.values(entity.fields)) {
    if (field.transform !== 'email') continue;
    if (typeof field.from === 'string') return field.from;
    if (Array.isArray(field.from)) return field.from[0];
  }
  return undefined;
}

function ownerEntities(
  mapping: MappingSpec,
): Array<[string, EntitySpec & { owner: NonNullable<EntitySpec['owner']> }]> {
  return Object.entries(mapping.entities).filter(
    (e): e is [string, EntitySpec & { owner: NonNullable<EntitySpec['owner']> }] => e[1].owner !== undefined,
  );
}

/**
 * The ResolveOwners stage: for every entity whose mapping names an `owner` column, collects the
 * distinct normalized staff emails from the Segment chunks, matches them to workspace members, applies
 * the fallback owner to the rest, and writes `owners.json` (email → member id, read by Prepare) and
 * the mismatch report `owners-report.md`. Entities flagged as providers (an `isProvider` field on
 * people) are counted in the report: providers who are not members are loaded as flagged people.
 * For entities with `skipIfMember`, the column's emails that belong to a member are listed in
 * owners.json (`memberEmails`), so Prepare skips those rows instead of loading members as people.
 * Emails go to those two files only; the output is counts.
 */
export async function resolveOwnersStage(
  input: ResolveOwnersInput,
  deps: TaskDeps,
): Promise<ResolveOwnersOutput> {
  const { runId, planKey } = input;
  const plan = await readPlan(deps.work, planKey);
  // The operator's option travels in plan.json (`options`, written by Inventory) so the staff email
  // stays out of the execution history; an explicit input still wins.
  const planOptions = (plan as { options?: { fallbackOwnerEmail?: unknown } }).options;
  const fallbackOwnerEmail =
    input.fallbackOwnerEmail ??
    (typeof planOptions?.fallbackOwnerEmail === 'string' ? planOptions.fallbackOwnerEmail : undefined);
  if (plan.runId !== runId)
    throw new ValidationError(`plan ${planKey} belongs to another run`, { code: 'INVALID_PLAN' });
  const mapping = await readRunMapping(deps.work, runId, plan);
  const owned = ownerEntities(mapping);
  const providerEntities = Object.entries(mapping.entities).filter(
    ([, e]) => e.target === 'person' && PROVIDER_FLAG_FIELD in e.fields && emailColumn(e) !== undefined,
  );
  const memberSkipping = Object.entries(mapping.entities).filter(
    (e): e is [string, EntitySpec & { skipIfMember: NonNullable<EntitySpec['skipIfMember']> }] =>
      e[1].skipIfMember !== undefined,
  );
  let manifest: ChunkManifest | null = null;
  if (owned.length + providerEntities.length + memberSkipping.length > 0) {
    manifest = (await readManifest(deps.work, runId)) ?? null;
    if (manifest === null)
      throw new NotFoundError(`run ${runId} has no chunk manifest: ResolveOwners runs after Segment`);
  }

  const scans: OwnerColumnScan[] = [];
  for (const [entity, spec] of owned) {
    const emails = manifest ? await scanColumn(deps.work, spec, spec.owner.from, plan, manifest) : new Map();
    scans.push({ entity, object: spec.target, joinColumn: spec.owner.joinColumn, emails });
  }

  const twenty = await requireDep(deps, 'twenty')();
  const members = await twenty.members();
  const owners = resolveOwners(runId, scans, members, fallbackOwnerEmail);
  // Staff rows that are workspace members (skipIfMember): Prepare skips them as MATCHED_MEMBER.
  const staffEmails = new Set<string>();
  for (const [, spec] of memberSkipping) {
    if (!manifest) break;
    for (const email of (await scanColumn(deps.work, spec, spec.skipIfMember.from, plan, manifest)).keys())
      staffEmails.add(email);
  }
  owners.memberEmails = memberEmailsAmong(staffEmails, members);

  const memberEmails = membersByEmail(members);
  const providers: ProviderScan[] = [];
  for (const [entity, spec] of providerEntities) {
    if (!manifest) break;
    const emails = await scanColumn(deps.work, spec, emailColumn(spec) as string, plan, manifest);
    let asMembers = 0;
    for (const email of emails.keys()) if (memberEmails.has(email)) asMembers++;
    providers.push({ entity, providers: emails.size, members: asMembers });
  }

  const ownersKey = ownersKeyFor(runId);
  const reportKey = ownersReportKeyFor(runId);
  await deps.work.put(ownersKey, `${JSON.stringify(owners, null, 2)}\n`, 'application/json');
  await deps.work.put(
    reportKey,
    renderOwnersReport(owners, scans, providers, fallbackOwnerEmail),
    'text/markdown; charset=utf-8',
  );
  for (const warning of owners.warnings) deps.log.warn('owner resolution warning', { runId, code: warning });
  deps.log.info('owners resolved', {
    runId,
    entities: scans.length,
    matched: owners.matched,
    unmatched: owners.unmatched,
    fallbackUsed: owners.fallbackUsed,
    members: members.length,
  });
  return {
    runId,
    ownersKey,
    reportKey,
    entities: scans.length,
    distinctEmails: owners.matched + owners.unmatched,
    matched: owners.matched,
    unmatched: owners.unmatched,
    fallbackUsed: owners.fallbackUsed,
    fallbackOwnerFound: owners.fallbackOwner !== null,
  };
}
