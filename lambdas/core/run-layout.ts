import type { z } from 'zod';
import type { ObjectStore } from '../ports/object-store.ts';
import { NotFoundError, ValidationError } from './errors.ts';
import type { LoadPhase } from './load/format.ts';

/**
 * The layout of a run in the work bucket: every artefact a run writes lives under `runs/<runId>/`
 * (run ids are execution names), and this module is the one place that spells out those keys.
 * Rollback and resume find a run's earlier artefacts by these keys, so they must not change.
 * Payloads between states carry the keys, never the contents.
 */

/** The prefix of every run: lists all runs (`ferry status`); lifecycle rules and IAM name it too. */
export const ALL_RUNS_PREFIX = 'runs/';

/** The folder of one run: `runs/<runId>/`. */
export function runPrefix(runId: string): string {
  return `${ALL_RUNS_PREFIX}${runId}/`;
}

/** `00001`, the 5-digit index of a chunk in its folder (index from 1). */
function chunkIndex(index: number): string {
  return String(index).padStart(5, '0');
}

/** The chunk's file name without extension (`00001`), from its key. */
export function chunkName(chunkKey: string): string {
  const base = chunkKey.slice(chunkKey.lastIndexOf('/') + 1);
  return base.endsWith('.ndjson') ? base.slice(0, -'.ndjson'.length) : base;
}

// Inventory ------------------------------------------------------------------------------------------

/**
 * `plan.json`: what Inventory found in the drop folder (files, hashes, the proposed mapping, issues).
 * Written by Inventory; read by Segment, ApplySchema, ResolveOwners, Prepare and the CLI (`ferry plan`,
 * the plan gate of `ferry run`, `ferry resume`'s source check).
 */
export function planKeyFor(runId: string): string {
  return `${runPrefix(runId)}plan.json`;
}

/** `plan.md`: the plan as the operator reads and approves it. Written by Inventory; exported by the CLI. */
export function planReportKeyFor(runId: string): string {
  return `${runPrefix(runId)}plan.md`;
}

/**
 * `mapping.json`: the mapping spec of the run (the operator's file or the proposed one). Written by
 * Inventory; read by ApplySchema, ResolveOwners, Prepare and `ferry plan --out`.
 */
export function mappingKeyFor(runId: string): string {
  return `${runPrefix(runId)}mapping.json`;
}

/** `target-model.json`: the workspace facts Prepare needs (join columns, fields). Written by Inventory; read by Prepare. */
export function targetModelKey(runId: string): string {
  return `${runPrefix(runId)}target-model.json`;
}

/**
 * `merge-candidates.json`: unique keys of records already in the workspace → their Twenty id.
 * Written by Inventory; read by Prepare.
 */
export function mergeCandidatesKey(runId: string): string {
  return `${runPrefix(runId)}merge-candidates.json`;
}

// Segment --------------------------------------------------------------------------------------------

/**
 * `chunks/manifest.json`: every chunk Segment wrote, per source file. Written by Segment; read by
 * ApplySchema, ResolveOwners and Prepare.
 */
export function manifestKeyFor(runId: string): string {
  return `${runPrefix(runId)}chunks/manifest.json`;
}

/**
 * `chunks/<stem>/00001.ndjson`: one chunk of raw rows of a source file (index from 1). Written by
 * Segment; read by ApplySchema, ResolveOwners and Prepare through the chunk manifest.
 */
export function chunkKeyFor(runId: string, stem: string, index: number): string {
  return `${runPrefix(runId)}chunks/${stem}/${chunkIndex(index)}.ndjson`;
}

/**
 * `chunks/<stem>/inline/<sha256>.bin`: the bytes of an attachment a FHIR DocumentReference carries
 * inline (base64 `data`), decoded by Segment; read by LoadChunk when it uploads the file. Named by
 * content, so the same document has the same name in every run (its record's content hash does not
 * change), and kept with the chunks (patient data, expired with them).
 */
export function inlineFileKeyFor(runId: string, stem: string, sha256: string): string {
  return `${runPrefix(runId)}chunks/${stem}/inline/${sha256}.bin`;
}

