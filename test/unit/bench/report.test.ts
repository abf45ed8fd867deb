import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { METRICS_FILE_ENV, QUICK_ENV, reportMetric, sized } from '../../../bench/lib.ts';
import {
  assembleResults,
  type BenchRun,
  evaluate,
  formatTable,
  type MachineInfo,
  type Metric,
  parseMetricLines,
} from '../../../bench/report.ts';
import { parseBenchArgs } from '../../../bench/run.ts';

const machine: MachineInfo = {
  cores: 2,
  cpuModel: 'Test CPU',
  memoryGb: 7.8,
  platform: 'linux x64',
  node: 'v24.9.0',
  loadAverageStart: [3.5, 2, 1],
  loadAverageEnd: [6.25, 4, 2],
};

const efficiency: Metric = {
  id: 'pipeline-efficiency',
  label: 'pipeline efficiency',
  value: 1_500,
  unit: 'records/s',
  baseline: { label: 'ceiling', value: 4_000 },
  goals: [{ on: 'ratio', op: '>=', target: 0.5 }],
};
const e2e: Metric = {
  id: 'e2e-seconds',
  label: 'end to end',
  value: 150,
  unit: 's',
  goals: [{ on: 'value', op: '<=', target: 300 }],
  detail: '20,000 patients',
};
const rollback: Metric = { id: 'rollback-records-per-s', label: 'rollback', value: 2_400, unit: 'records/s' };

function run(name: string, metrics: Metric[], exitCode: number | null = 0): BenchRun {
  return { name, exitCode, seconds: 12.5, loadAverageStart: 3, loadAverageEnd: 4, metrics };
}

describe('bench report', () => {
  it('reads a ratio against the baseline and judges a ratio goal by it', () => {
    const evaluated = evaluate('migrate.bench.ts', efficiency);
    expect(evaluated.ratio).toBeCloseTo(0.375);
    expect(evaluated.pass).toBe(false);
    expect(evaluate('migrate.bench.ts', { ...efficiency, value: 2_000 }).pass).toBe(true);
  });

  it('reads a ratio against the value goal when there is no baseline, and judges the value', () => {
    const evaluated = evaluate('migrate.bench.ts', e2e);
    expect(evaluated.ratio).toBeCloseTo(0.5);
    expect(evaluated.pass).toBe(true);
    expect(evaluate('migrate.bench.ts', { ...e2e, value: 301 }).pass).toBe(false);
  });

  it('needs every goal to hold, and gives no verdict without a goal', () => {
    const transform: Metric = {
      id: 'transform-rows-per-s',
      label: 'transform',
      value: 60_000,
      unit: 'rows/s',
      baseline: { label: 'csv-parse', value: 300_000 },
      goals: [
        { on: 'value', op: '>=', target: 50_000 },
        { on: 'ratio', op: '>=', target: 0.25 },
      ],
    };
    expect(evaluate('parse-map.bench.ts', transform)).toMatchObject({ ratio: 0.2, pass: false });
    expect(evaluate('parse-map.bench.ts', { ...transform, value: 80_000 }).pass).toBe(true);
    expect(evaluate('migrate.bench.ts', rollback)).toMatchObject({ ratio: null, pass: null });
    const exact: Metric = {
      id: 'ok',
      label: 'ok',
      value: 0,
      unit: '',
      goals: [{ on: 'value', op: '=', target: 1 }],
    };
    expect(evaluate('x', exact).pass).toBe(false);
    expect(evaluate('x', { ...exact, value: 1 }).pass).toBe(true);
  });

  it('fails a ratio goal on a metric that has no baseline to take the ratio from', () => {
    const orphan: Metric = {
      id: 'orphan',
      label: 'o',
      value: 9,
      unit: '',
      goals: [{ on: 'ratio', op: '>=', target: 0.5 }],
    };
    expect(evaluate('x', orphan).pass).toBe(false);
  });

  it('assembles results.json from the runs in order, with the summary and the crashed benches', () => {
    const results = assembleResults({
      date: '2026-12-07T10:00:00.000Z',
      command: 'npm run bench -- --quick',
      scale: 'quick',
      machine,
      runs: [run('migrate.bench.ts', [efficiency, e2e, rollback]), run('segment.bench.ts', [], 1)],
    });
    expect(results.metrics.map((m) => [m.bench, m.id, m.pass])).toEqual([
      ['migrate.bench.ts', 'pipeline-efficiency', false],
      ['migrate.bench.ts', 'e2e-seconds', true],
      ['migrate.bench.ts', 'rollback-records-per-s', null],
    ]);
    expect(results.summary).toEqual({ metrics: 3, passed: 1, failed: 1, crashed: ['segment.bench.ts'] });
    expect(results.benches).toEqual([
      { name: 'migrate.bench.ts', exitCode: 0, seconds: 12.5, loadAverageStart: 3, loadAverageEnd: 4 },
      { name: 'segment.bench.ts', exitCode: 1, seconds: 12.5, loadAverageStart: 3, loadAverageEnd: 4 },
    ]);
    expect(JSON.parse(JSON.stringify(results))).toMatchObject({ scale: 'quick', machine: { cores: 2 } });
  });

  it('prints one table: a row per metric with its value, baseline, ratio, goal and verdict, then the machine', () => {
    const table = formatTable(
      assembleResults({
        date: '2026-12-07T10:00:00.000Z',
        command: 'npm run bench',
        scale: 'full',
        machine,
        runs: [run('migrate.bench.ts', [efficiency, e2e, rollback])],
      }),
    );
    const lines = table.split('\n');
    const row = (id: string) => lines.find((line) => line.includes(id)) ?? '';
    expect(row('pipeline efficiency')).toMatch(/1,500 records\/s.*ceiling 4,000.*0\.375.*ratio ≥ 0\.5.*FAIL/);
    expect(row('end to end')).toMatch(/150 s.*goal.*0\.5.*≤ 300.*pass/);
    expect(row('rollback')).toMatch(/2,400 records\/s.*—.*—.*—/);
    expect(table).toContain('e2e-seconds: 20,000 patients');
    expect(table).toContain('3 metrics: 1 pass, 1 fail, 1 without a goal');
    expect(table).toContain('load average 3.50 2.00 1.00 at start, 6.25 4.00 2.00 at end');
  });

  it('refuses a malformed metric line (a bench bug) instead of reporting a wrong figure', () => {
    expect(parseMetricLines(`${JSON.stringify(e2e)}\n\n`)).toEqual([e2e]);
    expect(() => parseMetricLines(JSON.stringify({ ...e2e, value: 'fast' }))).toThrow(/finite value/);
    expect(() => parseMetricLines(JSON.stringify({ ...e2e, id: 'Bad Id' }))).toThrow(/kebab-case/);
    expect(() =>
      parseMetricLines(JSON.stringify({ ...e2e, goals: [{ on: 'value', op: '>', target: 1 }] })),
    ).toThrow(/malformed goal/);
  });
});

