import type { Command } from 'commander';
import { taskByState } from '../../lambdas/tasks/registry.ts';
import { newRunId, withLocalRuntime } from '../local/runtime.ts';
import { cliLog, count, type GlobalOptions, print, printJson } from './common.ts';
import { uploadExportFolder } from './drop-folder.ts';
import { printInventory, readPlanView } from './plan-view.ts';

interface PlanOptions {
  readonly json?: boolean;
  readonly stateDir: string;
}

/** The Inventory output fields the CLI shows; the task's own schema validates it. */
interface InventoryView {
  runId?: string;
  folder?: string;
  planKey?: string;
  files?: number;
  rows?: number;
  warnings?: number;
}

/**
 * `ferry plan <dir>`: runs only the Inventory task (no state machine, nothing approved or
 * segmented) so an operator can check what Ferry sees in an export before a run.
 */
export async function planCommand(dir: string, options: PlanOptions, global: GlobalOptions): Promise<void> {
  const result = await withLocalRuntime(
    { stateDir: options.stateDir, log: cliLog(global) },
    async (runtime) => {
      const upload = await uploadExportFolder(runtime.deps.drop, dir);
      const runId = newRunId();
      const output = (await taskByState('Inventory').run(
        { runId, folder: upload.folder },
        runtime.deps,
      )) as InventoryView;
      const planKey = output.planKey ?? `runs/${runId}/plan.json`;
      const plan = options.json
        ? JSON.parse(await runtime.deps.work.getText(planKey))
        : await readPlanView(runtime.deps.work, planKey);
      return { output, plan, planKey };
    },
  );
  if (options.json) {
    printJson({ inventory: result.output, plan: result.plan });
    return;
  }
  print(
    `Ferry plan ${result.output.runId ?? ''}: ${count(result.output.files)} files, ${count(result.output.rows)} rows`,
  );
  if (result.plan) printInventory(result.plan);
  print(`  plan at s3://ferry-work/${result.planKey} (${options.stateDir}); nothing was segmented or loaded`);
}

/** Adds `ferry plan` to the program. */
export function registerCommands(program: Command): void {
  program
    .command('plan')
    .description('inventory an export folder and print what Ferry sees (no run)')
    .argument('<dir>', 'folder holding the export files')
    .option('--json', 'print the inventory and plan.json as JSON')
    .option('--state-dir <dir>', 'where local state persists', '.ferry')
    .action(async (dir: string, options: PlanOptions, command: Command) => {
      await planCommand(dir, options, command.optsWithGlobals<GlobalOptions>());
    });
}
