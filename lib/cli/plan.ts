import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { z } from 'zod';
import {
  mappingKeyFor,
  planKeyFor,
  readArtifact,
  readArtifactIfPresent,
} from '../../lambdas/core/run-layout.ts';
import { taskByState } from '../../lambdas/tasks/registry.ts';
import { type LocalRuntime, newRunId, withLocalRuntime } from '../local/runtime.ts';
import { cliLog, count, type GlobalOptions, PipelineFailedError, print, printJson } from './common.ts';
import { uploadExportFolder } from './drop-folder.ts';
import {
  checkMappingOptions,
  mappingInventoryOptions,
  SOURCES,
  uploadOperatorMapping,
} from './mapping-options.ts';
import { MappingViewSchema, mappingYaml, printMapping } from './mapping-view.ts';
import { planViewOf, printInventory } from './plan-view.ts';

interface PlanOptions {
  readonly json?: boolean;
  readonly stateDir: string;
  readonly source?: string;
  readonly mapping?: string;
  readonly out?: string;
}

/** The Inventory output fields the CLI shows; the task's own schema validates it. */
export interface InventoryView {
  runId?: string;
  folder?: string;
  planKey?: string;
  files?: number;
  rows?: number;
  warnings?: number;
}

/**
 * Runs only the Inventory task on an export folder (no state machine, nothing approved, segmented or
 * loaded) and returns its output and plan.json. The run record is closed as cancelled and the folder
 * lock released: a plan or an estimate is not a run.
 */
export async function inventoryOnly(
  runtime: LocalRuntime,
  dir: string,
  options: { source?: string; mapping?: string; rate?: string; batchMax?: number },
): Promise<{
  output: InventoryView;
  raw: { mapping?: unknown } & Record<string, unknown>;
  planKey: string;
  runId: string;
}> {
  const upload = await uploadExportFolder(runtime.deps.drop, dir);
  const mappingKey = await uploadOperatorMapping(runtime.deps.drop, upload.folder, options.mapping);
  const runId = newRunId();
  let output: InventoryView;
  try {
    output = (await taskByState('Inventory').run(
      {
        runId,
        folder: upload.folder,
        options: {
          ...mappingInventoryOptions(options.source, mappingKey),
          ...(options.rate === undefined ? {} : { rate: options.rate }),
          ...(options.batchMax === undefined ? {} : { batchMax: options.batchMax }),
        },
      },
      runtime.deps,
    )) as InventoryView;
  } finally {
    await runtime.deps.runStore.releaseLock(upload.folder, runId);
    if (await runtime.deps.runStore.getRun(runId))
      await runtime.deps.runStore.updateRun(runId, {
        status: 'cancelled',
        stage: 'Plan',
        finishedAt: new Date().toISOString(),
      });
  }
  const planKey = output.planKey ?? planKeyFor(runId);
  const raw: { mapping?: unknown } & Record<string, unknown> = await readArtifact(
    runtime.deps.work,
    planKey,
    z.record(z.string(), z.unknown()),
  );
  return { output, raw, planKey, runId };
}

/**
 * `ferry plan <dir>`: runs only the Inventory task (no state machine, nothing approved or
 * segmented) so an operator can check what Ferry sees in an export before a run.
 */
export async function planCommand(dir: string, options: PlanOptions, global: GlobalOptions): Promise<void> {
  checkMappingOptions(options);
  const result = await withLocalRuntime(
    { stateDir: options.stateDir, log: cliLog(global), command: 'plan' },
    async (runtime) => {
      const { output, raw, planKey, runId } = await inventoryOnly(runtime, dir, options);
      const mapping = MappingViewSchema.safeParse(raw.mapping);
      const spec = await readArtifactIfPresent(runtime.deps.work, mappingKeyFor(runId), z.unknown());
      const plan = options.json ? raw : planViewOf(raw);
      return { output, plan, planKey, mapping: mapping.success ? mapping.data : undefined, spec };
    },
  );
  if (options.out !== undefined) {
    if (result.spec === undefined || result.mapping === undefined)
      throw new PipelineFailedError('no mapping was proposed for this export (see the plan for the errors)');
    writeFileSync(options.out, mappingYaml(result.spec, result.mapping));
  }
  if (options.json) {
    printJson({ inventory: result.output, plan: result.plan, mappingFile: options.out ?? null });
    return;
  }
  print(
    `Ferry plan ${result.output.runId ?? ''}: ${count(result.output.files)} files, ${count(result.output.rows)} rows`,
  );
  if (result.plan) printInventory(result.plan);
  if (result.mapping) printMapping(result.mapping);
  if (options.out !== undefined)
    print(`  mapping written to ${options.out} (edit it, then: ferry run ${dir} --mapping ${options.out})`);
  print(`  plan at s3://ferry-work/${result.planKey} (${options.stateDir}); nothing was segmented or loaded`);
}

/** Adds `ferry plan` to the program. */
export function registerCommands(program: Command): void {
  program
    .command('plan')
    .description('inventory an export folder and print what Ferry sees (no run)')
    .argument('<dir>', 'folder holding the export files')
    .option('--json', 'print the inventory and plan.json as JSON')
    .option('--source <system>', `source system: ${SOURCES.join(', ')} (default: auto)`)
    .option('--mapping <file>', 'an edited mapping YAML to check against the export')
    .option('--out <file>', 'write the proposed mapping as editable YAML with a confidence per field')
    .option('--state-dir <dir>', 'where local state persists', '.ferry')
    .action(async (dir: string, options: PlanOptions, command: Command) => {
      await planCommand(dir, options, command.optsWithGlobals<GlobalOptions>());
    });
}