/** `rejects/segment.ndjson`: rows Segment could not read. Written by Segment; read by Prepare and Reconcile. */
export function segmentRejectsKeyFor(runId: string): string {
  return `${runPrefix(runId)}rejects/segment.ndjson`;
}

// ApplySchema and ResolveOwners ----------------------------------------------------------------------

/**
 * `schema-changes.json`: what ApplySchema planned and did (names, types, option labels). Written by
 * ApplySchema; read by Reconcile for report.html.
 */
export function schemaChangesKeyFor(runId: string): string {
  return `${runPrefix(runId)}schema-changes.json`;
}

/**
 * `owners.json`: normalized owner email → workspace member id, with per-entity counts. Written by
 * ResolveOwners; read by Prepare (`byEmail`, `memberEmails`) and Reconcile (counts for report.html).
 */
export function ownersKeyFor(runId: string): string {
  return `${runPrefix(runId)}owners.json`;
}

/** `owners-report.md`: the owner mismatch report. Written by ResolveOwners; exported by `ferry run`. */
export function ownersReportKeyFor(runId: string): string {
  return `${runPrefix(runId)}owners-report.md`;
}

// Prepare --------------------------------------------------------------------------------------------

/**
 * `load/<phase>/<entity>/00001.ndjson`: one chunk of mapped records (index from 1). Written by
 * Prepare; read by LoadChunk, Reconcile and Rollback.
 */
export function loadChunkKey(runId: string, phase: LoadPhase, entity: string, index: number): string {
  return `${loadChunkPrefix(runId, phase, entity)}${chunkIndex(index)}.ndjson`;
}

/** `load/<phase>/<entity>/`: the folder of an entity's mapped chunks (every wave). Listed by Rollback. */
export function loadChunkPrefix(runId: string, phase: string, entity: string): string {
  return `${runPrefix(runId)}load/${phase}/${entity}/`;
}

/**
 * `load/<phase>.json`: the load manifest of a phase (its first wave), a JSON array of chunk items.
 * Written by Prepare; read by the Distributed Map's ItemReader and the CLI's progress lines.
 */
export function phaseManifestKey(runId: string, phase: LoadPhase): string {
  return `${runPrefix(runId)}load/${phase}.json`;
}

/** `load/<phase>.w<n>.json`: the load manifest of the n-th wave (n ≥ 2) of a phase; as {@link phaseManifestKey}. */
export function waveManifestKey(runId: string, phase: LoadPhase, n: number): string {
  return `${runPrefix(runId)}load/${phase}.w${n}.json`;
}

/**
 * `prepare.json`: Prepare's per-entity counts and the run's source instance. Written by Prepare; read
 * by Reconcile and Rollback (the id-map namespace).
 */
export function prepareStatsKey(runId: string): string {
  return `${runPrefix(runId)}prepare.json`;
}

/**
 * `sample-candidates.ndjson`: per load chunk Prepare wrote, one line `{chunk, records}` with each
 * record's id and the ids it references, in chunk order — what SampleLoad needs to choose its sample
 * without parsing every mapped line. Written by Prepare; read by SampleLoad.
 */
export function sampleCandidatesKey(runId: string): string {
  return `${runPrefix(runId)}sample-candidates.ndjson`;
}

/** `rejects/prepare.ndjson`: rows Prepare rejected. Written by Prepare; read by Reconcile. */
export function prepareRejectsKey(runId: string): string {
  return `${runPrefix(runId)}rejects/prepare.ndjson`;
}

/**
 * `workflows.json`: the workflows to rebuild by hand. Written by Prepare; read by Reconcile for
 * report.html and exported by `ferry run`.
 */
export function workflowsKey(runId: string): string {
  return `${runPrefix(runId)}workflows.json`;
}

// LoadChunk ------------------------------------------------------------------------------------------

/**
 * `load-intent/<phase>/<entity>/<chunk>@<slice start>.json`: the write-ahead of one slice of a chunk
 * (ops, before-images, uploads). Written and read by LoadChunk (a retried tick re-uses it).
 */
export function loadIntentKey(
  runId: string,
  phase: LoadPhase,
  entity: string,
  chunkKey: string,
  sliceStart = 0,
): string {
  return `${runPrefix(runId)}load-intent/${phase}/${entity}/${chunkName(chunkKey)}@${sliceStart}.json`;
}

