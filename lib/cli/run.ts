import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, join, relative, resolve, sep } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { deltaOf } from '../../lambdas/core/delta/link.ts';
import { AppError, ConfigError } from '../../lambdas/core/errors.ts';
import { parseRate } from '../../lambdas/core/rate-limit/rate-spec.ts';
import { type Reconciliation, ReconciliationSchema } from '../../lambdas/core/reconcile/report.ts';
import {
  ownersReportKeyFor,
  planKeyFor,
  planReportKeyFor,
  readArtifactIfPresent,
  reconciliationKey,
  sampleDiffHtmlKey,
  sampleDiffKey,
} from '../../lambdas/core/run-layout.ts';
import type { ObjectStore } from '../../lambdas/ports/object-store.ts';
import type { TaskDeps } from '../../lambdas/tasks/deps.ts';
import { type Approver, cliApprover, fileApprover } from '../local/approvals.ts';
import { localBucketNames } from '../local/embedded-s3.ts';
import {
  type LocalExecution,
  type LocalRuntime,
  type LocalTwentyTarget,
  newRunId,
  SANDBOX_RATE,
  withLocalRuntime,
} from '../local/runtime.ts';
import { acquireStateDir, type StateDirLease } from '../local/state-dir-lock.ts';
import type { RunningSandbox, SandboxMember } from '../sandbox/index.ts';
import { startSandboxThread } from '../sandbox/thread.ts';
import {
  BATCH_MAX_HELP,
  batchMaxOption,
  cliLog,
  count,
  flavorOption,
  type GlobalOptions,
  integerOption,
  PipelineFailedError,
  print,
  printJson,
} from './common.ts';
import { assertExportFolder, dropFolderFor, filesUnder, uploadExportFolder } from './drop-folder.ts';
import {
  checkMappingOptions,
  mappingInventoryOptions,
  SOURCES,
  uploadOperatorMapping,
} from './mapping-options.ts';
import { blockingLines, MappingViewSchema } from './mapping-view.ts';
import { estimateLine, type ProgressDisplay, startProgress } from './progress.ts';
import {
  changedInputs,
  interruptedRunOf,
  localReaders,
  plannedHashes,
  refuseChanged,
  resumableReason,
} from './resume.ts';
import { revealValues } from './show-values.ts';

export interface RunOptions {
  readonly yes?: boolean;
  readonly json?: boolean;
  readonly stateDir: string;
  readonly chunkSize: number;
  readonly twentyUrl?: string;
  readonly apiKey?: string;
  readonly rate?: string;
  readonly batchMax?: number;
  readonly fallbackOwner?: string;
  readonly mapping?: string;
  readonly source?: string;
  readonly flavor?: 'v1' | 'v2';
  readonly waitForApproval?: boolean;
  /** Seconds one LoadChunk tick works before it hands back a continuation (local time box). */
  readonly tickSeconds?: number;
  /** Start a new run even when the folder's last run was interrupted (instead of resuming it). */
  readonly fresh?: boolean;
  /** Proceed past the plan gate's blocking issues (the operator has read them). */
  readonly acceptPlan?: boolean;
  readonly tolerance?: number;
  /** About how many records the sample load holds before the full load (0: no sample, no sample gate). */
  readonly sampleSize?: number;
  /** Overwrite records edited or deleted in Twenty since Ferry last wrote them (conflicts otherwise). */
  readonly force?: boolean;
  /** Write the rejected rows' values into the local copies of rejects.csv and report.html. */
  readonly showValues?: boolean;
}

/**
 * Before the sample gate: the sample diff's counts on stderr and the page copied out of the embedded
 * S3 server, so the operator can open it before answering.
 */
async function showSample(work: ObjectStore, options: RunOptions, runId: string): Promise<void> {
  const diff = (await readArtifactIfPresent(work, sampleDiffKey(runId), z.unknown())) as
    | {
        totals?: {
          records?: number;
          fields?: number;
          matched?: number;
          mismatched?: number;
          missing?: number;
          rejected?: number;
        };
      }
    | undefined;
  const t = diff?.totals;
  if (t === undefined) return;
  const path = await copyReport(
    work,
    join(resolve(options.stateDir), 'reports', runId),
    sampleDiffHtmlKey(runId),
  );
  process.stderr.write(
    `ferry: sample: ${count(t.records)} records loaded and read back, ${count(t.fields)} fields — ` +
      `${count(t.matched)} match, ${count(t.mismatched)} differ, ${count(t.missing)} not in Twenty; ` +
      `${count(t.rejected)} records refused\nferry: sample diff: ${path}\n`,
  );
}

