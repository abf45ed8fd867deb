/**
 * The load benchmarks of issue 5. Prints numbers and ratios; asserts nothing (the concurrency
 * e2e test holds the 429 bound).
 *
 * (a) Sustained throughput under a rate limit: a sandbox enforcing R requests per window (batch
 *     cap 60) and loaders whose shared DynamoDB token bucket is set to the same R. Twenty's R is per
 *     minute; a faithful 100/min run would take many minutes to say anything, so the window is
 *     scaled down (default 100 per 5 s = 1,200 requests/min, 12× faster than 100/min). The bucket's
 *     arithmetic is in units of the window, so the ratio achieved/allowed is what carries over.
 * (b) End to end: a generated PbN export (default 20,000 patients, all entities, cached under
 *     bench/out/migrate/) through the full migrate machine on the local runtime into an unlimited
 *     in-process sandbox, as `ferry run <dir> --yes` does it. Prints wall time, records/s and the
 *     time spent in each Task state.
 *
 * (c) Rate-bound end to end: the same export through the same machine into a sandbox whose long
 *     window binds (100 requests per 2 s: Twenty's self-hosted 100/min sped up 30×) with 5 s load
 *     ticks, so LoadChunk hands back continuations throughout. Prints wall time, ticks, and the
 *     minutes of real 100/min Twenty time the run's requests stand for (goal ≥ 15).
 *
 * Run: `npx node bench/migrate.bench.ts [R=100] [windowMs=5000] [seconds=20] [patients=20000]`
 *      (`patients=0` skips parts b and c).
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ReconciliationSchema } from '../lambdas/core/reconcile/report.ts';
import { type TaskEntry, taskRegistry } from '../lambdas/tasks/registry.ts';
import { uploadExportFolder } from '../lib/cli/drop-folder.ts';
import { sandboxMembersFor } from '../lib/cli/run.ts';
import { GENERATOR_VERSION, generateExport } from '../lib/generate/index.ts';
import { autoApprover } from '../lib/local/approvals.ts';
import { startEmbeddedDynamo } from '../lib/local/embedded-dynamodb.ts';
import { SANDBOX_RATE, withLocalRuntime } from '../lib/local/runtime.ts';
import { startSandbox } from '../lib/sandbox/index.ts';
import { startSandboxThread } from '../lib/sandbox/thread.ts';
import { type FleetResult, runLoaderFleet } from '../test/e2e/concurrency/loader-fleet.ts';
import { fmt } from './lib.ts';

const R = Number(process.argv[2] ?? 100);
const WINDOW_MS = Number(process.argv[3] ?? 5_000);
const SECONDS = Number(process.argv[4] ?? 20);
const PATIENTS = Number(process.argv[5] ?? 20_000);
/** Twenty's QUERY_MAX_RECORDS in current code: the batch the loader uses once the workspace accepts it. */
const BATCH_MAX = 200;

/** `RATIO <name> <value> <target>` lines are what bench/run.ts collects into its summary. */
function ratio(name: string, value: number, target: string): void {
  console.log(`RATIO ${name} ${value.toFixed(3)} ${target}`);
}

// ------------------------------------------------------------------ (a) sustained throughput
const requestsPerMinute = (R * 60_000) / WINDOW_MS;
const allowedRecordsPerMinute = requestsPerMinute * BATCH_MAX;
console.log('(a) sustained throughput under a rate limit');
console.log(
  `    sandbox and bucket: ${R} requests per ${WINDOW_MS} ms, batch size used = accepted cap ${BATCH_MAX} → ` +
    `${fmt(requestsPerMinute)} requests/min, R×60 = ${fmt(allowedRecordsPerMinute)} records/min`,
);
console.log(
  `    (a real ${R}/min limit is the same run slowed ${fmt(60_000 / WINDOW_MS, 1)}×: ` +
    `ratios carry over, absolute figures scale by ${fmt(WINDOW_MS / 60_000, 4)})`,
);

/** The machine is shared: the 1-minute load average tells how far the figures are from a quiet one. */
function load(): string {
  return `load average ${loadavg()[0]?.toFixed(2)} on this machine`;
}
console.log(`    (${load()})`);

