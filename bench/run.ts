/**
 * Runs the benchmarks in turn, each in its own process on the Node 24 from node_modules (the system
 * `node` may be older), so one bench's memory never shows in another's numbers. Each bench's output
 * streams through as it runs; each reports its figures (see `reportMetric` in lib.ts) into a metrics
 * file, and at the end one table lists every figure with its ratio to its baseline or target and
 * whether it meets its goal, and `bench/results.json` records them with the machine, its load
 * average at start and end, the date and the command.
 * Benchmarks print numbers; a non-zero exit here means a bench crashed, not that a goal was missed.
 *
 *   npm run bench                     every bench at full size → bench/results.json
 *   npm run bench -- migrate mapping  only the benches whose file name contains one of the words
 *   npm run bench -- --quick          every bench at a small size (a smoke run) → bench/out/results.quick.json
 *   npm run bench -- --out file.json  write the results elsewhere
 */
import { execFileSync, spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { cpus, loadavg, platform, tmpdir, totalmem } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { METRICS_FILE_ENV, QUICK_ENV } from './lib.ts';
import { assembleResults, type BenchRun, formatTable, type MachineInfo, parseMetricLines } from './report.ts';

const benchDir = import.meta.dirname;
const repo = join(benchDir, '..');
const localNode = join(repo, 'node_modules', 'node', 'bin', 'node');
const node = existsSync(localNode) ? localNode : process.execPath;

/** The command line: words select benches by file name; `--quick` and `--out <file>` are options. */
export function parseBenchArgs(args: readonly string[]): { filters: string[]; quick: boolean; out?: string } {
  const filters: string[] = [];
  let quick = false;
  let out: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? '';
    if (arg === '--quick') quick = true;
    else if (arg === '--out') {
      out = args[i + 1];
      if (out === undefined || out.startsWith('--')) throw new Error('--out needs a file name');
      i++;
    } else if (arg.startsWith('--')) throw new Error(`unknown option ${arg} (known: --quick, --out <file>)`);
    else filters.push(arg);
  }
  return { filters, quick, ...(out === undefined ? {} : { out }) };
}

function runOne(
  name: string,
  quick: boolean,
  metricsFile: string,
): Promise<{ code: number | null; seconds: number }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(node, [join(benchDir, name)], {
      cwd: repo,
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, [METRICS_FILE_ENV]: metricsFile, ...(quick ? { [QUICK_ENV]: '1' } : {}) },
    });
    child.on('error', reject);
    child.on('close', (code, signal) =>
      resolve({ code: code ?? (signal ? 128 : 1), seconds: (Date.now() - started) / 1000 }),
    );
  });
}

function machine(loadAverageStart: number[]): MachineInfo {
  const cpu = cpus();
  return {
    cores: cpu.length,
    cpuModel: cpu[0]?.model.trim() ?? 'unknown',
    memoryGb: Number((totalmem() / 1024 ** 3).toFixed(1)),
    platform: `${platform()} ${process.arch}`,
    node: execFileSync(node, ['--version'], { encoding: 'utf8' }).trim(),
    loadAverageStart,
    loadAverageEnd: loadavg().map((n) => Number(n.toFixed(2))),
  };
}

if (import.meta.main) {
  let args: ReturnType<typeof parseBenchArgs>;
  try {
    args = parseBenchArgs(process.argv.slice(2));
  } catch (error) {
    console.error((error as Error).message);
    process.exit(2);
  }
  const available = readdirSync(benchDir)
    .filter((name) => name.endsWith('.bench.ts'))
    .sort();
  const benches = available.filter(
    (name) => args.filters.length === 0 || args.filters.some((filter) => name.includes(filter)),
  );
  if (benches.length === 0) {
    console.error(`no benchmark matches ${args.filters.join(', ')}; available: ${available.join(', ')}`);
    process.exit(2);
  }
  const date = new Date().toISOString();
  const loadAverageStart = loadavg().map((n) => Number(n.toFixed(2)));
  const metricsDir = mkdtempSync(join(tmpdir(), 'ferry-bench-'));
  const runs: BenchRun[] = [];
  try {
    for (const name of benches) {
      console.log(`\n▶ ${name}${args.quick ? ' (quick)' : ''}`);
      const metricsFile = join(metricsDir, `${name}.ndjson`);
      writeFileSync(metricsFile, '');
      const before = loadavg()[0] ?? 0;
      const run = await runOne(name, args.quick, metricsFile);
      console.log(`  (${name} finished in ${run.seconds.toFixed(1)} s, exit ${run.code})`);
      runs.push({
        name,
        exitCode: run.code,
        seconds: Number(run.seconds.toFixed(1)),
        loadAverageStart: Number(before.toFixed(2)),
        loadAverageEnd: Number((loadavg()[0] ?? 0).toFixed(2)),
        metrics: parseMetricLines(readFileSync(metricsFile, 'utf8')),
      });
    }
  } finally {
    rmSync(metricsDir, { recursive: true, force: true });
  }

  const results = assembleResults({
    date,
    command: ['npm run bench', ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2)] : [])].join(
      ' ',
    ),
    scale: args.quick ? 'quick' : 'full',
    machine: machine(loadAverageStart),
    runs,
  });
  const out = args.out ?? join(benchDir, ...(args.quick ? ['out', 'results.quick.json'] : ['results.json']));
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`\n═════ benchmark summary (${results.scale} scale) ═════`);
  console.log(formatTable(results));
  const shown = relative(process.cwd(), out);
  console.log(`results: ${shown.startsWith('..') || shown === '' ? out : shown}`);
  if (results.summary.crashed.length > 0) {
    console.error(
      `\n${results.summary.crashed.length} benchmark(s) crashed: ${results.summary.crashed.join(', ')}`,
    );
    process.exitCode = 1;
  }
}