describe('bench plumbing', () => {
  const saved = { file: process.env[METRICS_FILE_ENV], quick: process.env[QUICK_ENV] };
  const dirs: string[] = [];
  afterEach(() => {
    for (const [key, value] of [
      [METRICS_FILE_ENV, saved.file],
      [QUICK_ENV, saved.quick],
    ] as const) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('a metric a bench reports lands in the metrics file run.ts reads back', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ferry-bench-test-'));
    dirs.push(dir);
    const file = join(dir, 'metrics.ndjson');
    process.env[METRICS_FILE_ENV] = file;
    reportMetric(efficiency);
    reportMetric(rollback);
    expect(parseMetricLines(readFileSync(file, 'utf8'))).toEqual([efficiency, rollback]);
  });

  it('sizes a bench from its argument, else full or quick', () => {
    delete process.env[QUICK_ENV];
    expect(sized(undefined, 1_000_000, 100_000)).toBe(1_000_000);
    process.env[QUICK_ENV] = '1';
    expect(sized(undefined, 1_000_000, 100_000)).toBe(100_000);
    expect(sized('5000', 1_000_000, 100_000)).toBe(5_000);
  });

  it('parses the command line: bench name filters, --quick, --out, and refuses unknown options', () => {
    expect(parseBenchArgs(['migrate', 'mapping'])).toEqual({ filters: ['migrate', 'mapping'], quick: false });
    expect(parseBenchArgs(['--quick', 'seg', '--out', '/tmp/r.json'])).toEqual({
      filters: ['seg'],
      quick: true,
      out: '/tmp/r.json',
    });
    expect(() => parseBenchArgs(['--out'])).toThrow(/--out needs a file name/);
    expect(() => parseBenchArgs(['--fast'])).toThrow(/unknown option --fast/);
  });
});
