import { SchemaConflictError } from '../../core/errors.ts';
import { schemaChangesKeyFor } from '../../core/run-layout.ts';
import { type AppliedSchema, applySchemaChanges } from '../../core/schema/apply.ts';
import {
  assertNoConflicts,
  describeConflict,
  diffSchema,
  type SchemaChanges,
  type SeenOptionValues,
} from '../../core/schema/diff.ts';
import { readManifest, readRunMapping, readRunPlan } from '../../core/schema/run-inputs.ts';
import { collectSeenOptionValues } from '../../core/schema/seen-values.ts';
import type { TaskDeps } from '../deps.ts';
import type { ApplySchemaInput, ApplySchemaOutput } from './schema.ts';

// The key lives in run-layout.ts; this name stays here for the tests.
export { schemaChangesKeyFor };

/** Everything a diff still asks for, as `object.field` names, for the post-apply check's message. */
function outstanding(changes: SchemaChanges): string[] {
  return [
    ...changes.objects.map((o) => `${o.nameSingular}: object missing`),
    ...changes.fields.map((f) => `${f.object}.${f.name}: field missing`),
    ...changes.options.map((o) => `${o.object}.${o.field}: ${o.options.length} option(s) missing`),
    ...changes.relations.map((r) => `${r.object}.${r.joinColumn}: relation missing`),
    ...changes.conflicts.map(describeConflict),
  ];
}

/** Rounds of diff-and-apply after the first, for a schema another writer changes at the same time. */
const CONVERGE_ROUNDS = 3;

function addApplied(a: AppliedSchema, b: AppliedSchema): AppliedSchema {
  return {
    objectsCreated: a.objectsCreated + b.objectsCreated,
    fieldsCreated: a.fieldsCreated + b.fieldsCreated,
    optionsAdded: a.optionsAdded + b.optionsAdded,
    relationsCreated: a.relationsCreated + b.relationsCreated,
  };
}

/**
 * The ApplySchema stage: makes the Twenty workspace able to take every record of the approved mapping
 * before any record is sent — custom objects, then fields with their SELECT options (including the
 * values the Segment chunks will write into `addOption` selects), then options missing on existing
 * custom selects, then custom relations. It then re-reads the metadata, applies what another writer's
 * concurrent change left missing (a few rounds), and fails with a SchemaConflictError naming each
 * object.field still missing, so LoadChunk never meets an unknown
 * field. A re-run against the same workspace creates nothing. A key without data-model permission
 * fails with an AuthError saying an admin key is needed.
 */
export async function applySchema(input: ApplySchemaInput, deps: TaskDeps): Promise<ApplySchemaOutput> {
  const { runId, planKey } = input;
  const plan = await readRunPlan(deps.work, runId, planKey);
  const mapping = await readRunMapping(deps.work, runId, plan);
  const manifest = await readManifest(deps.work, runId);
  const seen: SeenOptionValues = manifest
    ? await collectSeenOptionValues(mapping, plan, manifest, deps.work)
    : new Map();

  const twenty = await deps.twenty();
  const started = deps.clock.now();
  const changes = diffSchema(mapping, await twenty.metadata(), seen);
  assertNoConflicts(changes);
  const context = {
    runId,
    clock: deps.clock,
    log: deps.log,
    ledger: deps.ledger,
  };
  let applied: AppliedSchema = { objectsCreated: 0, fieldsCreated: 0, optionsAdded: 0, relationsCreated: 0 };
  // Another writer (a run of another export into the same workspace, side by side) may create a field
  // this run means to create, or replace a select's option list, between this run's read and its
  // write: after each round, diff again against the live metadata and apply what is still missing.
  // A creation Twenty refused is retried that way; refused every round, its own error is the answer.
  let refusal: unknown;
  for (let round = 0, pending = changes; ; round++) {
    try {
      applied = addApplied(applied, await applySchemaChanges(pending, twenty, context));
      refusal = undefined;
    } catch (error) {
      if (!(error instanceof SchemaConflictError && error.code === 'SCHEMA_CONFLICT')) throw error;
      refusal = error;
    }
    pending = diffSchema(mapping, await twenty.refreshMetadata(), seen);
    const remaining = outstanding(pending);
    if (remaining.length === 0) break;
    if (round >= CONVERGE_ROUNDS || pending.conflicts.length > 0) {
      if (refusal !== undefined && pending.conflicts.length === 0) throw refusal;
      throw new SchemaConflictError(
        `the workspace still lacks what the mapping writes after ApplySchema: ${remaining.join('; ')}`,
        { code: 'SCHEMA_INCOMPLETE' },
      );
    }
    deps.log.warn('schema changed under ApplySchema; applying what is still missing', {
      runId,
      round: round + 1,
      outstanding: remaining.length,
    });
  }
  await deps.work.put(
    schemaChangesKeyFor(runId),
    `${JSON.stringify({ runId, appliedAt: new Date(deps.clock.now()).toISOString(), changes, applied }, null, 2)}\n`,
    'application/json',
  );
  deps.log.info('schema ready', { runId, ...applied, durationMs: deps.clock.now() - started });
  return { runId, ...applied };
}