/** The plan names critical fields to confirm and nobody confirmed them: nothing was written. */
export class PlanGateError extends AppError {}

/**
 * The plan gate in front of the operator's approver: a plan whose mapping lists blocking issues
 * (critical fields the values contradict or the names could not settle) is not approved by
 * `--yes` alone — the run stops before Segment unless `--accept-plan`, or an operator mapping
 * (`--mapping`, which has none), says how to proceed. An interactive run lists them and asks.
 */
export function gated(approver: Approver, work: ObjectStore, options: RunOptions): Approver {
  return async (prompt) => {
    if (prompt.stage === 'sample' && options.json !== true) await showSample(work, options, prompt.runId);
    if (prompt.stage !== 'plan') return approver(prompt);
    const plan = await readArtifactIfPresent(work, planKeyFor(prompt.runId), z.unknown());
    const line = options.json === true || plan === undefined ? undefined : estimateLine(plan);
    if (line !== undefined) process.stderr.write(`ferry: ${line}\n`);
    if (options.acceptPlan === true) return approver(prompt);
    const view = MappingViewSchema.safeParse((plan as { mapping?: unknown } | undefined)?.mapping);
    const lines = view.success ? blockingLines(view.data) : [];
    if (lines.length === 0) return approver(prompt);
    const listing = `the plan has ${lines.length} critical field(s) to confirm before loading:\n  ${lines.join('\n  ')}\n`;
    if (options.yes === true)
      throw new PlanGateError(
        `${listing}Review them (ferry plan <dir> --out mapping.yaml), then re-run with --mapping mapping.yaml, or with --accept-plan to load as proposed`,
      );
    // Interactive (or waiting for `ferry approve`): show what to confirm, then the approver asks.
    process.stderr.write(
      `ferry: ${listing}ferry: approve only if loading them as proposed is right (the proposal leaves those fields out or as guessed)\n`,
    );
    return approver(prompt);
  };
}

/** The migrate execution's final output (the Summarize state): keys and counts only. */
export interface MigrateSummary {
  runId?: string;
  source?: string;
  planKey?: string;
  reconcile?: {
    reconciliationKey?: string;
    rejectsKey?: string;
    workflowsKey?: string;
    reportKey?: string;
    balanced?: boolean;
  };
}

/** The built-in sandbox's API key: local only, never a real credential. */
export const LOCAL_SANDBOX_API_KEY = 'ferry-local-sandbox';

/**
 * Workspace members the built-in sandbox starts with: the members an export's `expected.json`
 * lists (generated exports ship them, so owner resolution has someone to match), else none.
 */
export function sandboxMembersFor(dir: string): SandboxMember[] {
  const path = join(dir, 'expected.json');
  if (!existsSync(path)) return [];
  try {
    const expected = JSON.parse(readFileSync(path, 'utf8')) as { workspaceMembers?: unknown };
    const members = Array.isArray(expected.workspaceMembers) ? expected.workspaceMembers : [];
    return members.filter(
      (m): m is SandboxMember =>
        typeof m === 'object' &&
        m !== null &&
        typeof (m as SandboxMember).email === 'string' &&
        typeof (m as SandboxMember).firstName === 'string' &&
        typeof (m as SandboxMember).lastName === 'string',
    );
  } catch {
    return [];
  }
}

/** The Twenty target of a run: `--twenty-url/--api-key` (or TWENTY_URL/TWENTY_API_KEY), else none. */
export function explicitTarget(
  options: Pick<RunOptions, 'twentyUrl' | 'apiKey'>,
  env: Record<string, string | undefined> = process.env,
): { url: string; apiKey: string } | undefined {
  const url = options.twentyUrl ?? env.TWENTY_URL;
  const apiKey = options.apiKey ?? env.TWENTY_API_KEY;
  if (url === undefined && apiKey === undefined) return undefined;
  if (url === undefined || apiKey === undefined)
    throw new ConfigError('--twenty-url and --api-key go together (or TWENTY_URL and TWENTY_API_KEY)');
  if (!/^https?:\/\/[^\s]+$/.test(url)) throw new ConfigError('--twenty-url must be an http(s) URL');
  return { url: url.replace(/\/+$/, ''), apiKey };
}

