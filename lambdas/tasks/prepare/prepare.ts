import type { ChunkManifestFile } from '../../core/inventory/manifest.ts';
import type { EntityPrepareStats, MappedLineInput, MappedTarget } from '../../core/load/format.ts';
import { deterministicId, recordId } from '../../core/mapping/ids.ts';
import { compileEntity, sourceIdOf } from '../../core/mapping/map-record.ts';
import { NdjsonSink } from '../../core/ndjson-sink.ts';
import { MATCHED_MEMBER, skipsAsMember } from '../../core/owners/resolve.ts';
import { emailKey, ownerOf } from '../../core/prepare/inputs.ts';
import { type OrderedEntity, parentsFirst } from '../../core/prepare/order.ts';
import {
  writePhaseManifests,
  writePrepareStats,
  writeWorkflowReferences,
} from '../../core/prepare/outputs.ts';
import { assignFiles, readPrepareInputs, rowsOf, segmentRejectCounts } from '../../core/prepare/read.ts';
import { contentHash, mimeOf } from '../../core/prepare/record.ts';
import {
  bump,
  carrierOf,
  findAttachment,
  idOf,
  mergeTargetOf,
  newRunState,
  pivotStatsName,
  type RunState,
  sum,
  writeReject,
} from '../../core/prepare/run-state.ts';
import { countUnmappedFiles, initialStats, statsFactory, totalsOf } from '../../core/prepare/stats.ts';
import { LoadChunkWriter } from '../../core/prepare/writers.ts';
import { prepareRejectsKey, waveManifestKey } from '../../core/run-layout.ts';
import { dropFileOf } from '../../core/sources/drop-file.ts';
import { createPivotIndex, type PivotIndex, withPivot } from '../../core/sources/pivot.ts';
import { NOT_MIGRATED_WORKFLOW } from '../../core/sources/workflows.ts';
import type { FieldReject } from '../../core/validation/codes.ts';
import { createEntityValidator, type SourceRow } from '../../core/validation/validate-entity.ts';
import type { TaskDeps } from '../deps.ts';
import { DEFAULT_LOAD_CHUNK_SIZE, type PrepareInput, type PrepareOutput } from './schema.ts';

export { NOT_MAPPED } from '../../core/prepare/stats.ts';
export { NOT_MIGRATED_WORKFLOW };

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
  const writer = new LoadChunkWriter(state.store, state.runId, entity.phase, entity.name, state.chunkSize);

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
      for await (const row of rowsOf(state.store, file)) {
        await handle(fileName, validator, row);
        await state.rejects.drained();
      }
      continue;
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
  const { runId } = input;
  const started = deps.clock.now();
  const inputs = await readPrepareInputs(deps.work, runId, input.planKey, input.sourceInstance);
  const { plan, mapping, manifest, sourceInstance } = inputs;
  const files = assignFiles(plan, manifest, mapping, inputs.ordered);
  const newStats = statsFactory(await segmentRejectCounts(deps.work, runId), files.nameOf);
  const stats = initialStats(inputs, files, newStats);
  const rejects = new NdjsonSink(deps.work, prepareRejectsKey(runId));
  const state = newRunState({
    ...inputs,
    runId,
    now: started,
    chunkSize: input.chunkSize ?? DEFAULT_LOAD_CHUNK_SIZE,
    maxFileBytes: input.maxFileBytes,
    store: deps.work,
    rejects,
    stats,
  });
  try {
    for (const entity of inputs.ordered)
      await prepareAndLog(state, entity, files.filesOf, files.pivotFilesOf, deps);
    await writeWorkflowReferences(deps.work, { runId, plan, mapping }, files, stats, newStats);
    countUnmappedFiles(manifest, files, stats, newStats);
    await rejects.close();
  } catch (error) {
    await rejects.abort();
    throw error;
  }
  const phases = await writePhaseManifests(deps.work, runId, state.items);
  const statsKey = await writePrepareStats(deps.work, runId, sourceInstance, stats);
  const totals = totalsOf(stats);
  deps.log.info('prepare written', {
    runId,
    phases: phases.length,
    chunks: phases.reduce((s, p) => s + p.chunks, 0),
    ...totals,
    durationMs: deps.clock.now() - started,
  });
  return { runId, sourceInstance, phases, ...totals, statsKey, rejectsKey: prepareRejectsKey(runId) };
}

/** Reads an entity's pivot, prepares the entity and logs its counts. */
async function prepareAndLog(
  state: RunState,
  entity: OrderedEntity,
  filesOf: (entity: string) => ChunkManifestFile[],
  pivotFilesOf: (entity: string) => ChunkManifestFile[],
  deps: TaskDeps,
): Promise<void> {
  const t0 = deps.clock.now();
  const pivot = await readPivot(state, entity.name, pivotFilesOf(entity.name));
  await prepareEntity(state, entity, filesOf(entity.name), pivot);
  const s = state.stats[entity.name] as EntityPrepareStats;
  deps.log.info('entity prepared', {
    runId: state.runId,
    entity: entity.name,
    phase: entity.phase,
    mapped: s.mapped,
    rejected: sum(s.rejected),
    durationMs: deps.clock.now() - t0,
  });
}

// The key lives in run-layout.ts; this name stays here for the tests.
export { waveManifestKey };
