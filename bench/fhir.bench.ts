/**
 * A FHIR bulk export at scale: generates a synthetic export (`ferry generate --source fhir`) of N
 * patients on disk, runs Inventory and Segment against a file-system ObjectStore, and prints
 * lines/s, peak RSS (target < 400 MB: one line in memory at a time) and the ratio to a bare
 * line-split + JSON.parse pass over the same NDJSON. Prints numbers; asserts nothing.
 * Run: `npx node bench/fhir.bench.ts [patients] [chunkSize]` (or `npm run bench -- fhir`).
 */
import { createReadStream, readdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { MemoryLedger } from '../lambdas/core/ledger/memory-ledger.ts';
import { MemoryRunStore } from '../lambdas/core/ledger/memory-run-store.ts';
import { systemClock } from '../lambdas/ports/clock.ts';
import { silentLog } from '../lambdas/ports/log.ts';
import { NO_TWENTY_TARGET } from '../lambdas/tasks/deps.ts';
import { inventory } from '../lambdas/tasks/inventory/inventory.ts';
import { segment } from '../lambdas/tasks/segment/segment.ts';
import { generateExport } from '../lib/generate/index.ts';
import { FsObjectStore, fmt, measure } from './lib.ts';

const PATIENTS = Number(process.argv[2] ?? 10_000);
const CHUNK_SIZE = Number(process.argv[3] ?? 5_000);
const RSS_TARGET_MB = 400;
const out = join(import.meta.dirname, 'out', 'fhir');
const dropRoot = join(out, 'drop-bucket');
const workRoot = join(out, 'work-bucket');
const exportDir = join(dropRoot, 'drop', 'bench');

await rm(out, { recursive: true, force: true });
const generated = await measure(async () =>
  generateExport({ source: 'fhir', patients: PATIENTS, seed: 'bench', defects: 0.01, outDir: exportDir }),
);
const lines = Object.values(generated.result.entities).reduce((n, e) => n + e.rows, 0);
console.log(
  `fhir bench: ${fmt(PATIENTS)} patients, ${fmt(lines)} NDJSON lines generated in ${fmt(generated.ms / 1000, 1)} s`,
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
const runId = 'bench-fhir';
const planned = await measure(() => inventory({ runId, folder: 'drop/bench/' }, deps));
const segmented = await measure(() =>
  segment({ runId, planKey: planned.result.planKey, chunkSize: CHUNK_SIZE }, deps),
);
const maxRssMb = process.resourceUsage().maxRSS / 1024;

const bare = await measure(async () => {
  let parsed = 0;
  for (const name of readdirSync(exportDir).filter((f) => f.endsWith('.ndjson'))) {
    const input = createReadStream(join(exportDir, name), { highWaterMark: 64 * 1024 });
    for await (const line of createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })) {
      if (line.trim() === '') continue;
      try {
        JSON.parse(line);
      } catch {
        // the export's broken lines: counted like the others
      }
      parsed++;
    }
  }
  return parsed;
});

const perSecond = (n: number, ms: number): number => n / (ms / 1000);
const segLines = segmented.result.rows + segmented.result.rejects;
console.log(
  `  inventory : ${fmt(planned.ms / 1000, 2)} s wall, ${fmt(planned.cpuMs / 1000, 2)} s CPU, ${fmt(perSecond(planned.result.rows, planned.ms))} lines/s (parse, flatten, sha256, type sampling), peak RSS ${fmt(planned.peakRssMb)} MB`,
);
console.log(
  `  segment   : ${fmt(segmented.ms / 1000, 2)} s wall, ${fmt(segmented.cpuMs / 1000, 2)} s CPU, ${fmt(perSecond(segLines, segmented.ms))} lines/s, ${fmt(segmented.result.chunks)} chunks of ≤ ${fmt(CHUNK_SIZE)}, ${fmt(segmented.result.rejects)} line rejects, peak RSS ${fmt(segmented.peakRssMb)} MB (sampled)`,
);
console.log(
  `  JSON.parse: ${fmt(bare.ms / 1000, 2)} s wall, ${fmt(bare.cpuMs / 1000, 2)} s CPU, ${fmt(perSecond(bare.result, bare.ms))} lines/s (readline + JSON.parse only)`,
);
console.log(`RATIO fhir-segment-vs-json-parse-cpu ${fmt(segmented.cpuMs / bare.cpuMs, 2)}`);
console.log(
  `  memory    : process max RSS through generate+inventory+segment ${fmt(maxRssMb)} MB — ${maxRssMb < RSS_TARGET_MB ? 'under' : 'OVER'} the ${RSS_TARGET_MB} MB target`,
);
if (segLines !== planned.result.rows || bare.result !== lines)
  console.log(
    `  WARNING   : line counts disagree (segment ${segLines}, inventory ${planned.result.rows}, JSON.parse ${bare.result}, generated ${lines})`,
  );
