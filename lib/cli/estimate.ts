import type { Command } from 'commander';
import { ConfigError } from '../../lambdas/core/errors.ts';
import { parseRate, requestsPerMinute } from '../../lambdas/core/rate-limit/rate-spec.ts';
import { READ_BACK_PAGE } from '../../lambdas/core/reconcile/read-back.ts';
import { withLocalRuntime } from '../local/runtime.ts';
import { cliLog, count, type GlobalOptions, integerOption, print, printJson } from './common.ts';
import { checkMappingOptions, SOURCES } from './mapping-options.ts';
import { inventoryOnly } from './plan.ts';
import { duration } from './progress.ts';

interface EstimateOptions {
  readonly json?: boolean;
  readonly stateDir: string;
  readonly source?: string;
  readonly mapping?: string;
  readonly rate: string;
  readonly batchMax?: number;
}

/**
 * `ferry estimate <dir>`: how long a migration of the folder takes at a rate, from counts alone
 * (Inventory only, nothing loaded): write requests at the batch size, the read-back that proves the
 * load, and minutes at the preset's sustained rate. The rate, not Ferry, is the bound.
 */
export async function estimateCommand(
  dir: string,
  options: EstimateOptions,
  global: GlobalOptions,
): Promise<void> {
  checkMappingOptions(options);
  const spec = parseRate(options.rate, '--rate');
  const perMinute = requestsPerMinute(spec);
  const { raw } = await withLocalRuntime(
    { stateDir: options.stateDir, log: cliLog(global), command: 'estimate' },
    (runtime) => inventoryOnly(runtime, dir, options),
  );
  const estimate = raw.estimate as { requests?: number; batchMax?: number } | undefined;
  const rows = (raw.totals as { rows?: number } | undefined)?.rows;
  if (estimate?.requests === undefined || rows === undefined)
    throw new ConfigError(`no estimate for ${dir}: the plan has errors (ferry plan ${dir} shows them)`);
  const readBack = Math.ceil(rows / READ_BACK_PAGE);
  const result = {
    rows,
    rate: spec.label,
    requestsPerMinute: perMinute,
    batchMax: estimate.batchMax ?? options.batchMax ?? 200,
    writeRequests: estimate.requests,
    readBackRequests: readBack,
    loadMinutes: Number((estimate.requests / perMinute).toFixed(2)),
    totalMinutes: Number(((estimate.requests + readBack) / perMinute).toFixed(2)),
  };
  if (options.json) {
    printJson(result);
    return;
  }
  print(`Ferry estimate for ${dir} at ${result.rate} (${count(Math.round(perMinute))} requests/min)`);
  print(`  source rows      ${count(rows)}`);
  print(
    `  load             ${count(result.writeRequests)} write requests in batches of ${count(result.batchMax)} → ${duration(result.loadMinutes)}`,
  );
  print(
    `  read-back        up to ${count(readBack)} requests of ${READ_BACK_PAGE} records → ${duration(readBack / perMinute)}`,
  );
  print(
    `  total            about ${duration(result.totalMinutes)} (schema changes add a few requests; rejected rows make it shorter)`,
  );
}

/** Adds `ferry estimate` to the program. */
export function registerCommands(program: Command): void {
  program
    .command('estimate')
    .description('predict how long migrating an export folder takes at a rate (nothing is loaded)')
    .argument('<dir>', 'folder holding the export files')
    .option('--rate <rate>', 'rate preset (cloud, pro, org, self-hosted) or N/<duration>', 'cloud')
    .option(
      '--batch-max <n>',
      'records per batch request (1-200, default 200)',
      integerOption('--batch-max', 1, 200),
    )
    .option('--source <system>', `source system: ${SOURCES.join(', ')} (default: auto)`)
    .option('--mapping <file>', 'an edited mapping YAML')
    .option('--json', 'print the estimate as JSON')
    .option('--state-dir <dir>', 'where local state persists', '.ferry')
    .action(async (dir: string, options: EstimateOptions, command: Command) => {
      await estimateCommand(dir, options, command.optsWithGlobals<GlobalOptions>());
    });
}
