/**
 * Segment at scale: generates a synthetic 1,000,000-row, 12-column export on disk, runs Inventory
 * and Segment against a file-system ObjectStore, and prints rows/s, peak RSS (target < 400 MB) and
 * the ratio to a bare csv-parse pass over the same file. Prints numbers; asserts nothing.
 * Run: `npx node bench/segment.bench.ts [rows] [chunkSize]` (`--quick` under bench/run.ts: 100,000 rows).
 */
import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'csv-parse';
import { readCsv } from '../lambdas/core/csv/reader.ts';
import { MemoryLedger } from '../lambdas/core/ledger/memory-ledger.ts';
import { MemoryRunStore } from '../lambdas/core/ledger/memory-run-store.ts';
import { systemClock } from '../lambdas/ports/clock.ts';
import { silentLog } from '../lambdas/ports/log.ts';
import { NO_TWENTY_TARGET } from '../lambdas/tasks/deps.ts';
import { inventory } from '../lambdas/tasks/inventory/inventory.ts';
import { segment } from '../lambdas/tasks/segment/segment.ts';
import { FsObjectStore, fmt, generatePatientsCsv, measure, reportMetric, sized } from './lib.ts';

const ROWS = sized(process.argv[2], 1_000_000, 100_000);
/** The memory goal is stated for a million rows; a smaller run reports its figure without it. */
const RSS_GOAL_ROWS = 1_000_000;
const CHUNK_SIZE = Number(process.argv[3] ?? 5_000);
const RSS_TARGET_MB = 400;
const out = join(import.meta.dirname, 'out', 'segment');
const dropRoot = join(out, 'drop-bucket');
const workRoot = join(out, 'work-bucket');
const key = 'drop/bench/patients.csv';
const file = join(dropRoot, ...key.split('/'));

await rm(out, { recursive: true, force: true });
const generated = await measure(() => generatePatientsCsv(file, ROWS));
console.log(
  `segment bench: ${fmt(ROWS)} rows, ${fmt(generated.result / 1024 / 1024, 1)} MB generated in ${fmt(generated.ms / 1000, 1)} s`,
);

const deps = {
  drop: new FsObjectStore(dropRoot, 'drop'),
  work: new FsObjectStore(workRoot, 'work'),
  clock: systemClock,
  log: silentLog,
  runStore: new MemoryRunStore(),
  ledger: new MemoryLedger(),
  twenty: NO_TWENTY_TARGET,
};
const runId = 'bench-run';
const planned = await measure(() => inventory({ runId, folder: 'drop/bench/' }, deps));
const segmented = await measure(() =>
  segment({ runId, planKey: planned.result.planKey, chunkSize: CHUNK_SIZE }, deps),
);
const maxRssAfterSegmentMb = process.resourceUsage().maxRSS / 1024;

const bareCsvParse = await measure(
  () =>
    new Promise<number>((resolve, reject) => {
      let records = 0;
      const parser = parse({ bom: true });
      parser.on('data', () => {
        records++;
      });
      parser.on('end', () => resolve(records - 1));
      parser.on('error', reject);
      createReadStream(file, { highWaterMark: 64 * 1024 })
        .on('error', reject)
        .pipe(parser);
    }),
);
const readerOnly = await measure(async () => {
  let cells = 0;
  await readCsv(
    createReadStream(file, { highWaterMark: 64 * 1024 }),
    { file: 'patients.csv', encoding: 'utf-8', delimiter: ',' },
    {
      row: (row) => {
        cells += row.cells().length;
      },
    },
  );
  return cells;
});

const rowsPerSecond = (rows: number, ms: number): number => rows / (ms / 1000);
const segRate = rowsPerSecond(segmented.result.rows + segmented.result.rejects, segmented.ms);
const parseRate = rowsPerSecond(bareCsvParse.result, bareCsvParse.ms);
console.log(
  `  inventory : ${fmt(planned.ms / 1000, 2)} s wall, ${fmt(planned.cpuMs / 1000, 2)} s CPU, ${fmt(rowsPerSecond(planned.result.rows, planned.ms))} rows/s (2 streaming passes, sha256, type sampling), peak RSS ${fmt(planned.peakRssMb)} MB`,
);
console.log(
  `  segment   : ${fmt(segmented.ms / 1000, 2)} s wall, ${fmt(segmented.cpuMs / 1000, 2)} s CPU, ${fmt(segRate)} rows/s (${fmt(rowsPerSecond(ROWS, segmented.cpuMs))} rows per CPU-s), ${fmt(segmented.result.chunks)} chunks of ≤ ${fmt(CHUNK_SIZE)}, ${fmt(segmented.result.rejects)} rejects, peak RSS ${fmt(segmented.peakRssMb)} MB (sampled)`,
);
console.log(
  `  csv-parse : ${fmt(bareCsvParse.ms / 1000, 2)} s wall, ${fmt(bareCsvParse.cpuMs / 1000, 2)} s CPU, ${fmt(parseRate)} rows/s (bare parse, records counted only)`,
);
console.log(
  `  readCsv   : ${fmt(readerOnly.ms / 1000, 2)} s wall, ${fmt(readerOnly.cpuMs / 1000, 2)} s CPU, ${fmt(rowsPerSecond(ROWS, readerOnly.ms))} rows/s (Ferry's reader, every cell decoded, no writes)`,
);
console.log(
  `  ratio     : segment takes ${fmt(segmented.ms / bareCsvParse.ms, 2)}× the bare csv-parse time (CPU ${fmt(segmented.cpuMs / bareCsvParse.cpuMs, 2)}×); reader alone ${fmt(readerOnly.cpuMs / bareCsvParse.cpuMs, 2)}× (CPU)`,
);
console.log(
  `  memory    : process max RSS through generate+inventory+segment ${fmt(maxRssAfterSegmentMb)} MB — ${maxRssAfterSegmentMb < RSS_TARGET_MB ? 'under' : 'OVER'} the ${RSS_TARGET_MB} MB target`,
);
if (
  segmented.result.rows + segmented.result.rejects !== planned.result.rows ||
  bareCsvParse.result !== ROWS
) {
  console.log(
    `  WARNING   : row counts disagree (segment ${segmented.result.rows}+${segmented.result.rejects}, inventory ${planned.result.rows}, csv-parse ${bareCsvParse.result})`,
  );
}
reportMetric({
  id: 'segment-peak-rss',
  label: `peak RSS segmenting ${fmt(ROWS)} rows (process max through generate, Inventory, Segment)`,
  value: Math.round(maxRssAfterSegmentMb),
  unit: 'MB',
  ...(ROWS >= RSS_GOAL_ROWS
    ? { goals: [{ on: 'value' as const, op: '<=' as const, target: RSS_TARGET_MB }] }
    : {}),
  detail: `Segment alone sampled at ${fmt(segmented.peakRssMb)} MB; ${fmt(segmented.result.chunks)} chunks of ≤ ${fmt(CHUNK_SIZE)} rows`,
});
reportMetric({
  id: 'segment-rows-per-s',
  label: 'Segment rows/s vs a bare csv-parse pass over the same file',
  value: Math.round(segRate),
  unit: 'rows/s',
  baseline: { label: 'csv-parse', value: Math.round(parseRate) },
  detail: `CPU: Segment ${fmt(segmented.cpuMs / 1000, 2)} s, csv-parse ${fmt(bareCsvParse.cpuMs / 1000, 2)} s (${fmt(segmented.cpuMs / bareCsvParse.cpuMs, 2)}×)`,
});