/**
 * Where a local command talks to Twenty: `--twenty-url/--api-key` when given, else the built-in
 * sandbox persisted under `<stateDir>/sandbox` (started here; the caller stops `sandbox`). Shared by
 * `ferry run` and `ferry rollback`, so a rollback reaches the very workspace the run wrote to.
 */
export async function startTwentyTarget(
  options: Pick<RunOptions, 'stateDir' | 'twentyUrl' | 'apiKey' | 'rate' | 'batchMax' | 'flavor'>,
  members: SandboxMember[] = [],
): Promise<{
  target: LocalTwentyTarget;
  sandbox: RunningSandbox | undefined;
  explicit: { url: string; apiKey: string } | undefined;
}> {
  const stateDir = resolve(options.stateDir);
  const explicit = explicitTarget(options);
  let sandbox: RunningSandbox | undefined;
  let target: LocalTwentyTarget;
  if (explicit) {
    target = {
      ...explicit,
      rate: options.rate ?? 'cloud',
      ...(options.batchMax === undefined ? {} : { batchMax: options.batchMax }),
    };
  } else {
    sandbox = await startSandboxThread({
      dataDir: join(stateDir, 'sandbox'),
      apiKey: LOCAL_SANDBOX_API_KEY,
      flavor: options.flavor ?? 'v2',
      rateShort: null,
      rateLong: null,
      members,
    });
    target = {
      url: sandbox.url,
      apiKey: sandbox.apiKey,
      rate: options.rate ?? SANDBOX_RATE,
      ...(options.batchMax === undefined ? {} : { batchMax: options.batchMax }),
    };
  }
  return { target, sandbox, explicit };
}

/**
 * `ferry run <dir>`: mirror the folder into the local drop bucket, run the real migrate state
 * machine through the local runner against the built-in sandbox (persisted under the state dir) or
 * the Twenty given by --twenty-url, print the reconciliation. Exit 1 when the run fails or does not
 * balance.
 */
export async function runCommand(
  dir: string | undefined,
  options: RunOptions,
  global: GlobalOptions,
  resumeRunId?: string,
): Promise<void> {
  checkMappingOptions(options);
  if (options.rate !== undefined) parseRate(options.rate, '--rate');
  const stateDir = resolve(options.stateDir);
  // The local run lock: one process owns the state dir, and a second run of the same folder is refused.
  const lease = acquireStateDir(stateDir, {
    command: resumeRunId === undefined ? 'run' : 'resume',
    ...(dir === undefined ? {} : { folder: dropFolderFor(dir) }),
    ...(resumeRunId === undefined ? {} : { runId: resumeRunId }),
  });
  let sandbox: RunningSandbox | undefined;
  try {
    const started = await startTwentyTarget(options, dir === undefined ? [] : sandboxMembersFor(dir));
    sandbox = started.sandbox;
    await runWithLease(dir, options, global, resumeRunId, lease, started);
  } finally {
    await sandbox?.stop();
    lease.release();
  }
}

