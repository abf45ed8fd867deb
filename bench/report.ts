/**
 * The benchmark report: what a bench measured (a {@link Metric}), how it compares with its goal,
 * and the one table and `bench/results.json` that `npm run bench` assembles from every bench it ran.
 * Pure functions only — the timing happens in the benches, the I/O in run.ts — so the assembly is
 * unit-tested without running a bench.
 */

/** A goal a metric is judged against: on its value, or on its ratio to its baseline. */
export interface Goal {
  readonly on: 'value' | 'ratio';
  readonly op: '>=' | '<=' | '=';
  readonly target: number;
}

/** One figure a bench measured, as it writes it to the metrics file. */
export interface Metric {
  /** Stable identifier (kebab-case), the key a reader of results.json looks for. */
  readonly id: string;
  /** What was measured, for the table. */
  readonly label: string;
  readonly value: number;
  readonly unit: string;
  /** What the value is read against (the ratio is value ÷ baseline), measured in the same run or fixed. */
  readonly baseline?: { readonly label: string; readonly value: number };
  /** Goals the metric must meet; none = reported for information (pass is null). */
  readonly goals?: readonly Goal[];
  /** Extra context printed under the table (sizes, CPU time, counts); never a record's value. */
  readonly detail?: string;
}

/** A metric with its ratio and verdict. */
export interface EvaluatedMetric extends Metric {
  readonly bench: string;
  /** value ÷ baseline, or value ÷ the value goal's target when there is no baseline; null when neither. */
  readonly ratio: number | null;
  /** Every goal held (true), one did not (false), no goal (null). */
  readonly pass: boolean | null;
}

/** The machine a run measured on, and how busy it was. */
export interface MachineInfo {
  readonly cores: number;
  readonly cpuModel: string;
  readonly memoryGb: number;
  readonly platform: string;
  readonly node: string;
  /** 1-, 5- and 15-minute load averages when `npm run bench` started and when it ended. */
  readonly loadAverageStart: readonly number[];
  readonly loadAverageEnd: readonly number[];
}

/** One bench process: how it ended and how long it took. */
export interface BenchRun {
  readonly name: string;
  readonly exitCode: number | null;
  readonly seconds: number;
  readonly loadAverageStart: number;
  readonly loadAverageEnd: number;
  readonly metrics: readonly Metric[];
}

/** The content of `bench/results.json`. */
export interface BenchResults {
  readonly date: string;
  readonly command: string;
  readonly scale: 'full' | 'quick';
  readonly machine: MachineInfo;
  readonly benches: ReadonlyArray<Omit<BenchRun, 'metrics'>>;
  readonly metrics: readonly EvaluatedMetric[];
  readonly summary: {
    readonly metrics: number;
    readonly passed: number;
    readonly failed: number;
    readonly crashed: string[];
  };
}

const OPS = new Set(['>=', '<=', '=']);

function isGoal(value: unknown): value is Goal {
  if (typeof value !== 'object' || value === null) return false;
  const goal = value as Record<string, unknown>;
  return (
    (goal.on === 'value' || goal.on === 'ratio') &&
    typeof goal.op === 'string' &&
    OPS.has(goal.op) &&
    typeof goal.target === 'number' &&
    Number.isFinite(goal.target)
  );
}

/** Checks one decoded metric, naming what is wrong (a bench bug, never a slow run). */
export function parseMetric(value: unknown): Metric {
  if (typeof value !== 'object' || value === null) throw new Error('a metric must be an object');
  const m = value as Record<string, unknown>;
  if (typeof m.id !== 'string' || !/^[a-z0-9][a-z0-9-]*$/.test(m.id))
    throw new Error('a metric needs a kebab-case id');
  if (typeof m.label !== 'string' || m.label === '') throw new Error(`metric ${m.id} needs a label`);
  if (typeof m.value !== 'number' || !Number.isFinite(m.value))
    throw new Error(`metric ${m.id} needs a finite value`);
  if (typeof m.unit !== 'string') throw new Error(`metric ${m.id} needs a unit`);
  const baseline = m.baseline as { label?: unknown; value?: unknown } | undefined;
  if (
    baseline !== undefined &&
    (typeof baseline.label !== 'string' ||
      typeof baseline.value !== 'number' ||
      !Number.isFinite(baseline.value))
  )
    throw new Error(`metric ${m.id} has a malformed baseline`);
  if (m.goals !== undefined && (!Array.isArray(m.goals) || !m.goals.every(isGoal)))
    throw new Error(`metric ${m.id} has a malformed goal`);
  if (m.detail !== undefined && typeof m.detail !== 'string')
    throw new Error(`metric ${m.id} has a non-text detail`);
  return {
    id: m.id,
    label: m.label,
    value: m.value,
    unit: m.unit,
    ...(baseline ? { baseline: { label: baseline.label as string, value: baseline.value as number } } : {}),
    ...(m.goals ? { goals: m.goals as Goal[] } : {}),
    ...(m.detail ? { detail: m.detail } : {}),
  };
}

/** The metrics file a bench wrote: one JSON metric per line (blank lines ignored). */
export function parseMetricLines(text: string): Metric[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => parseMetric(JSON.parse(line)));
}

