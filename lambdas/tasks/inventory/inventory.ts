import { createHash } from 'node:crypto';
import { z } from 'zod';
import { ValidationError } from '../../core/errors.ts';
import {
  type AnnouncedFiles,
  AnnouncedFilesSchema,
  announcedFileIssues,
} from '../../core/inventory/announced.ts';
import type { DurationEstimate } from '../../core/inventory/estimate.ts';
import { inspectExport, listExport, MARKER_FILE } from '../../core/inventory/inspect-export.ts';
import { type MappingPlan, storableSpec } from '../../core/inventory/mapping-plan.ts';
import type { Plan } from '../../core/inventory/plan.ts';
import { assemblePlan, estimateRun, mappingFor } from '../../core/inventory/plan-assembly.ts';
import { renderPlanReport } from '../../core/inventory/plan-report.ts';
import { domainKey, emailKey } from '../../core/prepare/inputs.ts';
import { targetModelFrom } from '../../core/prepare/target-model.ts';
import {
  mappingKeyFor,
  mergeCandidatesKey,
  planKeyFor,
  planReportKeyFor,
  targetModelKey,
} from '../../core/run-layout.ts';
import { hasTwentyTarget, type TaskDeps } from '../deps.ts';
import {
  type InventoryInput,
  type InventoryOptions,
  InventoryOptionsSchema,
  type InventoryOutput,
} from './schema.ts';
import { schemaDiffOf } from './schema-diff.ts';

// The file-level steps live in lambdas/core/inventory/; these names stay exported here.
export { DATA_EXTENSIONS, MARKER_FILE } from '../../core/inventory/inspect-export.ts';
export { stemFor } from '../../core/inventory/inspect-file.ts';

/** How long a run holds its drop folder: Reconcile or FailRun release it; expiry frees a crashed run's folder. */
export const RUN_LOCK_TTL_MS = 24 * 60 * 60 * 1000;

/** `drop/acme-dental/` → `acme-dental`: the default source instance. */
export function folderName(folder: string): string {
  const parts = folder.split('/').filter((p) => p !== '');
  return parts.at(-1) ?? 'default';
}

/**
 * `ferry.json`: marks a folder complete; may name the source instance, carry run options, and list
 * the files the exporting system wrote with their sizes (and hashes), which Inventory checks.
 */
const MarkerSchema = z.looseObject({
  instance: z
    .string()
    .regex(/^[A-Za-z0-9._-]+$/)
    .optional(),
  options: InventoryOptionsSchema.optional(),
  files: AnnouncedFilesSchema.optional(),
});

async function readMarker(deps: TaskDeps, folder: string): Promise<z.infer<typeof MarkerSchema>> {
  const key = `${folder}${MARKER_FILE}`;
  if (!(await deps.drop.exists(key))) return {};
  let json: unknown;
  try {
    json = JSON.parse(await deps.drop.getText(key));
  } catch {
    throw new ValidationError(`${MARKER_FILE} in ${folder} is not valid JSON`, { code: 'MARKER_INVALID' });
  }
  const parsed = MarkerSchema.safeParse(json);
  if (!parsed.success) {
    const paths = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'} (${i.code})`).join(', ');
    throw new ValidationError(`${MARKER_FILE} in ${folder} is invalid: ${paths}`, { code: 'MARKER_INVALID' });
  }
  return parsed.data;
}

interface TargetFacts {
  readonly schemaDiff: unknown;
  readonly schemaChanges: string[];
  readonly mergeCounts: { people: number; companies: number };
}

/**
 * What Inventory learns from the target workspace: its model (target-model.json for Prepare), the
 * schema changes the mapping needs, and the unique keys that already exist (merge-candidates.json),
 * each paged once with a fields projection.
 */
async function readTarget(deps: TaskDeps, runId: string, mapping: MappingPlan): Promise<TargetFacts> {
  const client = await deps.twenty();
  const model = await client.metadata();
  const targetModel = targetModelFrom(model, mapping.spec);
  await deps.work.put(targetModelKey(runId), `${JSON.stringify(targetModel, null, 2)}\n`, 'application/json');
  const diff = schemaDiffOf(mapping.spec, model);

  const targets = new Set(Object.values(mapping.spec.entities).map((e) => e.target));
  const people: Record<string, string> = {};
  const companies: Record<string, string> = {};
  if (targets.has('person') && model.find('person')) {
    for await (const row of client.findMany('people', { fields: ['emails'], limit: 200 })) {
      const email = stringAt(row, ['emails', 'primaryEmail']);
      if (email !== undefined) people[emailKey(email)] ??= row.id;
    }
  }
  if (targets.has('company') && model.find('company')) {
    for await (const row of client.findMany('companies', { fields: ['domainName'], limit: 200 })) {
      const url = stringAt(row, ['domainName', 'primaryLinkUrl']);
      const key = url === undefined ? null : domainKey(url);
      if (key !== null) companies[key] ??= row.id;
    }
  }
  await deps.work.put(
    mergeCandidatesKey(runId),
    `${JSON.stringify({ version: 1, runId, people, companies })}\n`,
    'application/json',
  );
  return {
    schemaDiff: diff.diff,
    schemaChanges: diff.changes,
    mergeCounts: { people: Object.keys(people).length, companies: Object.keys(companies).length },
  };
}

