import { createHash } from 'node:crypto';
import type { ChunkManifestFile } from '../inventory/manifest.ts';
import type { EntityPrepareStats, MappedLineInput, MappedTarget } from '../load/format.ts';
import { deterministicId, recordId } from '../mapping/ids.ts';
import { type CompiledEntity, compileEntity, type MappedRecord, sourceIdOf } from '../mapping/map-record.ts';
import type { EntitySpec, RelationSpec } from '../mapping/spec.ts';
import { MATCHED_MEMBER, skipsAsMember } from '../owners/resolve.ts';
import { runPrefix } from '../run-layout.ts';
import { referencedIds } from '../sample/select.ts';
import { dropFileOf } from '../sources/drop-file.ts';
import { hashableFile, inlineFileOf } from '../sources/fhir/inline.ts';
import { createPivotIndex, type PivotIndex, withPivot } from '../sources/pivot.ts';
import type { FieldReject } from '../validation/codes.ts';
import {
  createEntityValidator,
  type EntityValidator,
  type SourceRow,
  type ValidatedRow,
} from '../validation/validate-entity.ts';
import { emailKey, type OwnerSpec, ownerOf } from './inputs.ts';
import { type OrderedEntity, parentsFirst } from './order.ts';
import { rowsOf } from './read.ts';
import { contentHash, mimeOf } from './record.ts';
import {
  bump,
  type Carrier,
  carrierOf,
  findAttachment,
  idOf,
  mergeTargetOf,
  pivotStatsName,
  type RunState,
  resolves,
  writeReject,
} from './run-state.ts';
import { LoadChunkWriter } from './writers.ts';

/**
 * Streams the long-format file(s) of an entity's `pivot` into an index keyed by the record id
 * (held in memory: one entry per record × property); rows it refuses are rejects of the pivot.
 */
export async function readPivot(
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
    for await (const row of rowsOf(state.store, file)) {
      const reject = index.add({ line: row.line, cells: row.cells ?? {} });
      if (reject === null) continue;
      writeReject(state, { ...reject, file: fileName, entity: name });
      bump(stats.rejected, reject.reason);
    }
    await state.rejects.drained();
  }
  return index;
}

/** What every row of one entity needs while Prepare maps it. */
interface EntityRun {
  readonly state: RunState;
  readonly entity: OrderedEntity;
  readonly spec: EntitySpec;
  readonly stats: EntityPrepareStats;
  readonly plural: string;
  readonly carrier: Carrier | undefined;
  readonly compiled: CompiledEntity;
  /** Source ids of this entity's records that will be loaded (shared with the run state). */
  readonly valid: Set<string>;
  /** Source id → id of the pre-existing Twenty record it merges into (shared with the run state). */
  readonly overrides: Map<string, string>;
  readonly claimedIds: Set<string>;
  /** Incremental exports only: source id → hash of the first row with that id ({@link repeatsEarlierRow}). */
  readonly firstRows: Map<string, string>;
  /** Primary emails claimed on the entity's Twenty object (shared with the run state). */
  readonly emails: Set<string>;
  readonly owner: OwnerSpec | undefined;
  /** The relation of the entity to itself, if any: its rows go parents first, a wave per depth. */
  readonly selfRelation: [string, RelationSpec] | undefined;
  readonly depthById: Map<string, number>;
  maxDepth: number;
  /** The entity's first wave: after the deepest wave of the entities of its phase it references. */
  readonly base: number;
  readonly writer: LoadChunkWriter;
  readonly pivot: PivotIndex | undefined;
}

/** Maps, validates and writes one entity's rows; returns nothing, fills the run state. */
export async function prepareEntity(
  state: RunState,
  entity: OrderedEntity,
  files: readonly ChunkManifestFile[],
  pivot: PivotIndex | undefined,
): Promise<void> {
  const run = startEntity(state, entity, pivot);
  for (const file of files) {
    const fileName = file.key.slice(state.plan.folder.length);
    const validator = validatorFor(run, fileName);
    for await (const row of rowsInOrder(run, file)) {
      await handleRow(run, fileName, validator, row);
      await state.rejects.drained();
    }
  }
  await finishEntity(run);
}

