import { createInterface } from 'node:readline';
import { z } from 'zod';
import { NotFoundError, ValidationError } from '../../core/errors.ts';
import { type ChunkManifestFile, ChunkManifestSchema } from '../../core/inventory/manifest.ts';
import { type Plan, PlanSchema } from '../../core/inventory/plan.ts';
import {
  type EntityPrepareStats,
  LOAD_PHASES,
  type LoadManifestItem,
  type MappedLineInput,
  type MappedTarget,
  type RejectLine,
} from '../../core/load/format.ts';
import { deterministicId, recordId } from '../../core/mapping/ids.ts';
import { compileEntity, type MappedRecord, sourceIdOf } from '../../core/mapping/map-record.ts';
import { type MappingSpec, parseMappingSpec } from '../../core/mapping/spec.ts';
import type { Emails } from '../../core/mapping/transforms/email.ts';
import type { Links } from '../../core/mapping/transforms/links.ts';
import { NdjsonSink } from '../../core/ndjson-sink.ts';
import { MATCHED_MEMBER, skipsAsMember } from '../../core/owners/resolve.ts';
import {
  domainKey,
  emailKey,
  type MergeCandidates,
  MergeCandidatesSchema,
  type OwnersFile,
  OwnersFileSchema,
  ownerOf,
} from '../../core/prepare/inputs.ts';
import { matchFiles, type OrderedEntity, orderEntities, parentsFirst } from '../../core/prepare/order.ts';
import { contentHash, mimeOf } from '../../core/prepare/record.ts';
import { type TargetModel, TargetModelSchema } from '../../core/prepare/target-model.ts';
import { LoadChunkWriter } from '../../core/prepare/writers.ts';
import {
  manifestKeyFor,
  mappingKeyFor,
  mergeCandidatesKey,
  ownersKeyFor,
  phaseManifestKey,
  prepareRejectsKey,
  prepareStatsKey,
  readArtifact,
  readArtifactIfPresent,
  segmentRejectsKeyFor,
  targetModelKey,
  waveManifestKey,
  workflowsKey,
} from '../../core/run-layout.ts';
import { dropFileOf } from '../../core/sources/drop-file.ts';
import { profileFor, type ReferenceSpec } from '../../core/sources/index.ts';
import { createPivotIndex, type PivotIndex, withPivot } from '../../core/sources/pivot.ts';
import { buildWorkflowReferenceFromRecords, NOT_MIGRATED_WORKFLOW } from '../../core/sources/workflows.ts';
import type { FieldReject, Reject } from '../../core/validation/codes.ts';
import { createEntityValidator, type SourceRow } from '../../core/validation/validate-entity.ts';
import type { ObjectStore } from '../../ports/object-store.ts';
import type { TaskDeps } from '../deps.ts';
import {
  DEFAULT_LOAD_CHUNK_SIZE,
  type PreparedPhase,
  type PrepareInput,
  type PrepareOutput,
} from './schema.ts';

export { NOT_MIGRATED_WORKFLOW };
/** Skip reason of rows of a file no entity of the mapping reads. */
export const NOT_MAPPED = 'NOT_MAPPED';

/** The spec inside plan.json's `mapping` section (`{spec, ...}`), when mapping.json is absent. */
function planMapping(plan: Plan): MappingSpec | undefined {
  const section = plan.mapping as { spec?: unknown } | undefined;
  if (section === undefined || section === null || section.spec === undefined) return undefined;
  return parseMappingSpec(section.spec, 'plan.json mapping.spec');
}

/** Rows of one segmented file, chunk by chunk (one chunk in memory at a time). */
async function* rowsOf(store: ObjectStore, file: ChunkManifestFile): AsyncGenerator<SourceRow> {
  for (const chunk of file.chunks) {
    const text = await store.getText(chunk.key);
    for (const line of text.split('\n')) {
      if (line === '') continue;
      // Segment wrote these lines; a structural check is enough (zod per row costs a third of the run).
      const row = JSON.parse(line) as { line?: unknown; cells?: unknown };
      if (typeof row.line !== 'number' || typeof row.cells !== 'object' || row.cells === null)
        throw new ValidationError(`chunk ${chunk.key} has a line that is not {line, cells}`, {
          code: 'INVALID_CHUNK',
        });
      yield { line: row.line, cells: row.cells as Record<string, string> };
    }
  }
}

