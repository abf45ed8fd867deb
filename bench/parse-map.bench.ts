/**
 * Parse + map + validate throughput on a generated Practice by Numbers export with 200,000
 * patients (every entity), against a bare csv-parse pass over the same files. Prints rows/s and
 * the ratio; it asserts nothing (targets: ≥ 50,000 rows/s, ≤ 4× the bare parse).
 *
 *   npx node bench/parse-map.bench.ts [patients]   (`--quick` under bench/run.ts: 20,000 patients)
 */
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse';
import { profileEncoding } from '../lambdas/core/csv/encoding.ts';
import { readCsv } from '../lambdas/core/csv/reader.ts';
import { compileEntity } from '../lambdas/core/mapping/map-record.ts';
import { parseMappingSpec } from '../lambdas/core/mapping/spec.ts';
import { pbnProfile } from '../lambdas/core/sources/index.ts';
import { createEntityValidator } from '../lambdas/core/validation/validate-entity.ts';
import { type ExpectedExport, generateExport } from '../lib/generate/index.ts';
import { reportMetric, sized } from './lib.ts';

const patients = sized(process.argv[2], 200_000, 20_000);
const seed = 'bench';
const dir = join('bench', 'out', `pbn-${patients}`);

function ensureExport(): ExpectedExport {
  const marker = join(dir, 'expected.json');
  if (existsSync(marker)) {
    const e = JSON.parse(readFileSync(marker, 'utf8')) as ExpectedExport;
    if (e.patients === patients && e.seed === seed) return e;
  }
  const t = performance.now();
  const e = generateExport({ source: 'pbn', patients, seed, defects: 0.01, outDir: dir });
  process.stdout.write(`generated ${dir} in ${((performance.now() - t) / 1000).toFixed(1)}s\n`);
  return e;
}

async function bareParse(files: string[]): Promise<number> {
  let rows = 0;
  for (const f of files) {
    await new Promise<void>((resolve, reject) => {
      const parser = createReadStream(f).pipe(
        parse({ bom: true, relax_column_count: true, relax_quotes: true, from_line: 2 }),
      );
      parser.on('data', () => {
        rows++;
      });
      parser.on('end', resolve);
      parser.on('error', reject);
    });
  }
  return rows;
}

async function parseMapValidate(expected: ExpectedExport): Promise<{ rows: number; accepted: number }> {
  const spec = parseMappingSpec(pbnProfile.mapping, 'pbn');
  const ctx = { options: spec.options, now: Date.UTC(2025, 5, 1), phi: spec.phi };
  const ids = new Map<string, Set<string>>();
  const has = (entity: string, id: string): boolean => ids.get(entity)?.has(id) ?? false;
  let rows = 0;
  let accepted = 0;
  for (const [entity, e] of Object.entries(expected.entities)) {
    const entitySpec = spec.entities[entity];
    if (entitySpec === undefined) continue;
    const compiled = compileEntity(entity, entitySpec, ctx);
    const validator = createEntityValidator({ file: e.file, entity: compiled, has });
    const seen = new Set<string>();
    ids.set(entity, seen);
    const path = join(dir, e.file);
    const { encoding } = await profileEncoding(createReadStream(path));
    let header: readonly string[] = [];
    let idIndex = -1;
    const result = await readCsv(
      createReadStream(path),
      { file: e.file, encoding },
      {
        header(columns) {
          header = columns;
          idIndex = columns.indexOf(entitySpec.idColumn);
        },
        row(view) {
          const cells: Record<string, string> = {};
          for (let i = 0; i < header.length; i++) cells[header[i] as string] = view.cell(i);
          seen.add((view.cell(idIndex) ?? '').trim());
          if (validator.check({ line: view.line, cells }).ok) accepted++;
        },
      },
    );
    rows += result.rows;
  }
  return { rows, accepted };
}

const expected = ensureExport();
const files = Object.values(expected.entities).map((e) => join(dir, e.file));
const totalRows = Object.values(expected.entities).reduce((s, e) => s + e.rows, 0);

/**
 * CPU seconds of this process since `from` (user + system, every thread: GC helpers and file reads
 * included, so it can exceed wall time). Printed to tell a loaded machine from a slow pass.
 */
const cpuSeconds = (from: NodeJS.CpuUsage): number => {
  const used = process.cpuUsage(from);
  return (used.user + used.system) / 1e6;
};

let t = performance.now();
let cpu = process.cpuUsage();
const bareRows = await bareParse(files);
const bareMs = performance.now() - t;
const bareCpu = cpuSeconds(cpu);

t = performance.now();
cpu = process.cpuUsage();
const full = await parseMapValidate(expected);
const fullMs = performance.now() - t;
const fullCpu = cpuSeconds(cpu);

const rate = (n: number, ms: number): string =>
  `${Math.round(n / (ms / 1000)).toLocaleString('en-US')} rows/s`;
process.stdout.write(
  [
    `PbN export: ${patients.toLocaleString('en-US')} patients, ${totalRows.toLocaleString('en-US')} data rows in ${files.length} files`,
    `bare csv-parse:          ${(bareMs / 1000).toFixed(2)}s  ${rate(bareRows, bareMs)}  (${bareRows.toLocaleString('en-US')} records)`,
    `parse + map + validate:  ${(fullMs / 1000).toFixed(2)}s  ${rate(full.rows, fullMs)}  (${full.accepted.toLocaleString('en-US')} accepted)`,
    `ratio: ${(fullMs / bareMs).toFixed(2)}× the bare parse (target ≤ 4×; throughput target ≥ 50,000 rows/s)`,
    `cpu: bare ${bareCpu.toFixed(2)}s, parse + map + validate ${fullCpu.toFixed(2)}s = ${Math.round(full.rows / fullCpu).toLocaleString('en-US')} rows per CPU-second (load average ${loadavg()[0]?.toFixed(2)})`,
    '',
  ].join('\n'),
);
// Rows/s against the bare parse's rows/s: "at most 4× the bare parse time" is a ratio ≥ 0.25.
reportMetric({
  id: 'transform-rows-per-s',
  label: 'transform (parse + map + validate) rows/s vs a bare csv-parse pass',
  value: Math.round(full.rows / (fullMs / 1000)),
  unit: 'rows/s',
  baseline: { label: 'csv-parse', value: Math.round(bareRows / (bareMs / 1000)) },
  goals: [
    { on: 'value', op: '>=', target: 50_000 },
    { on: 'ratio', op: '>=', target: 0.25 },
  ],
  detail: `${patients.toLocaleString('en-US')} patients, ${full.rows.toLocaleString('en-US')} rows in ${files.length} files, wall time (load average ${loadavg()[0]?.toFixed(2)})`,
});
// The same per CPU second of this process: what one core does, whatever else the machine runs.
reportMetric({
  id: 'transform-rows-per-cpu-s',
  label: 'transform rows per CPU second vs csv-parse per CPU second',
  value: Math.round(full.rows / fullCpu),
  unit: 'rows/s',
  baseline: { label: 'csv-parse', value: Math.round(bareRows / bareCpu) },
  goals: [
    { on: 'value', op: '>=', target: 50_000 },
    { on: 'ratio', op: '>=', target: 0.25 },
  ],
  detail: `CPU ${fullCpu.toFixed(2)} s vs bare ${bareCpu.toFixed(2)} s (user + system, GC threads included)`,
});