/** Compiles the entity, registers its sets in the run state and opens its chunk writer. */
function startEntity(state: RunState, entity: OrderedEntity, pivot: PivotIndex | undefined): EntityRun {
  const { mapping, model } = state;
  const spec = entity.spec;
  const compiled = compileEntity(entity.name, spec, {
    options: mapping.options,
    now: state.now,
    phi: mapping.phi,
  });
  const valid = new Set<string>();
  state.valid.set(entity.name, valid);
  const overrides = new Map<string, string>();
  state.overrides.set(entity.name, overrides);
  const emails = state.emailClaims.get(spec.target) ?? new Set<string>();
  state.emailClaims.set(spec.target, emails);
  return {
    state,
    entity,
    spec,
    stats: state.stats[entity.name] as EntityPrepareStats,
    plural: model.plural[spec.target] as string,
    carrier: carrierOf(spec.target),
    compiled,
    valid,
    overrides,
    claimedIds: new Set<string>(),
    firstRows: new Map<string, string>(),
    emails,
    owner: ownerOf(spec),
    selfRelation: Object.entries(spec.relations).find(([, r]) => r.entity === entity.name),
    depthById: new Map<string, number>(),
    maxDepth: 0,
    base: firstWave(state, entity),
    writer: new LoadChunkWriter(state.store, state.candidates, {
      runId: state.runId,
      phase: entity.phase,
      entity: entity.name,
      chunkSize: state.chunkSize,
    }),
    pivot,
  };
}

/** The wave after the deepest one of every entity of the same phase this one references. */
function firstWave(state: RunState, entity: OrderedEntity): number {
  let base = 0;
  for (const ref of entity.references) {
    const w = state.waves.get(ref);
    if (w !== undefined && state.stats[ref]?.phase === entity.phase)
      base = Math.max(base, w.base + w.maxDepth + 1);
  }
  return base;
}

/** A validator for one file of the entity: references resolve against records that will be loaded. */
function validatorFor(run: EntityRun, fileName: string): EntityValidator {
  const { state, claimedIds, emails } = run;
  return createEntityValidator({
    file: fileName,
    entity: run.compiled,
    has: (other: string, id: string): boolean => resolves(state, other, id),
    claimSourceId: (id: string): boolean => {
      if (claimedIds.has(id)) return false;
      claimedIds.add(id);
      return true;
    },
    claimEmail: (email: string): boolean => {
      if (emails.has(email)) return false;
      emails.add(email);
      return true;
    },
  });
}

/** A file's rows in file order, or parents first for a self-referencing entity. */
async function* rowsInOrder(run: EntityRun, file: ChunkManifestFile): AsyncGenerator<SourceRow> {
  const { state, spec, selfRelation } = run;
  if (selfRelation === undefined) {
    yield* rowsOf(state.store, file);
    return;
  }
  // Parents first: the entity's rows are held in memory to sort them (self-referencing entities
  // are organisations and plans, small next to patients and their activities).
  const rows: SourceRow[] = [];
  for await (const row of rowsOf(state.store, file)) rows.push(row);
  const column = selfRelation[1].from;
  const order = parentsFirst(
    rows.map((r) => ({
      id: r.cells === null ? '' : sourceIdOf(spec, r.cells),
      parent: (r.cells?.[column] ?? '').trim(),
    })),
  );
  for (const index of order) yield rows[index] as SourceRow;
}

/** Skip reason of a resource an incremental export holds twice, identically. */
export const DUPLICATE_IN_EXPORT = 'DUPLICATE_IN_EXPORT';

/**
 * An incremental (`_since`) FHIR export — the only kind whose run state carries `prior` — may hold a
 * resource twice: changed, and again because another resource references it (servers add those at
 * will). A row identical to an earlier row of the same id is that repeat, skipped so the record is
 * loaded once; a row that differs still goes to the validator, which refuses the second id
 * (DUPLICATE_SOURCE_ID): Ferry cannot tell which version is right.
 */
function repeatsEarlierRow(run: EntityRun, row: SourceRow): boolean {
  if (run.state.prior === undefined || row.cells === null) return false;
  const id = sourceIdOf(run.spec, row.cells);
  if (id === '') return false;
  const hash = createHash('sha256').update(JSON.stringify(row.cells)).digest('hex');
  const first = run.firstRows.get(id);
  if (first === undefined) run.firstRows.set(id, hash);
  return first === hash;
}

