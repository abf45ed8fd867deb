import type { ObjectStore } from '../../ports/object-store.ts';
import type { WorkspaceMember } from '../../ports/twenty.ts';
import type { ChunkManifest } from '../inventory/manifest.ts';
import type { Plan } from '../inventory/plan.ts';
import type { EntitySpec, MappingSpec } from '../mapping/spec.ts';
import { chunkRows, entityChunks } from '../schema/run-inputs.ts';
import { membersByEmail, normalizeEmail, type OwnerColumnScan, type ProviderScan } from './resolve.ts';

/**
 * What ResolveOwners reads from the Segment chunks: the distinct normalized emails of the owner,
 * `skipIfMember` and provider columns of the mapping's entities. Emails stay in memory; callers
 * write them only to owners.json and the owners report.
 */

/** The field a profile sets on people loaded from its provider/staff file. */
export const PROVIDER_FLAG_FIELD = 'isProvider';

type OwnedEntity = EntitySpec & { owner: NonNullable<EntitySpec['owner']> };
type MemberSkippingEntity = EntitySpec & { skipIfMember: NonNullable<EntitySpec['skipIfMember']> };

/** The entities of a mapping whose records ResolveOwners looks at, by what it reads of them. */
export interface OwnerWork {
  /** Entities whose mapping names an `owner` column. */
  readonly owned: Array<[string, OwnedEntity]>;
  /** People flagged as providers (an `isProvider` field) that have an email column. */
  readonly providers: Array<[string, EntitySpec]>;
  /** Entities with `skipIfMember`: rows of workspace members are skipped by Prepare. */
  readonly memberSkipping: Array<[string, MemberSkippingEntity]>;
}

/** The entities ResolveOwners reads, in the mapping's entity order. */
export function ownerWorkOf(mapping: MappingSpec): OwnerWork {
  const entities = Object.entries(mapping.entities);
  return {
    owned: entities.filter((e): e is [string, OwnedEntity] => e[1].owner !== undefined),
    providers: entities.filter(
      ([, e]) => e.target === 'person' && PROVIDER_FLAG_FIELD in e.fields && emailColumn(e) !== undefined,
    ),
    memberSkipping: entities.filter(
      (e): e is [string, MemberSkippingEntity] => e[1].skipIfMember !== undefined,
    ),
  };
}

/** True when ResolveOwners reads any chunk (and so needs Segment's manifest). */
export function readsChunks(work: OwnerWork): boolean {
  return work.owned.length + work.providers.length + work.memberSkipping.length > 0;
}

/** Distinct normalized values of one column over an entity's chunks, with the rows naming each. */
export async function scanColumn(
  store: ObjectStore,
  entity: EntitySpec,
  column: string,
  plan: Plan,
  manifest: ChunkManifest,
): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const { chunks } of entityChunks(entity.files, plan, manifest)) {
    for await (const row of chunkRows(store, chunks)) {
      const email = normalizeEmail(row.cells[column]);
      if (email !== '') counts.set(email, (counts.get(email) ?? 0) + 1);
    }
  }
  return counts;
}

/** The email column of an entity: the first column of its `emails` (transform email) field. */
export function emailColumn(entity: EntitySpec): string | undefined {
  for (const field of Object.values(entity.fields)) {
    if (field.transform !== 'email') continue;
    if (typeof field.from === 'string') return field.from;
    if (Array.isArray(field.from)) return field.from[0];
  }
  return undefined;
}

/** Where the scans read: the work bucket's chunks of the run's plan (null when no manifest was needed). */
export interface ChunkSource {
  readonly store: ObjectStore;
  readonly plan: Plan;
  readonly manifest: ChunkManifest | null;
}

/** One scan per owned entity: its owner column's distinct emails and the rows naming each. */
export async function scanOwnerColumns(
  source: ChunkSource,
  owned: OwnerWork['owned'],
): Promise<OwnerColumnScan[]> {
  const { store, plan, manifest } = source;
  const scans: OwnerColumnScan[] = [];
  for (const [entity, spec] of owned) {
    const emails = manifest ? await scanColumn(store, spec, spec.owner.from, plan, manifest) : new Map();
    scans.push({ entity, object: spec.target, joinColumn: spec.owner.joinColumn, emails });
  }
  return scans;
}

/** The distinct emails of every `skipIfMember` column. */
export async function scanMemberSkipping(
  source: ChunkSource,
  memberSkipping: OwnerWork['memberSkipping'],
): Promise<Set<string>> {
  const { store, plan, manifest } = source;
  const staffEmails = new Set<string>();
  for (const [, spec] of memberSkipping) {
    if (!manifest) break;
    for (const email of (await scanColumn(store, spec, spec.skipIfMember.from, plan, manifest)).keys())
      staffEmails.add(email);
  }
  return staffEmails;
}

/** Per provider entity: its distinct provider emails and how many of them are workspace members. */
export async function scanProviders(
  source: ChunkSource,
  providerEntities: OwnerWork['providers'],
  members: readonly WorkspaceMember[],
): Promise<ProviderScan[]> {
  const { store, plan, manifest } = source;
  const memberEmails = membersByEmail(members);
  const providers: ProviderScan[] = [];
  for (const [entity, spec] of providerEntities) {
    if (!manifest) break;
    const emails = await scanColumn(store, spec, emailColumn(spec) as string, plan, manifest);
    let asMembers = 0;
    for (const email of emails.keys()) if (memberEmails.has(email)) asMembers++;
    providers.push({ entity, providers: emails.size, members: asMembers });
  }
  return providers;
}