async function runWithLease(
  dir: string | undefined,
  options: RunOptions,
  global: GlobalOptions,
  resumeRunId: string | undefined,
  lease: StateDirLease,
  { target, explicit }: Awaited<ReturnType<typeof startTwentyTarget>>,
): Promise<void> {
  const stateDir = resolve(options.stateDir);
  let runId: string | undefined;
  const hint = () => {
    if (runId !== undefined)
      process.stderr.write(
        `\nferry: interrupted; continue with: ferry resume ${runId} --state-dir ${options.stateDir}${explicit ? ' --twenty-url … --api-key …' : ''}\n`,
      );
  };
  process.once('SIGINT', hint);
  try {
    const outcome = await withLocalRuntime(
      {
        stateDir,
        log: cliLog(global),
        twenty: target,
        lease,
        ...(options.tickSeconds === undefined ? {} : { tickBudgetMs: options.tickSeconds * 1000 }),
      },
      async (runtime) => {
        const start = await resumeOrUpload(runtime.deps, dir, options, resumeRunId);
        const { upload } = start;
        runId = start.runId ?? newRunId();
        lease.update({
          runId,
          folder: upload.folder,
          ...(dir === undefined ? {} : { exportDir: resolve(dir) }),
        });
        if (start.resume) process.stderr.write(`ferry: resuming run ${runId}\n`);
        const progress = runProgress(options, runtime.deps, runId, target);
        const mappingKey = start.resume
          ? undefined
          : await uploadOperatorMapping(runtime.deps.drop, upload.folder, options.mapping);
        let execution: LocalExecution;
        try {
          // An interrupted delta (`ferry delta`) resumes on its own machine, with its own saved input.
          const machine =
            start.resume && (await deltaOf(runtime.deps.work, runId)) !== undefined ? 'delta' : 'migrate';
          execution = await runtime.startExecution(
            machine,
            {
              folder: upload.folder,
              options: {
                chunkSize: options.chunkSize,
                rate: target.rate,
                tolerance: options.tolerance ?? 0,
                ...(options.sampleSize === undefined ? {} : { sampleSize: options.sampleSize }),
                ...(options.force === true ? { force: true } : {}),
                ...(target.batchMax === undefined ? {} : { batchMax: target.batchMax }),
                ...mappingInventoryOptions(options.source, mappingKey),
                ...(options.fallbackOwner === undefined ? {} : { fallbackOwnerEmail: options.fallbackOwner }),
              },
            },
            {
              runId,
              resume: start.resume,
              ...(progress === undefined ? {} : { onTransition: progress.onTransition }),
              approver: gated(
                options.waitForApproval && options.yes !== true
                  ? fileApprover(stateDir, { notify: (line) => process.stderr.write(`${line}\n`) })
                  : cliApprover({ yes: options.yes === true }),
                runtime.deps.work,
                options,
              ),
            },
          );
        } finally {
          await progress?.stop();
        }
        const reconciliation = await readReconciliation(runtime.deps.work, execution.runId);
        const summary = (execution.output ?? {}) as MigrateSummary;
        const paths = await exportReports(runtime.deps.work, stateDir, execution.runId, summary);
        if (options.showValues === true && (paths['rejects (csv)'] ?? paths['report (html)']) !== undefined) {
          const revealed = await revealValues(
            runtime.deps,
            execution.runId,
            join(stateDir, 'reports', execution.runId),
            paths,
          );
          process.stderr.write(
            `ferry: --show-values: the local rejects.csv and report.html hold the values of ${count(revealed)} rejected row(s) — patient data, keep them private\n`,
          );
        }
        return { upload, execution, reconciliation, paths, resumed: start.resume };
      },
    );
    const { execution, upload, reconciliation, paths } = outcome;
    if (options.json) {
      printJson({
        runId: execution.runId,
        status: execution.status,
        source: dir ?? upload.folder,
        resumed: outcome.resumed,
        folder: upload.folder,
        stateDir,
        twenty: explicit ? explicit.url : 'built-in sandbox',
        summary: execution.output ?? null,
        reconciliation: reconciliation ?? null,
        paths,
        error: execution.error ?? null,
        states: execution.transitions.filter((t) => t.type === 'StateEntered').map((t) => t.state),
      });
    } else {
      printRun(
        execution,
        dir ?? upload.folder,
        upload.folder,
        explicit ? explicit.url : 'built-in sandbox',
        stateDir,
      );
      if (reconciliation) printReconciliation(reconciliation);
      printPaths(paths);
    }
    const failure = runFailure(execution, reconciliation);
    if (failure !== undefined) throw failure;
  } finally {
    process.off('SIGINT', hint);
  }
}

/**
 * What a finished migrate execution means for `ferry run`: nothing when it reconciled, else the one
 * error the CLI prints. The plan gate and input the pipeline cannot read (a ValidationError: a
 * malformed export, mapping or ferry.json — no retry fixes it) are the operator's to correct, so they
 * exit 2 like any configuration error; a pipeline that failed on the way or does not balance exits 1.
 */
