import type { Command } from 'commander';
import { cliApprover } from '../local/approvals.ts';
import { localBucketNames } from '../local/embedded-s3.ts';
import { type LocalExecution, withLocalRuntime } from '../local/runtime.ts';
import {
  bytes,
  cliLog,
  count,
  type GlobalOptions,
  integerOption,
  PipelineFailedError,
  print,
  printJson,
} from './common.ts';
import { uploadExportFolder } from './drop-folder.ts';
import { printInventory, readPlanView } from './plan-view.ts';

interface RunOptions {
  readonly yes?: boolean;
  readonly json?: boolean;
  readonly stateDir: string;
  readonly chunkSize: number;
}

/** What `migrate` returns today (the Summarize state); every field optional for display. */
interface MigrateSummary {
  runId?: string;
  status?: string;
  message?: string;
  planKey?: string;
  manifestKey?: string;
  files?: number;
  rows?: number;
  bytes?: number;
  warnings?: number;
  chunks?: number;
  segmentedRows?: number;
  rejects?: number;
  loadedIntoTwenty?: number;
}

const s3Uri = (key: string | undefined): string => (key ? `s3://${localBucketNames.work}/${key}` : '?');

/**
 * `ferry run <dir>`: mirror the folder into the local drop bucket, run the real migrate state
 * machine through the local runner, print what happened. Exit 1 when the execution fails.
 */
export async function runCommand(dir: string, options: RunOptions, global: GlobalOptions): Promise<void> {
  const outcome = await withLocalRuntime(
    { stateDir: options.stateDir, log: cliLog(global) },
    async (runtime) => {
      const upload = await uploadExportFolder(runtime.deps.drop, dir);
      const execution = await runtime.startExecution(
        'migrate',
        { folder: upload.folder, options: { chunkSize: options.chunkSize } },
        { approver: cliApprover({ yes: options.yes === true }) },
      );
      const summary = (execution.output ?? {}) as MigrateSummary;
      const plan = summary.planKey ? await readPlanView(runtime.deps.work, summary.planKey) : undefined;
      return { upload, execution, summary, plan, stateDir: runtime.stateDir };
    },
  );
  const { execution, summary, upload, plan } = outcome;
  if (options.json) {
    printJson({
      runId: execution.runId,
      status: execution.status,
      source: dir,
      folder: upload.folder,
      stateDir: outcome.stateDir,
      summary: execution.output ?? null,
      error: execution.error ?? null,
      states: execution.transitions.filter((t) => t.type === 'StateEntered').map((t) => t.state),
    });
  } else {
    printRun(execution, summary, upload.folder, dir, outcome.stateDir);
    if (plan) {
      print('Inventory:');
      printInventory(plan);
    }
  }
  if (execution.status !== 'SUCCEEDED') {
    throw new PipelineFailedError(
      `run ${execution.runId} failed with ${execution.error?.name ?? 'an error'}: ${execution.error?.cause ?? 'no cause recorded'}`,
    );
  }
}

function printRun(
  execution: LocalExecution,
  summary: MigrateSummary,
  folder: string,
  dir: string,
  stateDir: string | undefined,
): void {
  print(`Ferry run ${execution.runId}: ${execution.status}`);
  print(`  source     ${dir} → s3://${localBucketNames.drop}/${folder}`);
  if (execution.status === 'SUCCEEDED') {
    print(
      `  files      ${count(summary.files)}  (${bytes(summary.bytes)}, ${count(summary.warnings)} warnings)`,
    );
    print(`  rows       ${count(summary.rows)} counted, ${count(summary.segmentedRows)} segmented`);
    print(`  chunks     ${count(summary.chunks)}`);
    print(`  rejects    ${count(summary.rejects)}`);
    print(`  plan       ${s3Uri(summary.planKey)}`);
    print(`  manifest   ${s3Uri(summary.manifestKey)}`);
    if (summary.rejects) print(`  rejects at ${s3Uri(`runs/${execution.runId}/rejects/`)}`);
    if (summary.message) print(`  ${summary.message}`);
  } else {
    const states = execution.transitions.filter((t) => t.type === 'StateEntered').map((t) => t.state);
    print(`  stopped after ${states.filter((s) => s !== 'Failed').at(-1) ?? 'start'}`);
  }
  if (stateDir)
    print(
      `  local state ${stateDir} (objects under ${stateDir}/s3/); see \`ferry status ${execution.runId}\``,
    );
}

/** Adds `ferry run` to the program. */
export function registerCommands(program: Command): void {
  program
    .command('run')
    .description('run the migrate workflow locally on an export folder (embedded S3 + DynamoDB)')
    .argument('<dir>', 'folder holding the export files')
    .option('-y, --yes', 'approve the plan without prompting')
    .option('--json', 'print the result as JSON')
    .option('--state-dir <dir>', 'where local state persists', '.ferry')
    .option(
      '--chunk-size <rows>',
      'rows per NDJSON chunk (1-20000)',
      integerOption('--chunk-size', 1, 20_000),
      5000,
    )
    .action(async (dir: string, options: RunOptions, command: Command) => {
      await runCommand(dir, options, command.optsWithGlobals<GlobalOptions>());
    });
}
