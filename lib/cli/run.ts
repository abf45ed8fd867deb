import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { ConfigError } from '../../lambdas/core/errors.ts';
import { parseRate } from '../../lambdas/core/rate-limit/rate-spec.ts';
import { type Reconciliation, ReconciliationSchema } from '../../lambdas/core/reconcile/report.ts';
import type { ObjectStore } from '../../lambdas/ports/object-store.ts';
import { cliApprover, fileApprover } from '../local/approvals.ts';
import { localBucketNames } from '../local/embedded-s3.ts';
import {
  type LocalExecution,
  type LocalTwentyTarget,
  SANDBOX_RATE,
  withLocalRuntime,
} from '../local/runtime.ts';
import type { RunningSandbox, SandboxMember } from '../sandbox/index.ts';
import { startSandboxThread } from '../sandbox/thread.ts';
import {
  cliLog,
  count,
  type GlobalOptions,
  integerOption,
  PipelineFailedError,
  print,
  printJson,
} from './common.ts';
import { uploadExportFolder } from './drop-folder.ts';
import {
  checkMappingOptions,
  mappingInventoryOptions,
  SOURCES,
  uploadOperatorMapping,
} from './mapping-options.ts';

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
  readonly tolerance?: number;
}

/** The migrate execution's final output (the Summarize state): keys and counts only. */
interface MigrateSummary {
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
export async function runCommand(dir: string, options: RunOptions, global: GlobalOptions): Promise<void> {
  checkMappingOptions(options);
  if (options.rate !== undefined) parseRate(options.rate, '--rate');
  const stateDir = resolve(options.stateDir);
  const { target, sandbox, explicit } = await startTwentyTarget(options, sandboxMembersFor(dir));
  try {
    const outcome = await withLocalRuntime(
      { stateDir, log: cliLog(global), twenty: target },
      async (runtime) => {
        const upload = await uploadExportFolder(runtime.deps.drop, dir);
        const mappingKey = await uploadOperatorMapping(runtime.deps.drop, upload.folder, options.mapping);
        const execution = await runtime.startExecution(
          'migrate',
          {
            folder: upload.folder,
            options: {
              chunkSize: options.chunkSize,
              rate: target.rate,
              tolerance: options.tolerance ?? 0,
              ...(target.batchMax === undefined ? {} : { batchMax: target.batchMax }),
              ...mappingInventoryOptions(options.source, mappingKey),
              ...(options.fallbackOwner === undefined ? {} : { fallbackOwnerEmail: options.fallbackOwner }),
            },
          },
          {
            approver:
              options.waitForApproval && options.yes !== true
                ? fileApprover(stateDir, { notify: (line) => process.stderr.write(`${line}\n`) })
                : cliApprover({ yes: options.yes === true }),
          },
        );
        const reconciliation = await readReconciliation(runtime.deps.work, execution.runId);
        const summary = (execution.output ?? {}) as MigrateSummary;
        const paths = await exportReports(runtime.deps.work, stateDir, execution.runId, summary);
        return { upload, execution, reconciliation, paths };
      },
    );
    const { execution, upload, reconciliation, paths } = outcome;
    if (options.json) {
      printJson({
        runId: execution.runId,
        status: execution.status,
        source: dir,
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
      printRun(execution, dir, upload.folder, explicit ? explicit.url : 'built-in sandbox', stateDir);
      if (reconciliation) printReconciliation(reconciliation);
      for (const [label, path] of Object.entries(paths)) if (path) print(`  ${label.padEnd(15)} ${path}`);
    }
    if (execution.status !== 'SUCCEEDED') {
      throw new PipelineFailedError(
        `run ${execution.runId} failed with ${execution.error?.name ?? 'an error'}: ${execution.error?.cause ?? 'no cause recorded'}`,
      );
    }
    if (reconciliation && !reconciliation.balanced) {
      throw new PipelineFailedError(
        `run ${execution.runId} does not balance: some source rows are neither loaded, rejected nor skipped (see reconciliation.json)`,
      );
    }
    if (reconciliation && reconciliation.status !== 'succeeded') {
      throw new PipelineFailedError(
        `run ${execution.runId} failed reconciliation: ${failureReasons(reconciliation).join('; ')}`,
      );
    }
  } finally {
    await sandbox?.stop();
  }
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

async function readReconciliation(work: ObjectStore, runId: string): Promise<Reconciliation | undefined> {
  const key = `runs/${runId}/reconciliation.json`;
  if (!(await work.exists(key))) return undefined;
  const parsed = ReconciliationSchema.safeParse(JSON.parse(await work.getText(key)));
  return parsed.success ? parsed.data : undefined;
}

/**
 * Copies a run's reports out of the embedded S3 server into plain files under
 * `<stateDir>/reports/<runId>/`, so the paths the CLI prints open in any editor or browser.
 */
async function exportReports(
  work: ObjectStore,
  stateDir: string,
  runId: string,
  summary: MigrateSummary,
): Promise<Record<string, string | undefined>> {
  const wanted: Record<string, string | undefined> = {
    'plan report': `runs/${runId}/plan.md`,
    reconciliation: summary.reconcile?.reconciliationKey,
    'rejects (csv)': summary.reconcile?.rejectsKey,
    'report (html)': summary.reconcile?.reportKey,
    workflows: summary.reconcile?.workflowsKey,
    owners: summary.reconcile ? `runs/${runId}/owners-report.md` : undefined,
  };
  const dir = join(stateDir, 'reports', runId);
  const paths: Record<string, string | undefined> = {};
  for (const [label, key] of Object.entries(wanted)) {
    if (key === undefined || !(await work.exists(key))) continue;
    const path = join(dir, basename(key));
    await mkdir(dir, { recursive: true });
    await writeFile(path, await work.get(key));
    paths[label] = path;
  }
  return paths;
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

function printReconciliation(reconciliation: Reconciliation): void {
  print('');
  for (const line of reconciliationTable(reconciliation)) print(`  ${line}`);
  print('');
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
    .option('--rate <rate>', 'rate preset (cloud, pro, org, self-hosted) or N/<duration>, e.g. 600/60s')
    .option('--batch-max <n>', 'records per batch request (1-200)', integerOption('--batch-max', 1, 200))
    .option('--fallback-owner <email>', 'workspace member owning records whose owner matches no member')
    .option('--mapping <file>', 'an edited mapping YAML to use instead of the proposed one')
    .option('--source <system>', `source system: ${SOURCES.join(', ')}`)
    .option(
      '--tolerance <n>',
      'mismatched fields allowed on read-back before the run fails',
      integerOption('--tolerance', 0, 1_000_000_000),
      0,
    )
    .option('--flavor <v1|v2>', 'built-in sandbox flavor (Twenty generation)', (v: string) => {
      if (v !== 'v1' && v !== 'v2') throw new ConfigError('--flavor must be v1 or v2');
      return v;
    })
    .action(async (dir: string, options: RunOptions, command: Command) => {
      await runCommand(dir, options, command.optsWithGlobals<GlobalOptions>());
    });
}