const dynamo = await startEmbeddedDynamo();
try {
  const rows: Record<string, string | number>[] = [];
  for (const [scenario, loaders, target] of [
    [1, 1, 0.95],
    [2, 4, 0.9],
  ] as const) {
    const sandbox = await startSandbox({
      rateShort: { limit: R, windowMs: WINDOW_MS },
      rateLong: null,
      batchMax: BATCH_MAX,
    });
    try {
      const totalRequests = Math.max(loaders, Math.round((requestsPerMinute * SECONDS) / 60));
      const result: FleetResult = await runLoaderFleet({
        sandbox,
        dynamo,
        rate: { limit: R, windowMs: WINDOW_MS },
        loaders,
        recordsPerLoader: Math.ceil(totalRequests / loaders) * BATCH_MAX,
        batchMax: BATCH_MAX,
        lanes: 2,
        scenario,
      });
      const stats = await sandbox.stats();
      const recordsPerMinute = (result.written / result.elapsedMs) * 60_000;
      const achieved = recordsPerMinute / allowedRecordsPerMinute;
      const share429 = stats.totalRequests === 0 ? 0 : stats.rateLimited / stats.totalRequests;
      rows.push({
        loaders,
        records: result.written,
        failed: result.failed,
        requests: stats.totalRequests,
        '429s': stats.rateLimited,
        '429 %': Number((share429 * 100).toFixed(2)),
        seconds: Number((result.elapsedMs / 1000).toFixed(1)),
        'records/min': Math.round(recordsPerMinute),
        'of R×60': Number(achieved.toFixed(3)),
        target: `≥ ${target}`,
      });
      ratio(`throughput-${loaders}-loader${loaders > 1 ? 's' : ''}`, achieved, `≥${target}`);
      ratio(`429-share-${loaders}-loader${loaders > 1 ? 's' : ''}`, share429, '≤0.010');
    } finally {
      await sandbox.stop();
    }
  }
  console.table(rows);
} finally {
  await dynamo.stop();
}

