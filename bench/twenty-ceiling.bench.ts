/**
 * The sandbox + client ceiling: batched person writes per second on this machine with no rate
 * limit and no faults, at batch caps 60 and 200 and 1 or 4 requests in flight, into the in-memory
 * sandbox. Load figures under a rate limit are read against this number (the migrate bench measures
 * its own ceiling beside its end-to-end run). Prints, never asserts.
 *
 *   npx node bench/twenty-ceiling.bench.ts [records=30000]
 */
import { startSandbox } from '../lib/sandbox/index.ts';
import { type CeilingResult, clientCeiling } from './ceiling.ts';
import { fmt, reportMetric, sized } from './lib.ts';

const total = sized(process.argv[2], 30_000, 3_000);

const rows: Array<CeilingResult & { rssMb: number }> = [];
let run = 1;
for (const batchMax of [60, 200]) {
  for (const concurrency of [1, 4]) {
    const sandbox = await startSandbox({ batchMax, rateShort: null, rateLong: null });
    try {
      const result = await clientCeiling(sandbox, { records: total, batchMax, concurrency, run: run++ });
      rows.push({ ...result, rssMb: Math.round(process.memoryUsage().rss / 1024 / 1024) });
    } finally {
      await sandbox.stop();
    }
  }
}
console.log(`Twenty ceiling: ${fmt(total)} person records via createMany(upsert) into the in-memory sandbox`);
console.table(rows);
const best = rows.reduce((a, b) => (b.recordsPerSecond > a.recordsPerSecond ? b : a));
reportMetric({
  id: 'client-ceiling-in-memory',
  label: 'client + in-memory sandbox ceiling (best of 4 settings)',
  value: best.recordsPerSecond,
  unit: 'records/s',
  detail: `batch ${best.batchMax}, ${best.concurrency} in flight, ${fmt(best.written)} records, ${best.requests} requests, ${best.failed} failed`,
});
