import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

export const repoRoot = join(import.meta.dirname, '..', '..', '..');
export const tinyExport = join(repoRoot, 'test', 'fixtures', 'exports', 'tiny');

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs the CLI as a user does, in a child process with the Node 24 that runs the tests (the binary
 * `npx node` resolves to), no terminal on stdin, and NODE_OPTIONS cleared.
 */
export function ferry(args: readonly string[], entry = 'bin/ferry.ts'): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(repoRoot, entry), ...args], {
      cwd: repoRoot,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.stdin.end();
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A `ferry` child process still running: its output so far, and its end. */
export interface RunningCli {
  readonly child: ChildProcess;
  readonly done: Promise<CliResult>;
  stderr(): string;
}

/** Starts the CLI like {@link ferry} but returns at once, for a test that watches it run (and may kill it). */
export function startFerry(args: readonly string[], entry = 'bin/ferry.ts'): RunningCli {
  const child = spawn(process.execPath, [join(repoRoot, entry), ...args], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    stderr += chunk;
  });
  const done = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
  return { child, done, stderr: () => stderr };
}

/** Waits until `check` returns a value (polling what the run really writes), or fails naming `what`. */
export async function until<T>(
  what: string,
  check: () => T | undefined | Promise<T | undefined>,
  { timeoutMs = 120_000, everyMs = 100 }: { timeoutMs?: number; everyMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/**
 * `ferry run <dir> --yes --json --fresh --sample-size 0` into a given Twenty (a test sandbox) with
 * its own state dir, at a rate the sandbox never throttles: the loaded layout is what is tested.
 */
export function ferryRunInto(
  dir: string,
  stateDir: string,
  twenty: { readonly url: string; readonly apiKey: string },
): Promise<CliResult> {
  return ferry([
    'run',
    dir,
    '--yes',
    '--json',
    '--fresh',
    '--sample-size',
    '0',
    '--state-dir',
    stateDir,
    '--twenty-url',
    twenty.url,
    '--api-key',
    twenty.apiKey,
    '--rate',
    '6000/60s',
  ]);
}