function stringAt(record: Record<string, unknown>, path: readonly string[]): string | undefined {
  let value: unknown = record;
  for (const part of path) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return typeof value === 'string' && value.trim() !== '' ? value : undefined;
}

/** The run as Inventory opens it: its options, its source instance and when it started. */
interface OpenedRun {
  readonly options: InventoryOptions;
  /** The files ferry.json announces (none when it lists none). */
  readonly announced: AnnouncedFiles;
  readonly sourceInstance: string;
  readonly startedAt: string;
}

/**
 * Reads the marker, merges the run options (CLI flags over ferry.json) and, with a run store,
 * takes the drop folder's lock and records the run.
 */
async function openRun(input: InventoryInput, deps: TaskDeps): Promise<OpenedRun> {
  const { runId, folder } = input;
  const marker = await readMarker(deps, folder);
  const options: InventoryOptions = { ...marker.options, ...(input.options ?? {}) };
  const sourceInstance = options.instance ?? marker.instance ?? folderName(folder);
  const startedAt = new Date(deps.clock.now()).toISOString();
  // Lock first: a second run on the same folder must stop before it writes anything.
  await deps.runStore.acquireLock(folder, runId, RUN_LOCK_TTL_MS);
  await deps.runStore.createRun({ runId, folder, source: 'unknown', startedAt });
  return { options, announced: marker.files ?? {}, sourceInstance, startedAt };
}

/**
 * Writes plan.json, mapping.json and plan-report.md, and records the plan's hash on the run.
 * Returns the plan's key.
 */
async function writePlan(
  deps: TaskDeps,
  plan: Plan,
  report: {
    mapping: MappingPlan;
    estimate: DurationEstimate;
    sourceInstance: string;
    target: TargetFacts | null;
  },
): Promise<string> {
  const { runId } = plan;
  const { mapping, target } = report;
  const planKey = planKeyFor(runId);
  const planText = `${JSON.stringify(plan, null, 2)}\n`;
  await deps.work.put(planKey, planText, 'application/json');
  await deps.work.put(
    mappingKeyFor(runId),
    `${JSON.stringify(storableSpec(mapping.spec), null, 2)}\n`,
    'application/json',
  );
  await deps.work.put(
    planReportKeyFor(runId),
    renderPlanReport(plan, {
      mapping,
      estimate: report.estimate,
      sourceInstance: report.sourceInstance,
      schemaChanges: target?.schemaChanges ?? null,
      mergeCandidates: target?.mergeCounts ?? null,
    }),
    'text/markdown',
  );
  await deps.runStore.updateRun(runId, {
    source: mapping.source,
    stage: 'Inventory',
    planHash: createHash('sha256').update(planText).digest('hex'),
  });
  return planKey;
}

/**
 * The Inventory stage: lists the drop folder, reads every data file twice as a stream (encoding,
 * then structure), hashes everything, and writes `runs/<runId>/plan.json` with names, hashes,
 * counts and inferred types — no values. Documents of the export are kept as attachments.
 * Throws ValidationError for a missing or empty folder, and — after writing the plan so the
 * operator can read it — when any data file cannot be read at all.
 */
export async function inventory(input: InventoryInput, deps: TaskDeps): Promise<InventoryOutput> {
  const { runId, folder } = input;
  const { options, announced, sourceInstance, startedAt } = await openRun(input, deps);
  const listing = await listExport(deps.drop, folder, options.mappingKey);
  const inspection = await inspectExport(deps.drop, listing, options);
  const { files, attachments, warnings, errors } = inspection;
  errors.push(
    ...announcedFileIssues(announced, [...files, ...attachments], new Set(errors.map((e) => e.file))),
  );
  const mapping = await mappingFor(deps.drop, inspection, options);
  const target = errors.length === 0 && hasTwentyTarget(deps) ? await readTarget(deps, runId, mapping) : null;
  const estimate = estimateRun(mapping, inspection, options.rate ?? 'cloud', options.batchMax ?? 200);
  const plan = assemblePlan(inspection, {
    runId,
    folder,
    createdAt: startedAt,
    sourceInstance,
    options,
    mapping,
    schemaDiff: target?.schemaDiff ?? null,
    mergeCandidates: target?.mergeCounts ?? null,
    estimate,
  });
  const planKey = await writePlan(deps, plan, { mapping, estimate, sourceInstance, target });
  deps.log.info('inventory written', {
    runId,
    source: mapping.source,
    files: files.length,
    attachments: attachments.length,
    rows: plan.totals.rows,
    entities: Object.keys(mapping.spec.entities).length,
    warnings: warnings.length,
    errors: errors.length,
  });

  const [first] = errors;
  if (first) {
    const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : '';
    throw new ValidationError(
      `drop folder ${folder} has unreadable files: ${first.message}${more}; see ${planKey}`,
      {
        code: 'DROP_FOLDER_INVALID',
      },
    );
  }
  return {
    runId,
    folder,
    planKey,
    files: files.length,
    rows: plan.totals.rows,
    bytes: plan.totals.bytes,
    warnings: warnings.length,
    source: mapping.source,
    sourceInstance,
    mappingKey: mappingKeyFor(runId),
    entities: Object.keys(mapping.spec.entities).length,
  };
}