export function runFailure(
  execution: Pick<LocalExecution, 'runId' | 'status' | 'error'>,
  reconciliation: Reconciliation | undefined,
): AppError | undefined {
  const { runId, error } = execution;
  if (execution.status !== 'SUCCEEDED' && error?.name === 'PlanGateError')
    return new ConfigError(`run ${runId} stopped at the plan gate, nothing was loaded: ${error.cause}`);
  if (execution.status !== 'SUCCEEDED' && error?.name === 'ValidationError')
    return new ConfigError(`run ${runId} stopped, the input cannot be used as it is: ${error.cause}`);
  if (execution.status !== 'SUCCEEDED')
    return new PipelineFailedError(
      `run ${runId} failed with ${error?.name ?? 'an error'}: ${error?.cause ?? 'no cause recorded'}`,
    );
  if (reconciliation && !reconciliation.balanced)
    return new PipelineFailedError(
      `run ${runId} does not balance: some source rows are neither loaded, rejected nor skipped (see reconciliation.json)`,
    );
  if (reconciliation && reconciliation.status !== 'succeeded')
    return new PipelineFailedError(
      `run ${runId} failed reconciliation: ${failureReasons(reconciliation).join('; ')}`,
    );
  return undefined;
}

/**
 * What `ferry run` starts: the folder's interrupted run when its files are unchanged (resumed, as
 * `ferry resume` does), a refusal naming the files when they changed, else a new run on a fresh
 * upload. `ferry resume <runId>` continues from the drop bucket's copy, checked against the plan.
 */
async function resumeOrUpload(
  deps: LocalRuntime['deps'],
  dir: string | undefined,
  options: RunOptions,
  resumeRunId: string | undefined,
): Promise<{ upload: { folder: string }; runId?: string; resume: boolean }> {
  const runs = deps.runStore;
  if (resumeRunId !== undefined) {
    const run = await runs.getRun(resumeRunId);
    const reason = resumableReason(run, resumeRunId);
    if (reason !== undefined || run === undefined) throw new ConfigError(reason ?? 'not resumable');
    const planned = await plannedHashes(deps.work, resumeRunId);
    if (planned !== undefined) {
      const current = new Map<string, () => Promise<NodeJS.ReadableStream>>();
      for await (const object of deps.drop.list(run.folder)) {
        current.set(object.key.slice(run.folder.length), () => deps.drop.getStream(object.key));
      }
      const changed = await changedInputs(planned, current);
      if (changed.length > 0) refuseChanged(resumeRunId, changed);
    }
    return { upload: { folder: run.folder }, runId: resumeRunId, resume: true };
  }
  if (dir === undefined) throw new ConfigError('ferry run needs the export folder');
  const root = await assertExportFolder(dir);
  const interrupted = options.fresh === true ? undefined : await interruptedRunOf(runs, dropFolderFor(root));
  if (interrupted !== undefined) {
    const planned = await plannedHashes(deps.work, interrupted.runId);
    if (planned !== undefined) {
      const names: string[] = [];
      for await (const path of filesUnder(root)) names.push(relative(root, path).split(sep).join('/'));
      const changed = await changedInputs(planned, localReaders(root, names));
      if (changed.length > 0) refuseChanged(interrupted.runId, changed);
    }
    return { upload: { folder: interrupted.folder }, runId: interrupted.runId, resume: true };
  }
  return { upload: await uploadExportFolder(deps.drop, dir), resume: false };
}

/** Why a reconciliation failed, in words: problem codes, and which entity fields of which records differ. */
export function failureReasons(reconciliation: Reconciliation): string[] {
  const reasons: string[] = [];
  const problems = reconciliation.problems.length > 0 ? reconciliation.problems : [reconciliation.problem];
  for (const problem of problems) {
    if (problem === 'UNBALANCED') {
      const off = reconciliation.entities.filter((e) => !e.balanced).map((e) => e.entity);
      reasons.push(`UNBALANCED (${off.join(', ')})`);
    } else if (problem === 'READBACK_MISSING') {
      reasons.push(`READBACK_MISSING (${count(reconciliation.missing)} loaded record(s) not in Twenty)`);
    } else if (problem === 'MISMATCHES_OVER_TOLERANCE') {
      const shown = reconciliation.mismatches
        .slice(0, 10)
        .map((m) => `${m.entity}.${m.field} of ${m.recordId}`);
      const more = reconciliation.mismatchCount - shown.length;
      reasons.push(
        `MISMATCHES_OVER_TOLERANCE (${count(reconciliation.mismatchCount)} > ${count(reconciliation.tolerance)}: ${shown.join(', ')}${more > 0 ? ` and ${count(more)} more` : ''})`,
      );
    } else reasons.push('see reconciliation.json');
  }
  return reasons;
}