/** Segment's rejects counted per file name and reason (streamed: the file can be large). */
async function segmentRejectCounts(
  store: ObjectStore,
  runId: string,
): Promise<Map<string, Record<string, number>>> {
  const counts = new Map<string, Record<string, number>>();
  let stream: Awaited<ReturnType<ObjectStore['getStream']>>;
  try {
    stream = await store.getStream(segmentRejectsKeyFor(runId));
  } catch (error) {
    if (error instanceof NotFoundError) return counts;
    throw error;
  }
  for await (const line of createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY })) {
    if (line.trim() === '') continue;
    const reject = JSON.parse(line) as { file?: unknown; reason?: unknown };
    const file = typeof reject.file === 'string' ? reject.file : '';
    const reason = typeof reject.reason === 'string' ? reject.reason : 'MALFORMED_ROW';
    const byReason = counts.get(file) ?? {};
    byReason[reason] = (byReason[reason] ?? 0) + 1;
    counts.set(file, byReason);
  }
  return counts;
}

function bump(counts: Record<string, number>, key: string, n = 1): void {
  counts[key] = (counts[key] ?? 0) + n;
}

function sum(counts: Record<string, number>): number {
  return Object.values(counts).reduce((a, b) => a + b, 0);
}

function folderInstance(folder: string): string {
  return folder.replace(/^drop\//, '').replace(/\/+$/, '') || folder;
}

/** Everything one Prepare run shares across entities. */
interface RunState {
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
  readonly deps: TaskDeps;
  readonly rejects: NdjsonSink;
  readonly stats: Record<string, EntityPrepareStats>;
  /** Entity → source ids of its records that will be loaded. */
  readonly valid: Map<string, Set<string>>;
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

function idOf(state: RunState, entity: string, sourceId: string): string {
  return (
    state.overrides.get(entity)?.get(sourceId) ??
    recordId(state.sourceInstance, state.mapping.source, entity, sourceId)
  );
}

function writeReject(state: RunState, reject: Reject): void {
  const line: RejectLine = { ...reject, sourceId: reject.sourceId ?? '' };
  state.rejects.write(line);
}

/** The id of the pre-existing Twenty record this source record matches by email or domain, if any. */
function mergeTargetOf(state: RunState, target: string, record: MappedRecord): string | undefined {
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

type Carrier = 'taskTarget' | 'noteTarget' | 'attachment';

function carrierOf(target: string): Carrier | undefined {
  if (target === 'task') return 'taskTarget';
  if (target === 'note') return 'noteTarget';
  if (target === 'attachment') return 'attachment';
  return undefined;
}

/** Plan-time checks: every object has a plural and every target a join column in the target model. */
function checkModel(mapping: MappingSpec, model: TargetModel): void {
  const problems: string[] = [];
  for (const [name, entity] of Object.entries(mapping.entities)) {
    if (model.plural[entity.target] === undefined)
      problems.push(`entities.${name}: target-model.json has no plural name for ${entity.target}`);
    if (entity.targets.length === 0) continue;
    const carrier = carrierOf(entity.target);
    if (carrier === undefined) {
      problems.push(`entities.${name}.targets: only task, note and attachment entities can have targets`);
      continue;
    }
    for (const t of entity.targets) {
      const object = mapping.entities[t.entity]?.target ?? t.entity;
      if (model.joinColumns[carrier][object] === undefined)
        problems.push(
          `entities.${name}.targets: ${carrier} has no join column to ${object} in target-model.json`,
        );
    }
  }
  if (problems.length > 0)
    throw new ValidationError(problems.map((p) => `mapping: ${p}`).join('\n'), { code: 'MAPPING_INVALID' });
}

/** The drop-folder file at a folder-relative path (case-insensitive: exports often come from Windows). */
function findAttachment(
  state: RunState,
  path: string,
): { key: string; name: string; bytes: number } | undefined {
  const index = state.attachmentsByName.get(path.toLowerCase());
  const found = index === undefined ? undefined : state.plan.attachments[index];
  return found === undefined ? undefined : { key: found.key, name: found.name, bytes: found.bytes };
}

/** The pivot's stats name: the profile's name for the long-format file, else `<entity>Pivot`. */
function pivotStatsName(mapping: MappingSpec, entity: string): string {
  return profileFor(mapping.source).pivots.find((p) => p.into === entity)?.entity ?? `${entity}Pivot`;
}

/**
 * Streams the long-format file(s) of an entity's `pivot` into an index keyed by the record id
 * (held in memory: one entry per record × property); rows it refuses are rejects of the pivot.
 */
async function readPivot(
  state: RunState,
  entity: string,
  files: readonly ChunkManifestFile[],
): Promise<PivotIndex | undefined> {
  const pivot = state.mapping.entities[entity]?.pivot;
  if (pivot === undefined) return undefined;
  const index = createPivotIndex(pivot);
  const name = pivotStatsName(state.mapping, entity);
  const stats = state.stats[name] as EntityPrepareStats;
  for (const file of files) {
    const fileName = file.key.slice(state.plan.folder.length);
    for await (const row of rowsOf(state.deps.work, file)) {
      const reject = index.add({ line: row.line, cells: row.cells ?? {} });
      if (reject === null) continue;
      writeReject(state, { ...reject, file: fileName, entity: name });
      bump(stats.rejected, reject.reason);
    }
    await state.rejects.drained();
  }
  return index;
}

/** Maps, validates and writes one entity's rows; returns nothing, fills the run state. */
async function prepareEntity(
  state: RunState,
  entity: OrderedEntity,
  files: readonly ChunkManifestFile[],
  pivot: PivotIndex | undefined,
): Promise<void> {
  const { mapping, model } = state;
  const spec = entity.spec;
  const stats = state.stats[entity.name] as EntityPrepareStats;
  const plural = model.plural[spec.target] as string;
  const carrier = carrierOf(spec.target);
  const compiled = compileEntity(entity.name, spec, {
    options: mapping.options,
    now: state.now,
    phi: mapping.phi,
  });
  const valid = new Set<string>();
  state.valid.set(entity.name, valid);
  const overrides = new Map<string, string>();
  state.overrides.set(entity.name, overrides);
  const claimedIds = new Set<string>();
  const emails = state.emailClaims.get(spec.target) ?? new Set<string>();
  state.emailClaims.set(spec.target, emails);
  const has = (other: string, id: string): boolean => state.valid.get(other)?.has(id) ?? false;
  const owner = ownerOf(spec);
  const selfRelation = Object.entries(spec.relations).find(([, r]) => r.entity === entity.name);
  const depthById = new Map<string, number>();
  let maxDepth = 0;
  let base = 0;
  for (const ref of entity.references) {
    const w = state.waves.get(ref);
    if (w !== undefined && state.stats[ref]?.phase === entity.phase)
      base = Math.max(base, w.base + w.maxDepth + 1);
  }
  const writer = new LoadChunkWriter(
    state.deps.work,
    state.runId,
    entity.phase,
    entity.name,
    state.chunkSize,
  );

  const claimSourceId = (id: string): boolean => {
    if (claimedIds.has(id)) return false;
    claimedIds.add(id);
    return true;
  };
  const claimEmail = (email: string): boolean => {
    if (emails.has(email)) return false;
    emails.add(email);
    return true;
  };

  const reject = (fileName: string, line: number, sourceId: string | null, problems: FieldReject[]): void => {
    for (const p of problems)
      writeReject(state, {
        file: fileName,
        line,
        entity: entity.name,
        sourceId,
        field: p.field,
        reason: p.reason,
        rule: p.rule,
      });
    bump(stats.rejected, problems[0]?.reason ?? 'MALFORMED_ROW');
  };

  async function handle(
    fileName: string,
    validator: ReturnType<typeof createEntityValidator>,
    row: SourceRow,
  ): Promise<void> {
    // A provider who is a workspace member is a user already: skipped before it claims an id or email.
    if (row.cells !== null && skipsAsMember(spec, row.cells, state.memberEmails)) {
      bump(stats.skipped, MATCHED_MEMBER);
      return;
    }
    const result = validator.check(
      pivot === undefined || row.cells === null
        ? row
        : { ...row, cells: withPivot(row.cells, pivot, spec.idColumn) },
    );
    if (!result.ok) {
      const first = result.rejects[0];
      for (const r of result.rejects) writeReject(state, r);
      bump(stats.rejected, first?.reason ?? 'MALFORMED_ROW');
      return;
    }
    const record = result.record;
    const data: Record<string, unknown> = { ...record.fields };
    let file: MappedLineInput['file'];
    // The file: the entity's `file` spec, else (older mappings) an attachment's fullPath under documents/.
    const ref =
      row.cells === null
        ? null
        : spec.file !== undefined
          ? dropFileOf(spec, row.cells)
          : carrier === 'attachment' && typeof data.fullPath === 'string'
            ? dropFileOf(
                { file: { from: '\u0000path', baseDir: 'documents/' } },
                { '\u0000path': data.fullPath },
              )
            : null;
    if (ref !== null || (carrier === 'attachment' && spec.file !== undefined)) {
      const column = spec.file?.from ?? 'fullPath';
      const found = ref === null ? undefined : findAttachment(state, ref.path);
      if (found === undefined) {
        reject(fileName, row.line, record.sourceId, [
          {
            field: column,
            reason: 'MISSING_FILE',
            rule: `file exists under ${spec.file?.baseDir ?? 'documents/'}`,
          },
        ]);
        return;
      }
      if (state.maxFileBytes !== undefined && found.bytes > state.maxFileBytes) {
        reject(fileName, row.line, record.sourceId, [
          { field: column, reason: 'FILE_TOO_LARGE', rule: `file at most ${state.maxFileBytes} bytes` },
        ]);
        return;
      }
      if (carrier === 'attachment') delete data.fullPath;
      const base = found.name.slice(found.name.lastIndexOf('/') + 1);
      file = { key: found.key, name: base, mime: mimeOf(base), bytes: found.bytes };
    }
    valid.add(record.sourceId);
    const mergeId = mergeTargetOf(state, spec.target, record);
    if (mergeId !== undefined) overrides.set(record.sourceId, mergeId);
    const id = mergeId ?? recordId(state.sourceInstance, mapping.source, entity.name, record.sourceId);
    let depth = 0;
    for (const [name, ref] of Object.entries(record.relations)) {
      const rel = spec.relations[name];
      if (rel === undefined) continue;
      data[rel.joinColumn] = idOf(state, rel.entity, ref);
      if (selfRelation !== undefined && name === selfRelation[0]) depth = (depthById.get(ref) ?? 0) + 1;
    }
    if (selfRelation !== undefined) {
      depthById.set(record.sourceId, depth);
      maxDepth = Math.max(maxDepth, depth);
    }
    if (owner !== undefined && row.cells !== null) {
      const email = emailKey(row.cells[owner.from] ?? '');
      const member = email === '' ? undefined : state.owners?.byEmail[email];
      if (typeof member === 'string') data[owner.joinColumn] = member;
    }
    const targets: MappedTarget[] = [];
    const seen = new Set<string>();
    for (const t of record.targets) {
      const object = mapping.entities[t.entity]?.target ?? t.entity;
      const column = carrier === undefined ? undefined : model.joinColumns[carrier][object];
      const key = `${t.entity}\u001f${t.sourceId}`;
      if (column === undefined || seen.has(key)) continue;
      seen.add(key);
      const targetId = idOf(state, t.entity, t.sourceId);
      if (carrier === 'attachment') {
        if (!(column in data)) data[column] = targetId;
        continue;
      }
      const activity =
        carrier === 'taskTarget' ? model.activityColumns.taskTarget : model.activityColumns.noteTarget;
      targets.push({
        object: carrier === 'taskTarget' ? 'taskTargets' : 'noteTargets',
        data: {
          id: deterministicId([
            state.sourceInstance,
            'target',
            entity.name,
            record.sourceId,
            t.entity,
            t.sourceId,
          ]),
          [activity]: id,
          [column]: targetId,
        },
      });
    }
    // Pivot rows joined into this record: Reconcile moves them with it if Twenty refuses it.
    const properties = pivot?.get(record.sourceId);
    const merged = properties === undefined ? 0 : Object.keys(properties).length;
    const line: MappedLineInput = {
      sourceId: record.sourceId,
      line: row.line,
      id,
      object: plural,
      data,
      targets,
      contentHash: contentHash({ data, targets, file }),
      ...(mergeId !== undefined ? { mergeTarget: true as const } : {}),
      ...(file !== undefined ? { file } : {}),
      ...(merged > 0 ? { merged } : {}),
    };
    stats.mapped++;
    for (const w of result.warnings) bump(stats.warnings, w);
    await writer.add(base + depth, JSON.stringify(line));
  }

  for (const file of files) {
    const fileName = file.key.slice(state.plan.folder.length);
    const validator = createEntityValidator({
      file: fileName,
      entity: compiled,
      has,
      claimSourceId,
      claimEmail,
    });
    if (selfRelation === undefined) {
      for await (const row of rowsOf(state.deps.work, file)) {
        await handle(fileName, validator, row);
        await state.rejects.drained();
      }
      continue;
    }
    // Parents first: the entity's rows are held in memory to sort them (self-referencing entities
    // are organisations and plans, small next to patients and their activities).
    const rows: SourceRow[] = [];
    for await (const row of rowsOf(state.deps.work, file)) rows.push(row);
    const column = selfRelation[1].from;
    const order = parentsFirst(
      rows.map((r) => ({
        id: r.cells === null ? '' : sourceIdOf(spec, r.cells),
        parent: (r.cells?.[column] ?? '').trim(),
      })),
    );
    for (const index of order) {
      await handle(fileName, validator, rows[index] as SourceRow);
      await state.rejects.drained();
    }
  }
  await writer.finish();
  state.items.push(...writer.items);
  state.waves.set(entity.name, { base, maxDepth });
  if (pivot !== undefined) {
    const settled = pivot.settle((id) => valid.has(id));
    const pivotStats = state.stats[pivotStatsName(mapping, entity.name)] as EntityPrepareStats;
    pivotStats.mapped += settled.loaded;
    for (const [reason, n] of Object.entries(settled.skipped)) bump(pivotStats.skipped, reason, n);
    pivot.clear();
  }
}

/**
 * The Prepare stage: turns the approved mapping and Segment's raw chunks into records in Twenty's
 * REST shape, ready to send — ids computed (deterministic, or a pre-existing record's id for merge
 * candidates), foreign keys and activity targets resolved against the records that will really be
 * loaded (a child of a rejected parent is an ORPHAN_REFERENCE), family emails de-duplicated,
 * owners resolved, attachment files located. It writes load chunks and one manifest per phase
 * (split into waves where entities of one phase reference each other), rejects, per-entity stats
 * where source rows = mapped + rejected + skipped, and the workflow rebuild reference. It needs no
 * Twenty access: the workspace facts it needs come from `target-model.json`.
 */
export async function prepare(input: PrepareInput, deps: TaskDeps): Promise<PrepareOutput> {
  const { runId, planKey } = input;
  const chunkSize = input.chunkSize ?? DEFAULT_LOAD_CHUNK_SIZE;
  const started = deps.clock.now();
  const plan = await readArtifact(deps.work, planKey, PlanSchema);
  if (plan.runId !== runId)
    throw new ValidationError(`plan ${planKey} belongs to another run`, { code: 'INVALID_PLAN' });
  const storedMapping = await readArtifactIfPresent(deps.work, mappingKeyFor(runId), z.unknown());
  const mapping =
    storedMapping === undefined ? planMapping(plan) : parseMappingSpec(storedMapping, 'mapping.json');
  if (mapping === undefined)
    throw new ValidationError(`run ${runId} has no mapping (${mappingKeyFor(runId)}); approve a plan first`, {
      code: 'MAPPING_MISSING',
    });
  const model: TargetModel = await readArtifact(deps.work, targetModelKey(runId), TargetModelSchema);
  const manifest = await readArtifact(deps.work, manifestKeyFor(runId), ChunkManifestSchema);
  const owners = await readArtifactIfPresent(deps.work, ownersKeyFor(runId), OwnersFileSchema);
  const merges = await readArtifactIfPresent(deps.work, mergeCandidatesKey(runId), MergeCandidatesSchema);
  checkModel(mapping, model);
  const ordered = orderEntities(mapping);
  const sourceInstance =
    input.sourceInstance ??
    (typeof plan.sourceInstance === 'string' && plan.sourceInstance !== ''
      ? plan.sourceInstance
      : folderInstance(plan.folder));

  const profile = profileFor(mapping.source);
  const pivotEntities = ordered.filter((e) => e.spec.pivot !== undefined);
  const pivotKey = (entity: string): string => `\u0000pivot:${entity}`;
  const referenceSpecs: ReferenceSpec[] = profile.references.filter((r) => !(r.entity in mapping.entities));
  const fileName = (f: ChunkManifestFile): string => f.key.slice(plan.folder.length);
  const assignment = matchFiles(manifest.files.map(fileName), [
    ...ordered.map((e) => ({ entity: e.name, files: e.spec.files })),
    ...pivotEntities.map((e) => ({ entity: pivotKey(e.name), files: e.spec.pivot?.files ?? [] })),
    ...referenceSpecs.map((r) => ({ entity: r.entity, files: r.files })),
  ]);
  const filesOf = (entity: string): ChunkManifestFile[] =>
    manifest.files.filter((f) => assignment.get(fileName(f)) === entity);

  const segmentRejects = await segmentRejectCounts(deps.work, runId);
  const stats: Record<string, EntityPrepareStats> = {};
  const newStats = (files: ChunkManifestFile[], extra: Partial<EntityPrepareStats>): EntityPrepareStats => {
    const rejected: Record<string, number> = {};
    for (const f of files)
      for (const [reason, n] of Object.entries(segmentRejects.get(fileName(f)) ?? {}))
        bump(rejected, reason, n);
    return {
      sourceRows: files.reduce((s, f) => s + f.rows + f.rejected, 0),
      mapped: 0,
      rejected,
      skipped: {},
      warnings: {},
      ...(files.length > 0 ? { file: files.map(fileName).join(', ') } : {}),
      ...extra,
    };
  };
  for (const e of ordered)
    stats[e.name] = newStats(filesOf(e.name), {
      object: model.plural[e.spec.target] as string,
      phase: e.phase,
    });
  for (const e of pivotEntities) {
    const entry: EntityPrepareStats & { mergedInto: string } = {
      // No phase: the pivot's rows travel inside the records of `mergedInto`, not in chunks of their own.
      ...newStats(filesOf(pivotKey(e.name)), { object: model.plural[e.spec.target] as string }),
      mergedInto: e.name,
    };
    stats[pivotStatsName(mapping, e.name)] = entry;
  }

  const rejects = new NdjsonSink(deps.work, prepareRejectsKey(runId));
  const state: RunState = {
    runId,
    sourceInstance,
    mapping,
    model,
    plan,
    owners,
    memberEmails: new Set(owners?.memberEmails ?? []),
    merges,
    now: started,
    chunkSize,
    maxFileBytes: input.maxFileBytes,
    deps,
    rejects,
    stats,
    valid: new Map(),
    overrides: new Map(),
    mergeUsed: new Set(),
    emailClaims: new Map(),
    waves: new Map(),
    items: [],
    attachmentsByName: new Map(plan.attachments.map((a, i) => [a.name.toLowerCase(), i])),
  };
  try {
    for (const entity of ordered) {
      const t0 = deps.clock.now();
      const pivot = await readPivot(state, entity.name, filesOf(pivotKey(entity.name)));
      await prepareEntity(state, entity, filesOf(entity.name), pivot);
      const s = stats[entity.name] as EntityPrepareStats;
      deps.log.info('entity prepared', {
        runId,
        entity: entity.name,
        phase: entity.phase,
        mapped: s.mapped,
        rejected: sum(s.rejected),
        durationMs: deps.clock.now() - t0,
      });
    }
    const references: Array<
      { entity: string; file: string } & ReturnType<typeof buildWorkflowReferenceFromRecords>
    > = [];
    for (const ref of referenceSpecs) {
      const files = filesOf(ref.entity);
      if (files.length === 0) continue;
      const s = newStats(files, {});
      stats[ref.entity] = s;
      for (const file of files) {
        // Workflow definitions are configuration, not patient data; a file is small and read whole.
        const rows: SourceRow[] = [];
        for await (const row of rowsOf(deps.work, file)) rows.push(row);
        const header =
          plan.files.find((f) => f.key === file.key)?.header ?? Object.keys(rows[0]?.cells ?? {});
        const reference = buildWorkflowReferenceFromRecords(
          rows.map((r) => ({ line: r.line, cells: r.cells ?? {} })),
          header,
        );
        references.push({ entity: ref.entity, file: fileName(file), ...reference });
        bump(s.skipped, NOT_MIGRATED_WORKFLOW, rows.length);
      }
    }
    if (references.length > 0)
      await deps.work.put(
        workflowsKey(runId),
        `${JSON.stringify({ runId, source: mapping.source, files: references }, null, 2)}\n`,
        'application/json',
      );
    for (const file of manifest.files) {
      if (assignment.has(fileName(file))) continue;
      const s = newStats([file], {});
      bump(s.skipped, NOT_MAPPED, file.rows);
      stats[file.stem] = s;
    }
    await rejects.close();
  } catch (error) {
    await rejects.abort();
    throw error;
  }

  const phases: PreparedPhase[] = [];
  for (const phase of LOAD_PHASES) {
    const ofPhase = state.items.filter((i) => i.item.phase === phase);
    const waves = [...new Set(ofPhase.map((i) => i.wave))].sort((a, b) => a - b);
    for (const [n, wave] of waves.entries()) {
      const items = ofPhase.filter((i) => i.wave === wave).map((i) => i.item);
      const manifestKey = n === 0 ? phaseManifestKey(runId, phase) : waveManifestKey(runId, phase, n + 1);
      await deps.work.put(manifestKey, `${JSON.stringify(items)}\n`, 'application/json');
      phases.push({
        phase,
        manifestKey,
        chunks: items.length,
        records: items.reduce((s, i) => s + i.records, 0),
      });
    }
  }
  const statsKey = prepareStatsKey(runId);
  await deps.work.put(
    statsKey,
    `${JSON.stringify({ runId, sourceInstance, entities: stats }, null, 2)}\n`,
    'application/json',
  );
  const totals = Object.values(stats).reduce(
    (t, s) => ({
      mapped: t.mapped + s.mapped,
      rejected: t.rejected + sum(s.rejected),
      skipped: t.skipped + sum(s.skipped),
    }),
    { mapped: 0, rejected: 0, skipped: 0 },
  );
  deps.log.info('prepare written', {
    runId,
    phases: phases.length,
    chunks: phases.reduce((s, p) => s + p.chunks, 0),
    ...totals,
    durationMs: deps.clock.now() - started,
  });
  return { runId, sourceInstance, phases, ...totals, statsKey, rejectsKey: prepareRejectsKey(runId) };
}

// The key lives in run-layout.ts; this name stays here for the tests.
export { waveManifestKey };