/**
 * `load-progress/<phase>/<entity>/<chunk>.json`: how far the ticks of one chunk got. Written and read
 * by LoadChunk (the next tick, or a resumed run, continues from it).
 */
export function loadProgressKey(runId: string, phase: LoadPhase, entity: string, chunkKey: string): string {
  return `${runPrefix(runId)}load-progress/${phase}/${entity}/${chunkName(chunkKey)}.json`;
}

/**
 * `load-stats/<phase>/<entity>/<chunk>.json`: a loaded chunk's counts, also its "chunk done" marker.
 * Written by LoadChunk (read back to skip a done chunk); read by Reconcile under {@link loadStatsPrefix}.
 */
export function loadStatsKey(runId: string, phase: LoadPhase, entity: string, chunkKey: string): string {
  return `${loadStatsPrefix(runId)}${phase}/${entity}/${chunkName(chunkKey)}.json`;
}

/** `load-stats/`: the folder of every chunk's load stats. Listed by Reconcile. */
export function loadStatsPrefix(runId: string): string {
  return `${runPrefix(runId)}load-stats/`;
}

/**
 * `rejects/load/<phase>/<entity>/<chunk>.ndjson`: records Twenty refused. Written by LoadChunk; read
 * by Reconcile under {@link loadRejectsPrefix}.
 */
export function loadRejectsKey(runId: string, phase: LoadPhase, entity: string, chunkKey: string): string {
  return `${loadRejectsPrefix(runId)}${phase}/${entity}/${chunkName(chunkKey)}.ndjson`;
}

/** `rejects/load/`: the folder of every chunk's load rejects. Listed by Reconcile. */
export function loadRejectsPrefix(runId: string): string {
  return `${runPrefix(runId)}rejects/load/`;
}

/**
 * `audit/before-images/<ledger sort key, URI-encoded>.json`: a before-image too large for a ledger
 * item. Written and read by the DynamoDB ledger adapter (rollback restores from it).
 */
export function beforeImageKey(runId: string, ledgerSortKey: string): string {
  return `${runPrefix(runId)}audit/before-images/${encodeURIComponent(ledgerSortKey)}.json`;
}

// Approval, Reconcile, Rollback ----------------------------------------------------------------------

/**
 * `approvals/<stage>.json`: the pending approval of a gate, with its task token. Written by
 * AwaitApproval.
 */
export function approvalRequestKey(runId: string, stage: string): string {
  return `${runPrefix(runId)}approvals/${stage}.json`;
}

/**
 * `reconciliation.json`: the run's balance per entity and its read-back findings. Written by
 * Reconcile; read by `ferry run` (why a run failed) and exported by it.
 */
export function reconciliationKey(runId: string): string {
  return `${runPrefix(runId)}reconciliation.json`;
}

/**
 * `reconcile/read-back.json`: how far Reconcile's read-back got and what it found so far. Written and
 * read by Reconcile (the next tick continues from it).
 */
export function readBackProgressKey(runId: string): string {
  return `${runPrefix(runId)}reconcile/read-back.json`;
}

/** `rejects.csv`: every reject of the run for the operator. Written by Reconcile; exported by `ferry run`. */
export function rejectsCsvKey(runId: string): string {
  return `${runPrefix(runId)}rejects.csv`;
}

/** `report.html`: the operator's one-page proof of the run. Written by Reconcile; exported by `ferry run`. */
export function reportHtmlKey(runId: string): string {
  return `${runPrefix(runId)}report.html`;
}

/** `rollback.json`: what a rollback did and what its read-back found. Written by Rollback at its end. */
export function rollbackReportKey(runId: string): string {
  return `${runPrefix(runId)}rollback.json`;
}

/**
 * `rollback/cursor.json`: where a rollback stands between ticks. Written and read by Rollback (the
 * next tick, or a new process after a kill, continues from it).
 */
export function rollbackCursorKey(runId: string): string {
  return `${runPrefix(runId)}rollback/cursor.json`;
}

// Delta ----------------------------------------------------------------------------------------------

/**
 * `delta.json`: which earlier run a delta run is tied to (its base run and the base's source
 * instance, so the delta's ids and id map are the base's). Written by LinkDelta; read by
 * PropagateDeletes, Reconcile and the CLI.
 */
