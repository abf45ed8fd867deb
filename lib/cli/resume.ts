import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { ConfigError } from '../../lambdas/core/errors.ts';
import { PlanSchema } from '../../lambdas/core/inventory/plan.ts';
import { planKeyFor, readArtifactIfPresent } from '../../lambdas/core/run-layout.ts';
import type { ObjectStore } from '../../lambdas/ports/object-store.ts';
import type { RunRecord, RunStore } from '../../lambdas/ports/run-store.ts';
import { BATCH_MAX_HELP, batchMaxOption, flavorOption, type GlobalOptions } from './common.ts';
import { type RunOptions, runCommand } from './run.ts';

/** A run that stopped without finishing: killed, crashed, Ctrl-C, or failed on the way (redrive). */
const RESUMABLE: ReadonlySet<RunRecord['status']> = new Set(['running', 'awaiting-approval', 'failed']);

/** The newest run of a drop folder that was interrupted before it finished (killed, crashed, Ctrl-C). */
export async function interruptedRunOf(runs: RunStore, folder: string): Promise<RunRecord | undefined> {
  const all = await runs.listRuns({ limit: 200 });
  const latest = all.find((run) => run.folder === folder);
  return latest !== undefined && (latest.status === 'running' || latest.status === 'awaiting-approval')
    ? latest
    : undefined;
}

/** The sha256 of every file the run's plan read, by its path inside the export folder. */
export async function plannedHashes(
  work: ObjectStore,
  runId: string,
): Promise<Map<string, string> | undefined> {
  const plan = await readArtifactIfPresent(work, planKeyFor(runId), PlanSchema);
  if (plan === undefined) return undefined;
  const hashes = new Map<string, string>();
  for (const file of [...plan.files, ...plan.attachments]) hashes.set(file.name, file.sha256);
  return hashes;
}

async function sha256(stream: NodeJS.ReadableStream): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * The files of `current` (path inside the export → how to read it) that differ from what the run
 * planned: changed bytes, gone, or new. Names only — never content.
 */
export async function changedInputs(
  planned: ReadonlyMap<string, string>,
  current: ReadonlyMap<string, () => Promise<NodeJS.ReadableStream>>,
): Promise<string[]> {
  const changed: string[] = [];
  for (const [name, hash] of planned) {
    const open = current.get(name);
    if (open === undefined) changed.push(`${name} (gone)`);
    else if ((await sha256(await open())) !== hash) changed.push(`${name} (sha256 differs)`);
  }
  for (const name of current.keys()) {
    if (!planned.has(name) && name !== 'ferry.json' && !name.startsWith('.ferry-mapping/'))
      changed.push(`${name} (new)`);
  }
  return changed;
}

/** Readers of a local folder's files by their path inside it. */
export function localReaders(
  root: string,
  names: readonly string[],
): Map<string, () => Promise<NodeJS.ReadableStream>> {
  return new Map(names.map((name) => [name, async () => createReadStream(join(root, name))] as const));
}

/** Refuses to continue a run whose inputs changed since it was planned, naming the files (exit 2). */
export function refuseChanged(runId: string, changed: readonly string[]): never {
  const shown =
    changed.slice(0, 5).join(', ') + (changed.length > 5 ? ` and ${changed.length - 5} more` : '');
  throw new ConfigError(
    `run ${runId} cannot be resumed: its input files changed since it was planned — ${shown}. ` +
      `Roll it back (ferry rollback ${runId}) or start a new run with --fresh`,
  );
}

/** Whether a run may be resumed, or the one-sentence reason it may not. */
export function resumableReason(run: RunRecord | undefined, runId: string): string | undefined {
  if (run === undefined) return `run ${runId} is not known in this state dir`;
  if (!RESUMABLE.has(run.status)) return `run ${runId} is ${run.status}: there is nothing to resume`;
  return undefined;
}

/** Adds `ferry resume` to the program. */
export function registerCommands(program: Command): void {
  program
    .command('resume')
    .description(
      'continue an interrupted run (Ctrl-C, killed, crashed or failed): finished stages and chunks are not sent again',
    )
    .argument('<runId>', 'the run to continue (ferry status lists them)')
    .option('-y, --yes', 'approve the plan without prompting, if the run stopped before its approval')
    .option('--json', 'print the result as JSON')
    .option('--state-dir <dir>', 'where local state persists (S3 objects, DynamoDB, sandbox)', '.ferry')
    .option('--twenty-url <url>', 'the Twenty workspace the run writes to (env TWENTY_URL)')
    .option('--api-key <key>', 'API key for --twenty-url (env TWENTY_API_KEY)')
    .option(
      '--rate <rate>',
      'rate preset (cloud, pro, org, self-hosted) or N/<duration>, e.g. 600/60s (default: cloud with --twenty-url; 1000/1s+60000/60s against the built-in sandbox)',
    )
    .option('--batch-max <n>', BATCH_MAX_HELP, batchMaxOption)
    .option(
      '--flavor <v1|v2>',
      'built-in sandbox flavor: give the one the run was started with (default v2)',
      flavorOption,
    )
    .option(
      '--show-values',
      "write the rejected rows' values into the local copies of rejects.csv and report.html",
    )
    .option(
      '--tick-seconds <s>',
      'how long one load tick works before it hands back a continuation (1-840; default 30)',
      (v: string) => {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 1 || n > 840) throw new ConfigError('--tick-seconds must be 1-840');
        return n;
      },
    )
    .action(async (runId: string, flags: Partial<RunOptions>, command: Command) => {
      const options: RunOptions = {
        ...flags,
        stateDir: flags.stateDir ?? '.ferry',
        chunkSize: 5000,
        yes: true,
      };
      if (!existsSync(options.stateDir))
        throw new ConfigError(`state dir ${options.stateDir} does not exist`);
      await runCommand(undefined, options, command.optsWithGlobals() as GlobalOptions, runId);
    });
}