/** Skips, rejects or maps one row; a mapped row is written to its wave's load chunk. */
async function handleRow(
  run: EntityRun,
  fileName: string,
  validator: EntityValidator,
  row: SourceRow,
): Promise<void> {
  const { state, spec, stats } = run;
  // A provider who is a workspace member is a user already: skipped before it claims an id or email.
  if (row.cells !== null && skipsAsMember(spec, row.cells, state.memberEmails)) {
    bump(stats.skipped, MATCHED_MEMBER);
    return;
  }
  if (repeatsEarlierRow(run, row)) {
    bump(stats.skipped, DUPLICATE_IN_EXPORT);
    return;
  }
  const result = validateRow(run, validator, row);
  if (!result.ok) return;
  const record = result.record;
  const data: Record<string, unknown> = { ...record.fields };
  const file = attachedFile(run, fileName, row, record, data);
  if (file === REJECTED) return;
  run.valid.add(record.sourceId);
  const mergeId = mergeTargetOf(state, spec.target, record);
  if (mergeId !== undefined) run.overrides.set(record.sourceId, mergeId);
  const id =
    mergeId ?? recordId(state.sourceInstance, state.mapping.source, run.entity.name, record.sourceId);
  const depth = setRelations(run, record, data);
  setOwner(run, row, data);
  const targets = targetsOf(run, record, id, data);
  // Pivot rows joined into this record: Reconcile moves them with it if Twenty refuses it.
  const properties = run.pivot?.get(record.sourceId);
  const merged = properties === undefined ? 0 : Object.keys(properties).length;
  const line: MappedLineInput = {
    sourceId: record.sourceId,
    line: row.line,
    id,
    object: run.plural,
    data,
    targets,
    contentHash: contentHash({ data, targets, file: fileIdentity(run.state, file) }),
    ...(mergeId !== undefined ? { mergeTarget: true as const } : {}),
    ...(file !== undefined ? { file } : {}),
    ...(merged > 0 ? { merged } : {}),
  };
  stats.mapped++;
  for (const w of result.warnings) bump(stats.warnings, w);
  await run.writer.add(run.base + depth, JSON.stringify(line), id, referencedIds(id, data, targets));
}

/** Validates and maps a row (its pivot's properties joined in); a refused row's rejects are written. */
function validateRow(run: EntityRun, validator: EntityValidator, row: SourceRow): ValidatedRow {
  const { pivot, spec } = run;
  const result = validator.check(
    pivot === undefined || row.cells === null
      ? row
      : { ...row, cells: withPivot(row.cells, pivot, spec.idColumn) },
  );
  if (!result.ok) {
    const first = result.rejects[0];
    for (const r of result.rejects) writeReject(run.state, r);
    bump(run.stats.rejected, first?.reason ?? 'MALFORMED_ROW');
  }
  return result;
}

function rejectRow(
  run: EntityRun,
  fileName: string,
  line: number,
  sourceId: string | null,
  problems: FieldReject[],
): void {
  for (const p of problems)
    writeReject(run.state, {
      file: fileName,
      line,
      entity: run.entity.name,
      sourceId,
      field: p.field,
      reason: p.reason,
      rule: p.rule,
    });
  bump(run.stats.rejected, problems[0]?.reason ?? 'MALFORMED_ROW');
}

const REJECTED = Symbol('rejected');

/**
 * The drop-folder file a record carries, located in the plan's attachments; REJECTED (and the
 * row rejected MISSING_FILE or FILE_TOO_LARGE) when it names one that is missing or too large.
 * An attachment's `fullPath` is removed from `data` once its file is found.
 */
function attachedFile(
  run: EntityRun,
  fileName: string,
  row: SourceRow,
  record: MappedRecord,
  data: Record<string, unknown>,
): MappedLineInput['file'] | typeof REJECTED {
  const { state, spec, carrier } = run;
  // A FHIR DocumentReference's inline data, decoded by this run's Segment (never for other sources).
  const inline =
    carrier === 'attachment' && row.cells !== null && state.mapping.source === 'fhir'
      ? inlineFileOf(row.cells, `${runPrefix(state.runId)}chunks/`)
      : undefined;
  if (inline !== undefined) return inlineFile(run, fileName, row, record, inline);
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
  if (ref === null && !(carrier === 'attachment' && spec.file !== undefined)) return undefined;
  const column = spec.file?.from ?? 'fullPath';
  const found = ref === null ? undefined : findAttachment(state, ref.path);
  if (found === undefined) {
    rejectRow(run, fileName, row.line, record.sourceId, [
      {
        field: column,
        reason: 'MISSING_FILE',
        rule: `file exists under ${spec.file?.baseDir ?? 'documents/'}`,
      },
    ]);
    return REJECTED;
  }
  if (state.maxFileBytes !== undefined && found.bytes > state.maxFileBytes) {
    rejectRow(run, fileName, row.line, record.sourceId, [
      { field: column, reason: 'FILE_TOO_LARGE', rule: `file at most ${state.maxFileBytes} bytes` },
    ]);
    return REJECTED;
  }
  if (carrier === 'attachment') delete data.fullPath;
  const base = found.name.slice(found.name.lastIndexOf('/') + 1);
  return { key: found.key, name: base, mime: mimeOf(base), bytes: found.bytes };
}