export async function readReconciliation(
  work: ObjectStore,
  runId: string,
): Promise<Reconciliation | undefined> {
  const saved = await readArtifactIfPresent(work, reconciliationKey(runId), z.unknown());
  if (saved === undefined) return undefined;
  const parsed = ReconciliationSchema.safeParse(saved);
  return parsed.success ? parsed.data : undefined;
}

/**
 * Copies a run's reports out of the embedded S3 server into plain files under
 * `<stateDir>/reports/<runId>/`, so the paths the CLI prints open in any editor or browser.
 */
export async function exportReports(
  work: ObjectStore,
  stateDir: string,
  runId: string,
  summary: MigrateSummary,
): Promise<Record<string, string | undefined>> {
  const wanted: Record<string, string | undefined> = {
    'plan report': planReportKeyFor(runId),
    'sample diff': sampleDiffHtmlKey(runId),
    reconciliation: summary.reconcile?.reconciliationKey,
    'rejects (csv)': summary.reconcile?.rejectsKey,
    'report (html)': summary.reconcile?.reportKey,
    workflows: summary.reconcile?.workflowsKey,
    owners: summary.reconcile ? ownersReportKeyFor(runId) : undefined,
  };
  const dir = join(stateDir, 'reports', runId);
  const paths: Record<string, string | undefined> = {};
  for (const [label, key] of Object.entries(wanted)) {
    if (key === undefined || !(await work.exists(key))) continue;
    paths[label] = await copyReport(work, dir, key);
  }
  return paths;
}

/** Copies one report out of the work bucket into `dir` (created if need be); returns its path. */
async function copyReport(work: ObjectStore, dir: string, key: string): Promise<string> {
  const path = join(dir, basename(key));
  await mkdir(dir, { recursive: true });
  await writeFile(path, await work.get(key));
  return path;
}

function printRun(
  execution: LocalExecution,
  dir: string,
  folder: string,
  twenty: string,
  stateDir: string,
): void {
  print(`Ferry run ${execution.runId}: ${execution.status}`);
  print(`  source     ${dir} → s3://${localBucketNames.drop}/${folder}`);
  print(`  twenty     ${twenty}`);
  if (execution.status !== 'SUCCEEDED') {
    const states = execution.transitions.filter((t) => t.type === 'StateEntered').map((t) => t.state);
    const last = states.filter((s) => s !== 'Failed' && s !== 'FailRun').at(-1) ?? 'start';
    print(`  stopped after ${last}: ${execution.error?.name ?? 'error'}`);
  }
  print(`  state      ${stateDir}  (\`ferry status ${execution.runId}\`)`);
}

const sum = (counts: Readonly<Record<string, number>>): number =>
  Object.values(counts).reduce((a, b) => a + b, 0);

/**
 * The progress display of a local run or delta on stderr (stage, then per-phase counts against the
 * rate), or none with `--json` (stdout then carries one JSON document and stderr stays quiet).
 */
export function runProgress(
  options: Pick<RunOptions, 'json'>,
  deps: Pick<TaskDeps, 'runStore' | 'work'>,
  runId: string,
  target: Pick<LocalTwentyTarget, 'rate' | 'batchMax'>,
): ProgressDisplay | undefined {
  if (options.json === true) return undefined;
  return startProgress({
    runStore: deps.runStore,
    work: deps.work,
    runId,
    rate: target.rate ?? 'cloud',
    batch: target.batchMax ?? 200,
    out: process.stderr,
    tty: process.stderr.isTTY === true,
  });
}

/** One line per exported report (label, local path); reports the run did not write are left out. */
export function printPaths(paths: Readonly<Record<string, string | undefined>>): void {
  for (const [label, path] of Object.entries(paths)) if (path) print(`  ${label.padEnd(15)} ${path}`);
}

