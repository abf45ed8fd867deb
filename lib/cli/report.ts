import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { ConfigError } from '../../lambdas/core/errors.ts';
import { print } from './common.ts';

export interface ReportOptions {
  readonly stateDir: string;
  readonly open?: boolean;
}

/** The local copy of a run's report.html (`ferry run` copies it to `<stateDir>/reports/<runId>/`). */
export function reportPath(stateDir: string, runId: string): string {
  if (!/^[A-Za-z0-9._-]+$/.test(runId) || runId.startsWith('.'))
    throw new ConfigError('the run id may hold only letters, digits, dot, dash and underscore');
  return join(resolve(stateDir), 'reports', runId, 'report.html');
}

/**
 * `ferry report <runId> [--open]`: prints the path of the run's report.html, or opens it in the
 * default browser (xdg-open / open / start). Exit 2 when the run has no local report.
 */
export async function reportCommand(runId: string, options: ReportOptions): Promise<void> {
  const path = reportPath(options.stateDir, runId);
  if (!existsSync(path))
    throw new ConfigError(
      `no report for run ${runId} under ${resolve(options.stateDir)} (run it with ferry run first)`,
    );
  print(path);
  if (!options.open) return;
  const [command, args] =
    process.platform === 'darwin'
      ? ['open', [path]]
      : process.platform === 'win32'
        ? ['cmd', ['/c', 'start', '', path]]
        : ['xdg-open', [path]];
  await new Promise<void>((done, fail) => {
    const child = spawn(command, args, { stdio: 'ignore', detached: true });
    child.once('error', () => fail(new ConfigError(`could not start ${command} to open the report`)));
    child.once('spawn', () => {
      child.unref();
      done();
    });
  });
}

export function registerCommands(program: Command): void {
  program
    .command('report')
    .description("print the path of a run's report.html (or open it with --open)")
    .argument('<runId>', 'the run id')
    .option('--state-dir <dir>', 'where local state persists', '.ferry')
    .option('--open', 'open the report in the default browser')
    .action(async (runId: string, options: ReportOptions) => {
      await reportCommand(runId, options);
    });
}