// ------------------------------------------------------------------ (b) end to end
if (PATIENTS > 0) {
  const exportDir = join(import.meta.dirname, 'out', 'migrate', `pbn-${PATIENTS}-v${GENERATOR_VERSION}`);
  const expectedPath = join(exportDir, 'expected.json');
  if (!existsSync(expectedPath)) {
    const started = performance.now();
    generateExport({
      source: 'pbn',
      patients: PATIENTS,
      seed: 'migrate-bench',
      defects: 0.03,
      outDir: exportDir,
    });
    console.log(`\n(generated ${exportDir} in ${fmt((performance.now() - started) / 1000, 1)} s; cached)`);
  }
  const expected = JSON.parse(readFileSync(expectedPath, 'utf8')) as {
    entities: Record<string, { rows?: number }>;
  };
  /** Wall time per Task state, summed over its invocations (LoadChunk runs once per chunk). */
  const stageMs = new Map<string, { ms: number; calls: number }>();
  const timed: TaskEntry[] = taskRegistry.map((entry) => ({
    ...entry,
    run: async (input, deps) => {
      const started = performance.now();
      try {
        return await entry.run(input, deps);
      } finally {
        const seen = stageMs.get(entry.stateName) ?? { ms: 0, calls: 0 };
        stageMs.set(entry.stateName, { ms: seen.ms + performance.now() - started, calls: seen.calls + 1 });
      }
    },
  }));

  await endToEnd('(b) end to end, unlimited sandbox', null, SANDBOX_RATE, undefined, 300);
  await endToEnd('(c) rate-bound end to end', { limit: 100, windowMs: 2_000 }, '100/2s', 5_000, undefined);

  async function endToEnd(
    label: string,
    window: { limit: number; windowMs: number } | null,
    rate: string,
    tickBudgetMs: number | undefined,
    targetSeconds: number | undefined,
  ): Promise<void> {
    console.log(`\n${label}: PbN export, ${fmt(PATIENTS)} patients, all entities, 3% defects (${load()})`);
    stageMs.clear();
    const stateDir = mkdtempSync(join(tmpdir(), 'ferry-migrate-bench-'));
    // As `ferry run` does: the built-in sandbox on its own thread, like a real Twenty in another process.
    const sandbox = await startSandboxThread({
      dataDir: join(stateDir, 'sandbox'),
      flavor: 'v2',
      rateShort: null,
      rateLong: window,
      members: sandboxMembersFor(exportDir),
    });
    try {
      const started = performance.now();
      const outcome = await withLocalRuntime(
        {
          stateDir,
          tasks: timed,
          twenty: { url: sandbox.url, apiKey: sandbox.apiKey, rate },
          ...(tickBudgetMs === undefined ? {} : { tickBudgetMs }),
        },
        async (runtime) => {
          const upload = await uploadExportFolder(runtime.deps.drop, exportDir);
          const uploadedMs = performance.now() - started;
          const execution = await runtime.startExecution(
            'migrate',
            { folder: upload.folder, options: { chunkSize: 5000, rate } },
            { approver: autoApprover('migrate bench') },
          );
          const counters = (await runtime.deps.runStore.getRun(execution.runId))?.counters ?? {};
          const key = `runs/${execution.runId}/reconciliation.json`;
          const reconciliation = (await runtime.deps.work.exists(key))
            ? ReconciliationSchema.parse(JSON.parse(await runtime.deps.work.getText(key)))
            : undefined;
          return { execution, reconciliation, uploadedMs, counters };
        },
      );
      const wallS = (performance.now() - started) / 1000;
      const { execution, reconciliation } = outcome;
      const sourceRows = Object.values(expected.entities).reduce((sum, e) => sum + (e.rows ?? 0), 0);
      const loaded = reconciliation?.totals.loaded ?? 0;
      const sandboxStats = await sandbox.stats();
      console.log(`    status ${execution.status}${execution.error ? ` (${execution.error.name})` : ''}`);
      console.log(
        `    wall time ${fmt(wallS, 1)} s${targetSeconds ? ` (target ≤ ${targetSeconds} s)` : ''}, of which upload to the drop bucket ${fmt(outcome.uploadedMs / 1000, 1)} s`,
      );
      console.log(
        `    source rows ${fmt(reconciliation?.totals.sourceRows ?? sourceRows)}, loaded ${fmt(loaded)}, ` +
          `rejected ${fmt(reconciliation?.totals.rejected ?? 0)}, skipped ${fmt(reconciliation?.totals.skipped ?? 0)}, ` +
          `balanced ${reconciliation?.balanced ?? 'n/a'}`,
      );
      console.log(
        `    ${fmt(loaded / wallS)} records/s loaded, ${fmt((reconciliation?.totals.sourceRows ?? sourceRows) / wallS)} source rows/s, ` +
          `${fmt(sandboxStats.totalRequests)} Twenty requests (${sandboxStats.rateLimited} 429s)`,
      );
      console.table(
        [...stageMs].map(([state, { ms, calls }]) => ({
          state,
          calls,
          seconds: Number((ms / 1000).toFixed(1)),
          '% of wall': Number(((ms / 1000 / wallS) * 100).toFixed(1)),
        })),
      );
      console.log(
        '    (LoadChunk runs several chunks at once, so its summed time can exceed its share of the wall)',
      );
      const ticks = Object.entries(outcome.counters)
        .filter(([name]) => name.startsWith('phase_') && name.endsWith('_ticks'))
        .map(([name, n]) => `${name.slice('phase_'.length, -'_ticks'.length)} ${n}`);
      console.log(`    load ticks per phase: ${ticks.join(', ')}`);
      if (targetSeconds !== undefined) ratio('e2e-seconds-over-300', wallS / targetSeconds, '≤1');
      if (window !== null) {
        const realMinutes = sandboxStats.totalRequests / 100;
        console.log(
          `    ${fmt(sandboxStats.totalRequests)} requests = ${fmt(realMinutes, 1)} min of a real 100/min Twenty (goal ≥ 15), ` +
            `done in ${fmt(wallS / 60, 1)} min at ${fmt(60_000 / window.windowMs, 0)}× speed`,
        );
        ratio(
          'rate-bound-run-finished',
          execution.status === 'SUCCEEDED' && reconciliation?.balanced ? 1 : 0,
          '=1',
        );
      }
    } finally {
      await sandbox.stop();
      await rm(stateDir, { recursive: true, force: true });
    }
  }
}