/** The ratio a metric is read by: against its baseline, else against its value goal's target. */
export function ratioOf(metric: Metric): number | null {
  if (metric.baseline) return metric.baseline.value === 0 ? null : metric.value / metric.baseline.value;
  const goal = metric.goals?.find((g) => g.on === 'value');
  return goal && goal.target !== 0 ? metric.value / goal.target : null;
}

/** Tolerance of an `=` goal, so 1.0000000001 still equals 1. */
const EPSILON = 1e-9;

function holds(actual: number, goal: Goal): boolean {
  if (goal.op === '>=') return actual >= goal.target - EPSILON;
  if (goal.op === '<=') return actual <= goal.target + EPSILON;
  return Math.abs(actual - goal.target) <= EPSILON;
}

/** The metric's ratio and whether every goal holds; a ratio goal without a ratio fails. */
export function evaluate(bench: string, metric: Metric): EvaluatedMetric {
  const ratio = ratioOf(metric);
  const goals = metric.goals ?? [];
  const pass =
    goals.length === 0
      ? null
      : goals.every((goal) => {
          const actual = goal.on === 'value' ? metric.value : metric.baseline ? ratio : null;
          return actual !== null && holds(actual, goal);
        });
  return { ...metric, bench, ratio, pass };
}

/** Everything `bench/results.json` holds, from the benches that ran in order. */
export function assembleResults(input: {
  readonly date: string;
  readonly command: string;
  readonly scale: 'full' | 'quick';
  readonly machine: MachineInfo;
  readonly runs: readonly BenchRun[];
}): BenchResults {
  const metrics = input.runs.flatMap((run) => run.metrics.map((metric) => evaluate(run.name, metric)));
  return {
    date: input.date,
    command: input.command,
    scale: input.scale,
    machine: input.machine,
    benches: input.runs.map(({ metrics: _, ...run }) => run),
    metrics,
    summary: {
      metrics: metrics.length,
      passed: metrics.filter((m) => m.pass === true).length,
      failed: metrics.filter((m) => m.pass === false).length,
      crashed: input.runs.filter((run) => run.exitCode !== 0).map((run) => run.name),
    },
  };
}

/** A number as the table shows it: thousands separated, at most 3 significant decimals below 10. */
export function formatNumber(value: number): string {
  const abs = Math.abs(value);
  const digits = abs >= 1000 ? 0 : abs >= 100 ? 1 : abs >= 10 ? 2 : 3;
  return value.toLocaleString('en-US', { maximumFractionDigits: digits });
}

function goalText(metric: Metric): string {
  const goals = metric.goals ?? [];
  if (goals.length === 0) return '—';
  return goals
    .map(
      (g) =>
        `${g.on === 'ratio' ? 'ratio ' : ''}${g.op === '=' ? '=' : g.op === '>=' ? '≥' : '≤'} ${formatNumber(g.target)}`,
    )
    .join(', ');
}

function verdict(pass: boolean | null): string {
  return pass === null ? '—' : pass ? 'pass' : 'FAIL';
}

/**
 * The one table `npm run bench` prints: a row per metric (bench, what, value with its unit, what
 * the ratio is against, the ratio, the goal, the verdict), then the details and the crashed benches.
 */
export function formatTable(results: BenchResults): string {
  const header = ['bench', 'metric', 'value', 'against', 'ratio', 'goal', 'verdict'];
  const rows = results.metrics.map((m) => [
    m.bench.replace(/\.bench\.ts$/, ''),
    m.label,
    `${formatNumber(m.value)} ${m.unit}`.trim(),
    m.baseline
      ? `${m.baseline.label} ${formatNumber(m.baseline.value)}`
      : m.goals?.some((g) => g.on === 'value')
        ? 'goal'
        : '—',
    m.ratio === null ? '—' : formatNumber(m.ratio),
    goalText(m),
    verdict(m.pass),
  ]);
  const widths = header.map((title, i) =>
    Math.max(title.length, ...rows.map((row) => (row[i] ?? '').length)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (i === 2 || i === 4 ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0)))
      .join(' │ ');
  const out = [line(header), widths.map((w) => '─'.repeat(w)).join('─┼─'), ...rows.map(line)];
  const details = results.metrics.filter((m) => m.detail);
  if (details.length > 0) {
    out.push('', 'details:');
    for (const m of details) out.push(`  ${m.id}: ${m.detail}`);
  }
  const { passed, failed, crashed } = results.summary;
  out.push(
    '',
    `${results.metrics.length} metrics: ${passed} pass, ${failed} fail, ${results.metrics.length - passed - failed} without a goal` +
      (crashed.length > 0 ? `; crashed: ${crashed.join(', ')}` : ''),
    `machine: ${results.machine.cores} cores (${results.machine.cpuModel}), ${formatNumber(results.machine.memoryGb)} GB, ` +
      `node ${results.machine.node}; load average ${results.machine.loadAverageStart.map((n) => n.toFixed(2)).join(' ')} at start, ` +
      `${results.machine.loadAverageEnd.map((n) => n.toFixed(2)).join(' ')} at end`,
  );
  return out.join('\n');
}