export function deltaOfKey(deltaRunId: string): string {
  return `${runPrefix(deltaRunId)}delta.json`;
}

/**
 * `deltas/<deltaRunId>.json` under the base run: one marker per delta run tied to it. Written by
 * LinkDelta; listed by Rollback, which undoes a run together with its deltas (newest first).
 */
export function deltaLinkKey(baseRunId: string, deltaRunId: string): string {
  return `${deltaLinksPrefix(baseRunId)}${deltaRunId}.json`;
}

/** The folder of {@link deltaLinkKey}: every delta tied to one base run. */
export function deltaLinksPrefix(baseRunId: string): string {
  return `${runPrefix(baseRunId)}deltas/`;
}

/**
 * `deletes.json`: what a delta's PropagateDeletes did with the records missing from its export
 * (counts and source ids per entity; deleted only with `--propagate-deletes`, only records Ferry
 * created). Written by PropagateDeletes; read by Reconcile.
 */
export function propagatedDeletesKey(deltaRunId: string): string {
  return `${runPrefix(deltaRunId)}deletes.json`;
}

/**
 * `deletes/plan.json`: the pages of records a delta's `--propagate-deletes` deletes (ids, content
 * hashes and Twenty objects, never a value), fixed by PropagateDeletes' first tick; every later tick
 * (or a new process after a kill) works through the same pages. Written once and read by PropagateDeletes.
 */
export function propagateDeletesPlanKey(deltaRunId: string): string {
  return `${runPrefix(deltaRunId)}deletes/plan.json`;
}

/**
 * `deletes/cursor.json`: where PropagateDeletes stands between ticks (next page, the page in flight,
 * counts so far). Written and read by PropagateDeletes.
 */
export function propagateDeletesCursorKey(deltaRunId: string): string {
  return `${runPrefix(deltaRunId)}deletes/cursor.json`;
}

/**
 * `deletes/files/<attachment id>`: the stored file of an attachment a delta's `--propagate-deletes`
 * deleted (Twenty deletes the file with the record). Written by PropagateDeletes; read by Rollback,
 * which uploads it again when it recreates the attachment. PHI: stays in the encrypted work bucket.
 */
export function deletedFileKey(deltaRunId: string, attachmentId: string): string {
  return `${runPrefix(deltaRunId)}deletes/files/${attachmentId}`;
}

// Local runtime --------------------------------------------------------------------------------------

/** `summary.json`: the record of one local execution. Written by the local runtime; read by `ferry status`. */
export function summaryKey(runId: string): string {
  return `${runPrefix(runId)}summary.json`;
}

/** Whether a key is some run's {@link summaryKey} (`runs/<runId>/summary.json`). */
export function isSummaryKey(key: string): boolean {
  return /^runs\/[^/]+\/summary\.json$/.test(key);
}

/**
 * `checkpoints/`: the outputs of a run's completed top-level stages (`<state>.json`), saved and read
 * by the local ASL runner so `ferry resume` does not run them again.
 */
export function runCheckpointPrefix(runId: string): string {
  return `${runPrefix(runId)}checkpoints/`;
}

/** `checkpoints/input.json`: a local execution's input. Written by the local runtime; read when it resumes. */
export function executionInputKey(runId: string): string {
  return `${runCheckpointPrefix(runId)}input.json`;
}

// Reading --------------------------------------------------------------------------------------------

/** The code of every error {@link readArtifact} throws: the artefact is missing, not JSON, or invalid. */
export const RUN_ARTEFACT_ERROR = 'INVALID_RUN_ARTEFACT';

