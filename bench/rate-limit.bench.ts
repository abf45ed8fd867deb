/**
 * The shared DynamoDB token bucket under 1, 2 and 4 concurrent loaders (each with its own SDK client,
 * as separate Lambdas would have) against the embedded DynamoDB. Prints the achieved rate against the
 * configured one, the worst 10-second window, and DynamoDB calls per grant. Print only, no pass/fail.
 * Run: `npx node bench/rate-limit.bench.ts [rate=600/60s] [seconds=20] [lanesPerLoader=2]` (`--quick`: 4 s).
 */

import { parseRate, requestsPerMinute } from '../lambdas/core/rate-limit/rate-spec.ts';
import { gateCallsPerGrant } from '../lambdas/core/rate-limit/shared-bucket-gate.ts';
import { createDynamoRateLimiter } from '../lambdas/runtime/rate-limiter.ts';
import { localDynamoClient, startEmbeddedDynamo } from '../lib/local/embedded-dynamodb.ts';
import { reportMetric, sized } from './lib.ts';

const RATE = process.argv[2] ?? '600/60s';
const SECONDS = sized(process.argv[3], 20, 4);
const LANES = Number(process.argv[4] ?? 2);
const spec = parseRate(RATE);
const perSecond = requestsPerMinute(spec) / 60;

function maxInWindow(instants: number[], windowMs: number): number {
  const sorted = [...instants].sort((a, b) => a - b);
  let best = 0;
  let start = 0;
  for (let end = 0; end < sorted.length; end++) {
    while (sorted[end]! - sorted[start]! >= windowMs) start++;
    best = Math.max(best, end - start + 1);
  }
  return best;
}

const dynamo = await startEmbeddedDynamo();
try {
  console.log(
    `rate ${spec.label} (${perSecond.toFixed(2)}/s), ${SECONDS}s per run, ${LANES} lanes per loader`,
  );
  for (const loaders of [1, 2, 4]) {
    const url = `http://bench.twenty.invalid/${loaders}-loaders`;
    const clients = Array.from({ length: loaders }, () => localDynamoClient(dynamo.endpoint));
    const gates = clients.map((client) =>
      createDynamoRateLimiter({ client, tableName: dynamo.tableNames.RateLimit, twentyUrl: url, rate: spec }),
    );
    const sent: number[] = [];
    const started = Date.now();
    const until = started + SECONDS * 1000;
    await Promise.all(
      gates.flatMap((gate) =>
        Array.from({ length: LANES }, async () => {
          for (;;) {
            await gate.acquire();
            const now = Date.now();
            if (now >= until) return;
            sent.push(now);
          }
        }),
      ),
    );
    const elapsed = (until - started) / 1000;
    const achieved = sent.length / elapsed;
    const calls = gates.reduce((sum, g) => sum + g.stats.storeReads + g.stats.storeWrites, 0);
    const grants = gates.reduce((sum, g) => sum + g.stats.grants, 0);
    const conflicts = gates.reduce((sum, g) => sum + g.stats.conflicts, 0);
    const worst10s = maxInWindow(sent, 10_000);
    console.log(
      [
        `loaders=${loaders}`,
        `grants=${sent.length}`,
        `achieved=${achieved.toFixed(2)}/s`,
        `ratio=${(achieved / perSecond).toFixed(3)}`,
        `worst10s=${worst10s}/${Math.round(perSecond * 10)}(pro rata; burst+lateness)`,
        `dynamoCallsPerGrant=${(calls / Math.max(1, grants)).toFixed(2)}`,
        `conflicts=${conflicts}`,
        `perLoaderCallsPerGrant=${gates.map((g) => gateCallsPerGrant(g.stats).toFixed(2)).join(',')}`,
      ].join('  '),
    );
    reportMetric({
      id: `bucket-grants-${loaders}-loader${loaders > 1 ? 's' : ''}`,
      label: `shared DynamoDB token bucket grants/s, ${loaders} loader${loaders > 1 ? 's' : ''}`,
      value: Number(achieved.toFixed(2)),
      unit: 'grants/s',
      baseline: { label: 'configured rate', value: Number(perSecond.toFixed(2)) },
      detail: `${sent.length} grants in ${SECONDS} s, ${(calls / Math.max(1, grants)).toFixed(2)} DynamoDB calls per grant, ${conflicts} conflicts, worst 10 s window ${worst10s}`,
    });
    for (const client of clients) client.destroy();
  }
} finally {
  await dynamo.stop();
}
