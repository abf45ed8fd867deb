/**
 * Prepare at scale: generates a Practice by Numbers export (default 20,000 patients, all entities,
 * 3% defects), runs Inventory and Segment on a file-system ObjectStore, then times Prepare alone
 * and prints source rows/s, records written/s and peak RSS. Prints numbers; asserts nothing.
 * Run: `npx node bench/prepare.bench.ts [patients] [loadChunkSize]` (`--quick`: 2,000 patients).
 */
import { createReadStream, readdirSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { profileEncoding } from '../lambdas/core/csv/encoding.ts';
import { readCsv } from '../lambdas/core/csv/reader.ts';
import { MemoryLedger } from '../lambdas/core/ledger/memory-ledger.ts';
import { MemoryRunStore } from '../lambdas/core/ledger/memory-run-store.ts';
import { parseMappingSpec } from '../lambdas/core/mapping/spec.ts';
import type { TargetModelInput } from '../lambdas/core/prepare/target-model.ts';
import { bindProfile, profileFor } from '../lambdas/core/sources/index.ts';
import { systemClock } from '../lambdas/ports/clock.ts';
import { silentLog } from '../lambdas/ports/log.ts';
import { NO_TWENTY_TARGET } from '../lambdas/tasks/deps.ts';
import { inventory } from '../lambdas/tasks/inventory/inventory.ts';
import { prepare } from '../lambdas/tasks/prepare/prepare.ts';
import { segment } from '../lambdas/tasks/segment/segment.ts';
import { generateExport } from '../lib/generate/index.ts';
import { FsObjectStore, fmt, measure, reportMetric, sized } from './lib.ts';

const PATIENTS = sized(process.argv[2], 20_000, 2_000);
const CHUNK_SIZE = Number(process.argv[3] ?? 1_000);
const out = join(import.meta.dirname, 'out', 'prepare');
const dropRoot = join(out, 'drop-bucket');
const workRoot = join(out, 'work-bucket');
const folder = 'drop/bench/';
const exportDir = join(dropRoot, ...folder.split('/'));

await rm(out, { recursive: true, force: true });
const generated = await measure(async () =>
  generateExport({
    source: 'pbn',
    patients: PATIENTS,
    seed: 'prepare-bench',
    defects: 0.03,
    outDir: exportDir,
  }),
);
await rm(join(exportDir, 'expected.json'));

// The profile bound to the dropped files, handed to Inventory as the operator's mapping.
const headers: Array<{ stem: string; header: string[] }> = [];
const names: Record<string, string> = {};
for (const name of readdirSync(exportDir)) {
  const path = join(exportDir, name);
  if (!statSync(path).isFile() || !name.endsWith('.csv')) continue;
  const { encoding } = await profileEncoding(createReadStream(path));
  let header: string[] = [];
  await readCsv(
    createReadStream(path),
    { file: name, encoding },
    {
      header: (columns) => {
        header = [...columns];
      },
    },
  );
  const stem = relative(exportDir, path).replace(/\.csv$/, '');
  headers.push({ stem, header });
  names[stem] = name;
}
// Written in input form: a parsed spec with constant fields does not re-parse yet (mapping WIP).
const bound = bindProfile(profileFor('pbn'), headers, names);
const spec = parseMappingSpec(bound, 'pbn');
const mappingKey = `${folder}bench-mapping.yaml`;
const drop = new FsObjectStore(dropRoot, 'drop');
const work = new FsObjectStore(workRoot, 'work');
await drop.put(mappingKey, JSON.stringify(bound));
const deps = {
  drop,
  work,
  clock: systemClock,
  log: silentLog,
  runStore: new MemoryRunStore(),
  ledger: new MemoryLedger(),
  twenty: NO_TWENTY_TARGET,
};
const runId = 'bench-prepare';

const planned = await measure(() => inventory({ runId, folder, options: { mappingKey } }, deps));
const segmented = await measure(() => segment({ runId, planKey: planned.result.planKey }, deps));

const plural: Record<string, string> = {
  company: 'companies',
  person: 'people',
  opportunity: 'opportunities',
  task: 'tasks',
  note: 'notes',
  attachment: 'attachments',
};
for (const o of spec.customObjects) plural[o.nameSingular] = o.namePlural;
const columns = Object.fromEntries(
  Object.keys(plural).map((o) => [o, `target${o.charAt(0).toUpperCase()}${o.slice(1)}Id`]),
);
const model: TargetModelInput = {
  flavor: 'v2',
  plural,
  joinColumns: { taskTarget: columns, noteTarget: columns, attachment: columns },
};
await work.put(`runs/${runId}/mapping.json`, JSON.stringify(bound));
await work.put(`runs/${runId}/target-model.json`, JSON.stringify(model));

let peakRss = 0;
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}, 50);
const prepared = await measure(() =>
  prepare({ runId, planKey: planned.result.planKey, chunkSize: CHUNK_SIZE }, deps),
);
clearInterval(sampler);
peakRss = Math.max(peakRss, process.memoryUsage().rss);

const rows = segmented.result.rows + segmented.result.rejects;
const p = prepared.result;
const records = p.phases.reduce((n, phase) => n + phase.records, 0);
const seconds = prepared.ms / 1000;
console.log(
  `prepare bench: PbN ${fmt(PATIENTS)} patients → ${fmt(rows)} source rows (export generated in ${fmt(generated.ms / 1000, 1)} s, inventory ${fmt(planned.ms / 1000, 1)} s, segment ${fmt(segmented.ms / 1000, 1)} s)`,
);
console.log(
  `  Prepare: ${fmt(seconds, 2)} s → ${fmt(rows / seconds)} source rows/s, ${fmt(records)} records (+ targets) in ${p.phases.length} phase manifests, ${fmt(records / seconds)} records/s`,
);
console.log(
  `  mapped ${fmt(p.mapped)}, rejected ${fmt(p.rejected)}, skipped ${fmt(p.skipped)}; peak RSS ${fmt(peakRss / 1024 / 1024)} MB`,
);
reportMetric({
  id: 'prepare-rows-per-s',
  label: `Prepare source rows/s, ${fmt(PATIENTS)}-patient PbN export`,
  value: Math.round(rows / seconds),
  unit: 'rows/s',
  detail: `${fmt(rows)} rows → ${fmt(records)} records in ${fmt(seconds, 2)} s; peak RSS ${fmt(peakRss / 1024 / 1024)} MB`,
});
await rm(out, { recursive: true, force: true });