/** The per-entity balance table: source rows = created + updated + unchanged + rejected + skipped. */
export function reconciliationTable(reconciliation: Reconciliation): string[] {
  const header = [
    'entity',
    'object',
    'source',
    'created',
    'updated',
    'unchanged',
    'rejected',
    'skipped',
    'ok',
  ];
  const rows = reconciliation.entities.map((e) => [
    e.entity,
    e.object,
    count(e.sourceRows),
    count(e.loaded.created),
    count(e.loaded.updated),
    count(e.loaded.unchanged),
    count(sum(e.rejected)),
    count(sum(e.skipped)),
    e.balanced ? '✓' : '✗',
  ]);
  const t = reconciliation.totals;
  rows.push([
    'total',
    '',
    count(t.sourceRows),
    count(t.created),
    count(t.updated),
    count(t.unchanged),
    count(t.rejected),
    count(t.skipped),
    reconciliation.balanced ? '✓' : '✗',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i < 2 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  return [line(header), ...rows.map(line)];
}

export function printReconciliation(reconciliation: Reconciliation): void {
  print('');
  for (const line of reconciliationTable(reconciliation)) print(`  ${line}`);
  print('');
  const fate = reconciliation.delta?.propagateDeletes
    ? 'deleted where Ferry created them, see the delta line'
    : 'left in Twenty';
  for (const [entity, m] of Object.entries(reconciliation.missingFromExport))
    print(`  not in this export: ${count(m.count)} ${entity} record(s) an earlier run loaded (${fate})`);
  print(
    `  read-back  ${count(reconciliation.verified)} verified, ${count(reconciliation.missing)} missing, ` +
      `${count(reconciliation.mismatchCount)} mismatched field(s) (tolerance ${count(reconciliation.tolerance)}); ` +
      `${count(reconciliation.requests)} requests, ${count(reconciliation.throttled)} throttled`,
  );
}

/** Adds `ferry run` to the program. */
export function registerCommands(program: Command): void {
  program
    .command('run')
    .description(
      'migrate an export folder into Twenty locally (embedded S3 + DynamoDB; built-in sandbox by default)',
    )
    .argument('<dir>', 'folder holding the export files')
    .option('-y, --yes', 'approve the plan without prompting')
    .option('--wait-for-approval', 'wait for `ferry approve <runId>` from another terminal')
    .option('--json', 'print the result as JSON')
    .option('--state-dir <dir>', 'where local state persists (S3 objects, DynamoDB, sandbox)', '.ferry')
    .option(
      '--chunk-size <rows>',
      'rows per NDJSON chunk (1-20000)',
      integerOption('--chunk-size', 1, 20_000),
      5000,
    )
    .option('--twenty-url <url>', 'a real Twenty workspace instead of the built-in sandbox (env TWENTY_URL)')
    .option('--api-key <key>', 'API key for --twenty-url (env TWENTY_API_KEY)')
    .option(
      '--rate <rate>',
      'rate preset (cloud, pro, org, self-hosted) or N/<duration>, e.g. 600/60s (default: cloud with --twenty-url; 1000/1s+60000/60s against the built-in sandbox)',
    )
    .option('--batch-max <n>', BATCH_MAX_HELP, batchMaxOption)
    .option('--accept-plan', 'load even when the plan lists critical fields to confirm (the plan gate)')
    .option(
      '--fresh',
      "start a new run even when this folder's last run was interrupted (default: resume it)",
    )
    .option(
      '--tick-seconds <s>',
      'how long one load tick works before it hands back a continuation (1-840; default 30)',
      integerOption('--tick-seconds', 1, 840),
    )
    .option('--fallback-owner <email>', 'workspace member owning records whose owner matches no member')
    .option('--mapping <file>', 'an edited mapping YAML to use instead of the proposed one')
    .option('--source <system>', `source system: ${SOURCES.join(', ')}`)
    .option(
      '--force',
      'overwrite records edited or deleted in Twenty since Ferry last wrote them (default: report them as conflicts and leave them)',
    )
    .option(
      '--show-values',
      "write the rejected rows' values into the local copies of rejects.csv and report.html (default: masked, never a value)",
    )
    .option(
      '--sample-size <n>',
      'records in the sample loaded, read back and diffed before the full load (0-5000, default 300; 0: no sample gate)',
      integerOption('--sample-size', 0, 5000),
    )
    .option(
      '--tolerance <n>',
      'mismatched fields allowed on read-back before the run fails',
      integerOption('--tolerance', 0, 1_000_000_000),
      0,
    )
    .option('--flavor <v1|v2>', 'built-in sandbox flavor (Twenty generation)', flavorOption)
    .action(async (dir: string, options: RunOptions, command: Command) => {
      await runCommand(dir, options, command.optsWithGlobals<GlobalOptions>());
    });
}