/** A FHIR attachment's inline bytes (decoded by Segment into the work bucket), or its reject. */
function inlineFile(
  run: EntityRun,
  fileName: string,
  row: SourceRow,
  record: MappedRecord,
  inline: NonNullable<ReturnType<typeof inlineFileOf>>,
): MappedLineInput['file'] | typeof REJECTED {
  const { state } = run;
  if (inline.kind === 'invalid') {
    rejectRow(run, fileName, row.line, record.sourceId, [
      { field: 'attachment.inline', reason: 'MISSING_FILE', rule: 'inline attachment data is base64' },
    ]);
    return REJECTED;
  }
  if (state.maxFileBytes !== undefined && inline.bytes > state.maxFileBytes) {
    rejectRow(run, fileName, row.line, record.sourceId, [
      {
        field: 'attachment.inline',
        reason: 'FILE_TOO_LARGE',
        rule: `file at most ${state.maxFileBytes} bytes`,
      },
    ]);
    return REJECTED;
  }
  return { key: inline.key, name: inline.name, mime: inline.mime, bytes: inline.bytes, store: 'work' };
}

/** The plan's attachments by drop key, built once per run. */
const attachmentsByKey = new WeakMap<RunState, Map<string, RunState['plan']['attachments'][number]>>();

/**
 * What a record's content hash covers of its file: the path inside the export and the file's sha256
 * (Inventory's), not the drop key — a newer export dropped in another folder (a delta's
 * `delta-<n>/`) holding the same file is unchanged, and a file whose bytes changed is not.
 */
function fileIdentity(state: RunState, file: MappedLineInput['file']): unknown {
  if (file === undefined) return undefined;
  // An inline (FHIR) file's key names its bytes' sha256 already.
  if (file.store === 'work') return hashableFile(file);
  let byKey = attachmentsByKey.get(state);
  if (byKey === undefined) {
    byKey = new Map(state.plan.attachments.map((a) => [a.key, a]));
    attachmentsByKey.set(state, byKey);
  }
  const planned = byKey.get(file.key);
  return { path: planned?.name ?? file.name, sha256: planned?.sha256, mime: file.mime };
}

/** Sets the join column of each relation in `data`; returns the record's self-reference depth. */
function setRelations(run: EntityRun, record: MappedRecord, data: Record<string, unknown>): number {
  const { spec, selfRelation } = run;
  let depth = 0;
  for (const [name, ref] of Object.entries(record.relations)) {
    const rel = spec.relations[name];
    if (rel === undefined) continue;
    data[rel.joinColumn] = idOf(run.state, rel.entity, ref);
    if (selfRelation !== undefined && name === selfRelation[0]) depth = (run.depthById.get(ref) ?? 0) + 1;
  }
  if (selfRelation !== undefined) {
    run.depthById.set(record.sourceId, depth);
    run.maxDepth = Math.max(run.maxDepth, depth);
  }
  return depth;
}

/** Sets the owner's join column when the row's owner email is a resolved workspace member. */
function setOwner(run: EntityRun, row: SourceRow, data: Record<string, unknown>): void {
  const { owner } = run;
  if (owner === undefined || row.cells === null) return;
  const email = emailKey(row.cells[owner.from] ?? '');
  const member = email === '' ? undefined : run.state.owners?.byEmail[email];
  if (typeof member === 'string') data[owner.joinColumn] = member;
}

/**
 * The record's task or note targets (one per referenced record); an attachment's target is a
 * join column set in `data` instead (the first target of each object).
 */
function targetsOf(
  run: EntityRun,
  record: MappedRecord,
  id: string,
  data: Record<string, unknown>,
): MappedTarget[] {
  const { state, carrier } = run;
  const { mapping, model } = state;
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
          run.entity.name,
          record.sourceId,
          t.entity,
          t.sourceId,
        ]),
        [activity]: id,
        [column]: targetId,
      },
    });
  }
  return targets;
}

/** Writes the last chunks, records the entity's waves and settles its pivot's counts. */
async function finishEntity(run: EntityRun): Promise<void> {
  const { state, entity, pivot } = run;
  await run.writer.finish();
  state.items.push(...run.writer.items);
  state.waves.set(entity.name, { base: run.base, maxDepth: run.maxDepth });
  if (pivot !== undefined) {
    const settled = pivot.settle((id) => run.valid.has(id));
    const pivotStats = state.stats[pivotStatsName(state.mapping, entity.name)] as EntityPrepareStats;
    pivotStats.mapped += settled.loaded;
    for (const [reason, n] of Object.entries(settled.skipped)) bump(pivotStats.skipped, reason, n);
    pivot.clear();
  }
}
