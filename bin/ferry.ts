import { Command } from 'commander';
import { registerApproveCommand } from '../lib/cli/approve.ts';
import { exitCodes, reportError } from '../lib/cli/common.ts';
import { registerCommands as registerDelta } from '../lib/cli/delta.ts';
import { registerCommands as registerEstimate } from '../lib/cli/estimate.ts';
import { registerGenerateCommand } from '../lib/cli/generate-command.ts';
import { registerCommands as registerPlan } from '../lib/cli/plan.ts';
import { registerCommands as registerReport } from '../lib/cli/report.ts';
import { registerCommands as registerResume } from '../lib/cli/resume.ts';
import { registerCommands as registerRollback } from '../lib/cli/rollback.ts';
import { registerCommands as registerRun } from '../lib/cli/run.ts';
import { registerSandboxCommand } from '../lib/cli/sandbox-command.ts';
import { registerCommands as registerStatus } from '../lib/cli/status.ts';

/**
 * The `ferry` program. Each lib/cli file adds its commands through `registerCommands(program)`,
 * so new commands (sandbox, generate, approve…) plug in here with one line.
 */
export function buildProgram(): Command {
  const program = new Command('ferry')
    .description("Migrate a practice's exports into Twenty CRM: validated, reconciled, audited, reversible.")
    .version('0.1.0')
    .option('--debug', 'print stack traces and task logs on stderr')
    .showSuggestionAfterError()
    .exitOverride();
  program.configureOutput({ outputError: (text, write) => write(`${text.trimEnd()}\n`) });
  for (const register of [
    registerRun,
    registerResume,
    registerDelta,
    registerPlan,
    registerEstimate,
    registerStatus,
    registerApproveCommand,
    registerSandboxCommand,
    registerGenerateCommand,
    registerRollback,
    registerReport,
  ])
    register(program);
  for (const command of program.commands) command.exitOverride();
  return program;
}

/** Runs the CLI and returns its exit code (0 ok, 1 pipeline failure, 2 usage/config error). */
export async function main(argv: readonly string[] = process.argv): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv]);
    return exitCodes.ok;
  } catch (error) {
    return reportError(error, argv.includes('--debug'));
  }
}

if (import.meta.main) {
  process.exitCode = await main();
}
