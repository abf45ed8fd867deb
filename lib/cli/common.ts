import { CommanderError } from 'commander';
import { lineLog } from '../../lambdas/adapters/logger.ts';
import { AppError, ConfigError, safeMessage, ValidationError } from '../../lambdas/core/errors.ts';
import { type Log, silentLog } from '../../lambdas/ports/log.ts';

/** Exit codes every command shares: scripts and CI rely on them. */
export const exitCodes = { ok: 0, pipelineFailure: 1, usage: 2 } as const;

/** A pipeline that ran and failed (exit 1); the message is already one safe sentence. */
export class PipelineFailedError extends AppError {}

/** Options every command accepts through the root program. */
export interface GlobalOptions {
  readonly debug?: boolean;
}

/** The log a command gives the runtime: readable lines on stderr with --debug, silence otherwise. */
export function cliLog(options: GlobalOptions): Log {
  return options.debug ? lineLog(undefined, 'DEBUG') : silentLog;
}

/** Writes a line to stdout (the only place results go; diagnostics go to stderr). */
export function print(line = ''): void {
  process.stdout.write(`${line}\n`);
}

/** Pretty JSON on stdout for `--json`. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Parses `--flavor`: the Twenty generation the built-in sandbox emulates (`v1` or `v2`). */
export function flavorOption(value: string): 'v1' | 'v2' {
  if (value !== 'v1' && value !== 'v2') throw new ConfigError('--flavor must be v1 or v2');
  return value;
}

/** Parses a positive integer option, naming the option and the rule when it is not one. */
export function integerOption(name: string, min: number, max: number): (value: string) => number {
  return (value) => {
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < min || parsed > max) {
      throw new ConfigError(`option ${name} must be an integer from ${min} to ${max}`);
    }
    return parsed;
  };
}

/** `--batch-max`'s help and parser, shared by run and resume. */
export const BATCH_MAX_HELP =
  'upper bound on records per batch request (1-200; default: the largest the workspace accepts, discovered from its cap message, starting at 200)';
export const batchMaxOption = integerOption('--batch-max', 1, 200);

/**
 * The exit code of an error that stops a command: 2 for usage, configuration and input no retry
 * can fix (a ValidationError itself: an unreadable export file, an invalid mapping or ferry.json —
 * not its subclasses, such as Twenty refusing a request), 1 for the rest.
 */
export function exitCodeOf(error: unknown): number {
  if (error instanceof CommanderError)
    return error.code === 'commander.helpDisplayed' || error.code === 'commander.version'
      ? exitCodes.ok
      : exitCodes.usage;
  if (error instanceof ConfigError) return exitCodes.usage;
  if (error instanceof ValidationError && error.name === 'ValidationError') return exitCodes.usage;
  return exitCodes.pipelineFailure;
}

/**
 * Maps any error to an exit code and one sentence on stderr (the stack only with --debug).
 * Configuration, usage and input problems exit 2 ({@link exitCodeOf}); everything else that stops a run exits 1.
 */
export function reportError(error: unknown, debug: boolean): number {
  if (error instanceof CommanderError) {
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return exitCodes.ok;
    return exitCodes.usage; // commander has already printed its own one-line message
  }
  const code = exitCodeOf(error);
  const message =
    error instanceof AppError
      ? error.message
      : `unexpected ${safeMessage(error)}${debug ? '' : '; re-run with --debug for details'}`;
  process.stderr.write(`ferry: ${message.endsWith('.') ? message : `${message}.`}\n`);
  if (debug && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
  return code;
}

/** `1,234` for counts in summaries. */
export function count(value: unknown): string {
  return typeof value === 'number' ? value.toLocaleString('en-US') : '?';
}

/** `12.3 KB` for sizes in summaries. */
export function bytes(value: unknown): string {
  if (typeof value !== 'number') return '?';
  const units = ['B', 'KB', 'MB', 'GB'];
  let size = value;
  let unit = 0;
  while (size >= 1024 && unit < units.length - 1) {
    size /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? size : size.toFixed(1)} ${units[unit]}`;
}
