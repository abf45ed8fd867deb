import type { Command } from 'commander';
import { ConfigError } from '../../lambdas/core/errors.ts';
import type { ObjectStore } from '../../lambdas/ports/object-store.ts';
import {
  type ExecutionSummary,
  ExecutionSummarySchema,
  summaryKey,
  withLocalRuntime,
} from '../local/runtime.ts';
import { cliLog, type GlobalOptions, print, printJson } from './common.ts';

interface StatusOptions {
  readonly json?: boolean;
  readonly stateDir: string;
}

/**
 * Every local execution summary (`runs/<runId>/summary.json`), most recent first. Run ids start
 * with their UTC start time, so key order is time order. Unreadable summaries are skipped.
 */
export async function listExecutions(work: ObjectStore): Promise<ExecutionSummary[]> {
  const summaries: ExecutionSummary[] = [];
  for await (const object of work.list('runs/')) {
    if (!/^runs\/[^/]+\/summary\.json$/.test(object.key)) continue;
    const parsed = ExecutionSummarySchema.safeParse(JSON.parse(await work.getText(object.key)));
    if (parsed.success) summaries.push(parsed.data);
  }
  return summaries.sort((a, b) => (a.startedAt < b.startedAt ? 1 : a.startedAt > b.startedAt ? -1 : 0));
}

/** `ferry status [runId]`: the local runs, or one run's summary. */
export async function statusCommand(
  runId: string | undefined,
  options: StatusOptions,
  global: GlobalOptions,
): Promise<void> {
  const found = await withLocalRuntime(
    { stateDir: options.stateDir, log: cliLog(global) },
    async (runtime) => {
      if (runId === undefined) return listExecutions(runtime.deps.work);
      if (!/^[A-Za-z0-9_-]{1,80}$/.test(runId))
        throw new ConfigError('a run id has 1-80 letters, digits, - or _');
      if (!(await runtime.deps.work.exists(summaryKey(runId)))) {
        throw new ConfigError(
          `no run ${runId} in ${options.stateDir}: \`ferry status\` lists the runs there`,
        );
      }
      return ExecutionSummarySchema.parse(JSON.parse(await runtime.deps.work.getText(summaryKey(runId))));
    },
  );
  if (options.json) {
    printJson(found);
    return;
  }
  if (Array.isArray(found)) {
    if (found.length === 0) print(`No runs in ${options.stateDir} yet: \`ferry run <dir>\` starts one.`);
    for (const run of found) {
      const last = run.states.filter((s) => s !== 'Failed').at(-1) ?? '';
      print(
        `${run.runId}  ${run.machine.padEnd(8)} ${run.status.padEnd(9)} ${run.startedAt}  last state ${last}`,
      );
    }
    return;
  }
  print(`Run ${found.runId} (${found.machine}): ${found.status}`);
  print(`  started   ${found.startedAt}`);
  print(`  finished  ${found.finishedAt}`);
  print(`  states    ${found.states.join(' → ')}`);
  if (found.error) print(`  error     ${found.error.name}: ${found.error.cause}`);
  if (found.output && typeof found.output === 'object') {
    for (const [key, value] of Object.entries(found.output)) {
      if (typeof value !== 'object') print(`  ${key.padEnd(9)} ${String(value)}`);
    }
  }
}

/** Adds `ferry status` to the program. */
export function registerCommands(program: Command): void {
  program
    .command('status')
    .description('list local runs, or show one')
    .argument('[runId]', 'the run to show')
    .option('--json', 'print as JSON')
    .option('--state-dir <dir>', 'where local state persists', '.ferry')
    .action(async (runId: string | undefined, options: StatusOptions, command: Command) => {
      await statusCommand(runId, options, command.optsWithGlobals<GlobalOptions>());
    });
}
