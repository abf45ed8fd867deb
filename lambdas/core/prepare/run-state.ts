import type { ObjectStore } from '../../ports/object-store.ts';
import type { Plan } from '../inventory/plan.ts';
import type { EntityPrepareStats, LoadManifestItem, RejectLine } from '../load/format.ts';
import { recordId } from '../mapping/ids.ts';
import type { MappedRecord } from '../mapping/map-record.ts';
import type { MappingSpec } from '../mapping/spec.ts';
import type { Emails } from '../mapping/transforms/email.ts';
import type { Links } from '../mapping/transforms/links.ts';
import type { NdjsonSink } from '../ndjson-sink.ts';
import { profileFor } from '../sources/index.ts';
import type { Reject } from '../validation/codes.ts';
import { domainKey, emailKey, type MergeCandidates, type OwnersFile } from './inputs.ts';
import type { TargetModel } from './target-model.ts';

/** Everything one Prepare run shares across entities. */
export interface RunState {
  readonly runId: string;
  readonly sourceInstance: string;
  readonly mapping: MappingSpec;
  readonly model: TargetModel;
  readonly plan: Plan;
  readonly owners: OwnersFile | undefined;
  /** Staff emails of workspace members: rows of `skipIfMember` entities naming one are skipped. */
  readonly memberEmails: ReadonlySet<string>;
  readonly merges: MergeCandidates | undefined;
  readonly now: number;
  readonly chunkSize: number;
  readonly maxFileBytes: number | undefined;
  /** The work bucket: Segment's chunks are read from it, load chunks written to it. */
  readonly store: ObjectStore;
  readonly rejects: NdjsonSink;
  /** `sample-candidates.ndjson`: each load chunk's record ids and references, for SampleLoad. */
  readonly candidates: NdjsonSink;
  readonly stats: Record<string, EntityPrepareStats>;
  /** Entity → source ids of its records that will be loaded. */
  readonly valid: Map<string, Set<string>>;
  /**
   * Entity → source id → Twenty id of records earlier runs of this source loaded (the id map), read
   * for an incremental (`_since`) FHIR export only: a reference to one of them resolves even though
   * the export does not hold it. Absent for every other export.
   */
  readonly prior?: ReadonlyMap<string, ReadonlyMap<string, string>>;
  /** Entity → source id → id of a pre-existing Twenty record it merges into. */
  readonly overrides: Map<string, Map<string, string>>;
  /** Merge-target ids already taken (one pre-existing record takes one source record). */
  readonly mergeUsed: Set<string>;
  /** Twenty object → primary emails claimed (Twenty's unique index spans the object). */
  readonly emailClaims: Map<string, Set<string>>;
  /** Entity → first wave index and the depth of its deepest self-reference chain. */
  readonly waves: Map<string, { base: number; maxDepth: number }>;
  readonly items: Array<{ wave: number; item: LoadManifestItem }>;
  readonly attachmentsByName: Map<string, number>;
}

/** A fresh run state: nothing mapped yet, attachments indexed by lower-cased name. */
export function newRunState(
  fields: Pick<
    RunState,
    | 'runId'
    | 'sourceInstance'
    | 'mapping'
    | 'model'
    | 'plan'
    | 'owners'
    | 'merges'
    | 'now'
    | 'chunkSize'
    | 'maxFileBytes'
    | 'store'
    | 'rejects'
    | 'candidates'
    | 'stats'
  > &
    Partial<Pick<RunState, 'prior'>>,
): RunState {
  return {
    ...fields,
    memberEmails: new Set(fields.owners?.memberEmails ?? []),
    valid: new Map(),
    overrides: new Map(),
    mergeUsed: new Set(),
    emailClaims: new Map(),
    waves: new Map(),
    items: [],
    attachmentsByName: new Map(fields.plan.attachments.map((a, i) => [a.name.toLowerCase(), i])),
  };
}

export function bump(counts: Record<string, number>, key: string, n = 1): void {
  counts[key] = (counts[key] ?? 0) + n;
}

export function sum(counts: Record<string, number>): number {
  return Object.values(counts).reduce((a, b) => a + b, 0);
}

/**
 * The Twenty id of a source record: the pre-existing record it merges into, else — when this run
 * does not load it but an earlier run of the source did (an incremental export) — the id the id map
 * holds, else its deterministic id.
 */
export function idOf(state: RunState, entity: string, sourceId: string): string {
  const merged = state.overrides.get(entity)?.get(sourceId);
  if (merged !== undefined) return merged;
  if (state.prior !== undefined && state.valid.get(entity)?.has(sourceId) !== true) {
    const earlier = state.prior.get(entity)?.get(sourceId);
    if (earlier !== undefined) return earlier;
  }
  return recordId(state.sourceInstance, state.mapping.source, entity, sourceId);
}

/** True when a reference resolves: the record is loaded by this run, or (incremental export) by an earlier one. */
export function resolves(state: RunState, entity: string, sourceId: string): boolean {
  return (
    (state.valid.get(entity)?.has(sourceId) ?? false) || (state.prior?.get(entity)?.has(sourceId) ?? false)
  );
}

export function writeReject(state: RunState, reject: Reject): void {
  const line: RejectLine = { ...reject, sourceId: reject.sourceId ?? '' };
  state.rejects.write(line);
}

/** The id of the pre-existing Twenty record this source record matches by email or domain, if any. */
export function mergeTargetOf(state: RunState, target: string, record: MappedRecord): string | undefined {
  const merges = state.merges;
  if (merges === undefined) return undefined;
  let found: string | undefined;
  if (target === 'person') {
    for (const value of Object.values(record.fields)) {
      const primary = (value as Partial<Emails> | null)?.primaryEmail;
      if (typeof primary === 'string' && Array.isArray((value as Emails).additionalEmails)) {
        found = merges.people[emailKey(primary)];
        if (found !== undefined) break;
      }
    }
  } else if (target === 'company') {
    const url = (record.fields.domainName as Partial<Links> | undefined)?.primaryLinkUrl;
    const key = typeof url === 'string' ? domainKey(url) : null;
    if (key !== null) found = merges.companies[key];
  }
  if (found === undefined || state.mergeUsed.has(found)) return undefined;
  state.mergeUsed.add(found);
  return found;
}

export type Carrier = 'taskTarget' | 'noteTarget' | 'attachment';

export function carrierOf(target: string): Carrier | undefined {
  if (target === 'task') return 'taskTarget';
  if (target === 'note') return 'noteTarget';
  if (target === 'attachment') return 'attachment';
  return undefined;
}

/** The drop-folder file at a folder-relative path (case-insensitive: exports often come from Windows). */
export function findAttachment(
  state: RunState,
  path: string,
): { key: string; name: string; bytes: number } | undefined {
  const index = state.attachmentsByName.get(path.toLowerCase());
  const found = index === undefined ? undefined : state.plan.attachments[index];
  return found === undefined ? undefined : { key: found.key, name: found.name, bytes: found.bytes };
}

/** The pivot's stats name: the profile's name for the long-format file, else `<entity>Pivot`. */
export function pivotStatsName(mapping: MappingSpec, entity: string): string {
  return profileFor(mapping.source).pivots.find((p) => p.into === entity)?.entity ?? `${entity}Pivot`;
}
