import { applySchema } from './apply-schema/apply-schema.ts';
import { ApplySchemaInputSchema } from './apply-schema/schema.ts';
import { awaitApproval } from './await-approval/await-approval.ts';
import { AwaitApprovalInputSchema } from './await-approval/schema.ts';
import type { TaskDeps } from './deps.ts';
import { failRun } from './fail-run/fail-run.ts';
import { FailRunInputSchema } from './fail-run/schema.ts';
import { type TaskRun, taskRunner } from './handler-kit.ts';
import { inventory } from './inventory/inventory.ts';
import { InventoryInputSchema } from './inventory/schema.ts';
import { linkDeltaStage } from './link-delta/link-delta.ts';
import { LinkDeltaInputSchema } from './link-delta/schema.ts';
import { loadChunk } from './load-chunk/load-chunk.ts';
import { LoadChunkInputSchema } from './load-chunk/schema.ts';
import { type TaskManifestEntry, taskManifest } from './manifest.ts';
import { prepare } from './prepare/prepare.ts';
import { PrepareInputSchema } from './prepare/schema.ts';
import { propagateDeletesStage } from './propagate-deletes/propagate-deletes.ts';
import { PropagateDeletesInputSchema } from './propagate-deletes/schema.ts';
import { reconcile } from './reconcile/reconcile.ts';
import { ReconcileInputSchema } from './reconcile/schema.ts';
import { resolveOwnersStage } from './resolve-owners/resolve-owners.ts';
import { ResolveOwnersInputSchema } from './resolve-owners/schema.ts';
import { rollback } from './rollback/rollback.ts';
import { RollbackInputSchema } from './rollback/schema.ts';
import { sampleLoad } from './sample-load/sample-load.ts';
import { SampleLoadInputSchema } from './sample-load/schema.ts';
import { SegmentInputSchema } from './segment/schema.ts';
import { segment } from './segment/segment.ts';

export type { TaskAccess, TaskManifestEntry } from './manifest.ts';

/**
 * The runnable map: ASL Task state → its core with the input parsed by its zod schema. The local
 * runner calls these in process; each Lambda handler makes the same call through `makeHandler`.
 * Sizing and access are not here: they are data in `manifest.ts`, which CDK reads.
 */
export const taskRuns: Readonly<Record<string, TaskRun>> = {
  Inventory: taskRunner('Inventory', InventoryInputSchema, inventory),
  AwaitPlanApproval: taskRunner('AwaitPlanApproval', AwaitApprovalInputSchema, awaitApproval),
  Segment: taskRunner('Segment', SegmentInputSchema, segment),
  ApplySchema: taskRunner('ApplySchema', ApplySchemaInputSchema, applySchema),
  ResolveOwners: taskRunner('ResolveOwners', ResolveOwnersInputSchema, resolveOwnersStage),
  Prepare: taskRunner('Prepare', PrepareInputSchema, prepare),
  LoadChunk: taskRunner('LoadChunk', LoadChunkInputSchema, loadChunk),
  SampleLoad: taskRunner('SampleLoad', SampleLoadInputSchema, sampleLoad),
  AwaitSampleApproval: taskRunner('AwaitSampleApproval', AwaitApprovalInputSchema, awaitApproval),
  LinkDelta: taskRunner('LinkDelta', LinkDeltaInputSchema, linkDeltaStage),
  PropagateDeletes: taskRunner('PropagateDeletes', PropagateDeletesInputSchema, propagateDeletesStage),
  Reconcile: taskRunner('Reconcile', ReconcileInputSchema, reconcile),
  Rollback: taskRunner('Rollback', RollbackInputSchema, rollback),
  FailRun: taskRunner('FailRun', FailRunInputSchema, failRun),
};

/** A manifest entry with its runnable core: what the local runner is handed. */
export interface TaskEntry extends TaskManifestEntry {
  /** In-process call used by the local runner: parses the input with the task's zod schema, calls the core. */
  readonly run: (input: unknown, deps: TaskDeps) => Promise<unknown>;
}

/** The entry of a manifest state joined with its run; throws naming the state when either is missing. */
function withRun(entry: TaskManifestEntry): TaskEntry {
  const run = taskRuns[entry.stateName];
  if (!run) throw new Error(`task registry has no runnable core for ASL Task state ${entry.stateName}`);
  return { ...entry, run };
}

/** Every Task state of the manifest with its core. */
export const taskRegistry: readonly TaskEntry[] = taskManifest.map(withRun);

/** The entry for a Task state; throws naming the state when the registry has none. */
export function taskByState(stateName: string): TaskEntry {
  const entry = taskRegistry.find((task) => task.stateName === stateName);
  if (!entry) throw new Error(`task registry has no entry for ASL Task state ${stateName}`);
  return entry;
}
