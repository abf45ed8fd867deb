import { createInterface } from 'node:readline';
import { z } from 'zod';
import type { ObjectStore } from '../../ports/object-store.ts';
import { NotFoundError, ValidationError } from '../errors.ts';
import { type ChunkManifest, type ChunkManifestFile, ChunkManifestSchema } from '../inventory/manifest.ts';
import type { Plan } from '../inventory/plan.ts';
import { type MappingSpec, parseMappingSpec } from '../mapping/spec.ts';
import {
  manifestKeyFor,
  mappingKeyFor,
  mergeCandidatesKey,
  ownersKeyFor,
  readArtifact,
  readArtifactIfPresent,
  segmentRejectsKeyFor,
  targetModelKey,
} from '../run-layout.ts';
import { readRunPlan } from '../schema/run-inputs.ts';
import { profileFor, type ReferenceSpec } from '../sources/index.ts';
import type { SourceRow } from '../validation/validate-entity.ts';
import { type MergeCandidates, MergeCandidatesSchema, type OwnersFile, OwnersFileSchema } from './inputs.ts';
import { matchFiles, type OrderedEntity, orderEntities } from './order.ts';
import { carrierOf } from './run-state.ts';
import { type TargetModel, TargetModelSchema } from './target-model.ts';

/** What Prepare reads before it maps a row: the plan, the mapping and the side inputs of earlier stages. */
export interface PrepareInputs {
  readonly plan: Plan;
  readonly mapping: MappingSpec;
  readonly model: TargetModel;
  readonly manifest: ChunkManifest;
  readonly owners: OwnersFile | undefined;
  readonly merges: MergeCandidates | undefined;
  /** The mapping's entities in load order. */
  readonly ordered: OrderedEntity[];
  /** Seeds every deterministic id. */
  readonly sourceInstance: string;
}

/** The spec inside plan.json's `mapping` section (`{spec, ...}`), when mapping.json is absent. */
function planMapping(plan: Plan): MappingSpec | undefined {
  const section = plan.mapping as { spec?: unknown } | undefined;
  if (section === undefined || section === null || section.spec === undefined) return undefined;
  return parseMappingSpec(section.spec, 'plan.json mapping.spec');
}

function folderInstance(folder: string): string {
  return folder.replace(/^drop\//, '').replace(/\/+$/, '') || folder;
}

/** Plan-time checks: every object has a plural and every target a join column in the target model. */
export function checkModel(mapping: MappingSpec, model: TargetModel): void {
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

/**
 * Reads the run's plan (it must belong to `runId`), its mapping (mapping.json, else the plan's
 * `mapping.spec`), target model, chunk manifest, owners and merge candidates; checks the mapping
 * against the target model and orders its entities. `sourceInstance` overrides the plan's.
 */
export async function readPrepareInputs(
  store: ObjectStore,
  runId: string,
  planKey: string,
  sourceInstance: string | undefined,
): Promise<PrepareInputs> {
  const plan = await readRunPlan(store, runId, planKey);
  const storedMapping = await readArtifactIfPresent(store, mappingKeyFor(runId), z.unknown());
  const mapping =
    storedMapping === undefined ? planMapping(plan) : parseMappingSpec(storedMapping, 'mapping.json');
  if (mapping === undefined)
    throw new ValidationError(`run ${runId} has no mapping (${mappingKeyFor(runId)}); approve a plan first`, {
      code: 'MAPPING_MISSING',
    });
  const model: TargetModel = await readArtifact(store, targetModelKey(runId), TargetModelSchema);
  const manifest = await readArtifact(store, manifestKeyFor(runId), ChunkManifestSchema);
  const owners = await readArtifactIfPresent(store, ownersKeyFor(runId), OwnersFileSchema);
  const merges = await readArtifactIfPresent(store, mergeCandidatesKey(runId), MergeCandidatesSchema);
  checkModel(mapping, model);
  const ordered = orderEntities(mapping);
  return {
    plan,
    mapping,
    model,
    manifest,
    owners,
    merges,
    ordered,
    sourceInstance:
      sourceInstance ??
      (typeof plan.sourceInstance === 'string' && plan.sourceInstance !== ''
        ? plan.sourceInstance
        : folderInstance(plan.folder)),
  };
}

/** Which entity (or pivot, or reference file) reads each segmented file of the drop folder. */
export interface SourceFiles {
  /** A segmented file's name inside the drop folder. */
  readonly nameOf: (file: ChunkManifestFile) => string;
  /** The files an entity (or a reference spec) reads, in manifest order. */
  readonly filesOf: (entity: string) => ChunkManifestFile[];
  /** The long-format files of an entity's `pivot`. */
  readonly pivotFilesOf: (entity: string) => ChunkManifestFile[];
  /** Whether any entity, pivot or reference spec reads the file. */
  readonly isRead: (file: ChunkManifestFile) => boolean;
  /** Entities that have a `pivot`. */
  readonly pivotEntities: OrderedEntity[];
  /** The profile's reference files (workflow definitions) the mapping does not map as entities. */
  readonly referenceSpecs: ReferenceSpec[];
}

/** Matches the manifest's files to the mapping's entities, their pivots and the profile's reference files. */
export function assignFiles(
  plan: Plan,
  manifest: ChunkManifest,
  mapping: MappingSpec,
  ordered: readonly OrderedEntity[],
): SourceFiles {
  const profile = profileFor(mapping.source);
  const pivotEntities = ordered.filter((e) => e.spec.pivot !== undefined);
  const pivotKey = (entity: string): string => `\u0000pivot:${entity}`;
  const referenceSpecs: ReferenceSpec[] = profile.references.filter((r) => !(r.entity in mapping.entities));
  const nameOf = (f: ChunkManifestFile): string => f.key.slice(plan.folder.length);
  const assignment = matchFiles(manifest.files.map(nameOf), [
    ...ordered.map((e) => ({ entity: e.name, files: e.spec.files })),
    ...pivotEntities.map((e) => ({ entity: pivotKey(e.name), files: e.spec.pivot?.files ?? [] })),
    ...referenceSpecs.map((r) => ({ entity: r.entity, files: r.files })),
  ]);
  const filesOf = (entity: string): ChunkManifestFile[] =>
    manifest.files.filter((f) => assignment.get(nameOf(f)) === entity);
  return {
    nameOf,
    filesOf,
    pivotFilesOf: (entity) => filesOf(pivotKey(entity)),
    isRead: (f) => assignment.has(nameOf(f)),
    pivotEntities,
    referenceSpecs,
  };
}

/** Rows of one segmented file, chunk by chunk (one chunk in memory at a time). */
export async function* rowsOf(store: ObjectStore, file: ChunkManifestFile): AsyncGenerator<SourceRow> {
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
export async function segmentRejectCounts(
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
