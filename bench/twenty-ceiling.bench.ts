/**
 * The sandbox + client ceiling: batched person writes per second on this machine with no rate
 * limit and no faults. Later load-efficiency figures (records/s under a real rate limit) are read
 * against this number. Prints, never asserts.
 *
 *   npx node bench/twenty-ceiling.bench.ts [records=30000]
 */
import { performance } from 'node:perf_hooks';
import type { TwentyRecord } from '../lambdas/ports/twenty.ts';
import { TwentyClient } from '../lambdas/twenty/client.ts';
import { startSandbox } from '../lib/sandbox/index.ts';

const total = Number(process.argv[2] ?? 30_000);

function syntheticPeople(count: number, run: number): TwentyRecord[] {
  return Array.from({ length: count }, (_, i) => {
    const n = run * 1_000_000 + i;
    return {
      id: `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`,
      name: { firstName: `Bench${i}`, lastName: `Synthetic${run}` },
      emails: { primaryEmail: `bench${n}@example.test`, additionalEmails: [] },
      jobTitle: 'Synthetic patient',
    };
  });
}

async function measure(batchMax: number, concurrency: number, run: number) {
  const sandbox = await startSandbox({ batchMax, rateShort: null, rateLong: null });
  try {
    const client = new TwentyClient({ baseUrl: sandbox.url, apiKey: sandbox.apiKey, batchMax });
    const records = syntheticPeople(total, run);
    const started = performance.now();
    const result = await client.createMany('people', records, { concurrency });
    const seconds = (performance.now() - started) / 1000;
    const stats = client.stats();
    return {
      batchMax,
      concurrency,
      written: result.written.length,
      failed: result.failed.length,
      requests: stats.requests,
      seconds: Number(seconds.toFixed(2)),
      recordsPerSecond: Math.round(result.written.length / seconds),
      rssMb: Math.round(process.memoryUsage().rss / 1024 / 1024),
    };
  } finally {
    await sandbox.stop();
  }
}

const rows = [];
let run = 1;
for (const batchMax of [60, 200]) {
  for (const concurrency of [1, 4]) {
    rows.push(await measure(batchMax, concurrency, run++));
  }
}
console.log(`Twenty ceiling: ${total} person records via createMany(upsert) into the in-memory sandbox`);
console.table(rows);