/** What messages call an artefact, by its path inside the run folder. */
const ARTEFACT_NAMES: ReadonlyArray<readonly [RegExp, string]> = [
  [/^plan\.json$/, 'plan'],
  [/^mapping\.json$/, 'mapping'],
  [/^target-model\.json$/, 'target model'],
  [/^merge-candidates\.json$/, 'merge candidates'],
  [/^chunks\/manifest\.json$/, 'chunk manifest'],
  [/^schema-changes\.json$/, 'schema changes'],
  [/^owners\.json$/, 'owners'],
  [/^load\/[^/]+\.json$/, 'load manifest'],
  [/^prepare\.json$/, 'prepare stats'],
  [/^workflows\.json$/, 'workflows'],
  [/^load-intent\//, 'load intent'],
  [/^load-progress\//, 'load progress'],
  [/^load-stats\//, 'load stats'],
  [/^audit\/before-images\//, 'before-image'],
  [/^approvals\//, 'approval request'],
  [/^reconciliation\.json$/, 'reconciliation'],
  [/^reconcile\/read-back\.json$/, 'read-back progress'],
  [/^rollback\.json$/, 'rollback report'],
  [/^rollback\/cursor\.json$/, 'rollback cursor'],
  [/^summary\.json$/, 'execution summary'],
  [/^checkpoints\//, 'checkpoint'],
];

function artefactName(key: string): string {
  const path = /^runs\/[^/]+\/(.*)$/.exec(key)?.[1];
  const found = path === undefined ? undefined : ARTEFACT_NAMES.find(([pattern]) => pattern.test(path));
  return found?.[1] ?? 'run artefact';
}

function artefactError(key: string, problem: string): ValidationError {
  return new ValidationError(`${artefactName(key)} ${key} ${problem}`, { code: RUN_ARTEFACT_ERROR });
}

/**
 * A JSON artefact of a run, parsed with `schema`. Missing, not JSON or not what the schema says: a
 * ValidationError (code {@link RUN_ARTEFACT_ERROR}) naming the artefact, its key and the broken paths
 * and rules, never a value. Other store failures (transient ones) pass through.
 */
export async function readArtifact<S extends z.ZodType>(
  store: ObjectStore,
  key: string,
  schema: S,
): Promise<z.output<S>> {
  const value = await readArtifactIfPresent(store, key, schema);
  if (value === undefined) throw artefactError(key, 'is missing');
  return value;
}

/**
 * As {@link readArtifact}, for an artefact a run may not have (yet): undefined when it is missing,
 * the same ValidationError when it is there but not JSON or not what the schema says.
 */
export async function readArtifactIfPresent<S extends z.ZodType>(
  store: ObjectStore,
  key: string,
  schema: S,
): Promise<z.output<S> | undefined> {
  let text: string;
  try {
    text = await store.getText(key);
  } catch (error) {
    if (error instanceof NotFoundError) return undefined;
    throw error;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw artefactError(key, 'is not valid JSON');
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (i) => `${i.path.map(String).join('.') || '(root)'} (${i.code})`,
    );
    throw artefactError(key, `is invalid: ${[...new Set(problems)].join(', ')}`);
  }
  return parsed.data;
}

// SampleLoad -----------------------------------------------------------------------------------------

/**
 * `sample/load/<phase>/<entity>/sample-00001.ndjson`: the sampled records of one entity, mapped lines
 * copied from Prepare's chunks. Written by SampleLoad, which loads them through LoadChunk; their load
 * progress, stats and rejects sit beside the full load's under the chunk name `sample-00001`.
 */
export function sampleChunkKey(runId: string, phase: LoadPhase, entity: string): string {
  return `${runPrefix(runId)}sample/load/${phase}/${entity}/${SAMPLE_CHUNK}.ndjson`;
}

const SAMPLE_CHUNK = 'sample-00001';

/** Whether a chunk key (or a load-stats/rejects key derived from it) belongs to the sample load. */
export function isSampleChunkKey(key: string): boolean {
  return key.slice(key.lastIndexOf('/') + 1).replace(/\.(ndjson|json)$/, '') === SAMPLE_CHUNK;
}

/** `sample/progress.json`: how far SampleLoad got (selection written, chunks loaded, read back). */
export function sampleProgressKey(runId: string): string {
  return `${runPrefix(runId)}sample/progress.json`;
}

/** `sample-diff.json`: every field of every sampled record, source → sent → in Twenty, with a verdict. */
export function sampleDiffKey(runId: string): string {
  return `${runPrefix(runId)}sample-diff.json`;
}

/** `sample-diff.html`: the same diff as one self-contained page for the operator. */
export function sampleDiffHtmlKey(runId: string): string {
  return `${runPrefix(runId)}sample-diff.html`;
}
