/**
 * A fleet of concurrent loaders as the Distributed Map runs them in AWS: each loader has its own
 * DynamoDB client, its own token-bucket gate and its own TwentyClient (separate Lambdas share
 * nothing in memory), and all of them share ONE bucket item in the RateLimit table because they
 * write to the same workspace. The concurrency e2e test asserts on what it returns; the migrate
 * benchmark prints it. Records are synthetic people (no real person's data).
 */
import { performance } from 'node:perf_hooks';
import type { RateSpec } from '../../../lambdas/core/rate-limit/rate-spec.ts';
import type { TwentyClientStats, TwentyRecord } from '../../../lambdas/ports/twenty.ts';
import { createDynamoRateLimiter } from '../../../lambdas/runtime/rate-limiter.ts';
import { TwentyClient } from '../../../lambdas/twenty/client.ts';
import { type EmbeddedDynamo, localDynamoClient } from '../../../lib/local/embedded-dynamodb.ts';
import type { RunningSandbox } from '../../../lib/sandbox/index.ts';

export interface FleetOptions {
  readonly sandbox: RunningSandbox;
  readonly dynamo: EmbeddedDynamo;
  /** The rate the sandbox enforces, given to the bucket as well (loaders configured at Twenty's rate). */
  readonly rate: { readonly limit: number; readonly windowMs: number };
  readonly loaders: number;
  readonly recordsPerLoader: number;
  /** Records per createMany request: the sandbox's batch cap. */
  readonly batchMax: number;
  /** Batches in flight per loader (createMany concurrency). */
  readonly lanes?: number;
  /** Distinguishes the ids and emails of one scenario from another's in the same sandbox. */
  readonly scenario: number;
}

export interface FleetResult {
  readonly loaders: number;
  readonly elapsedMs: number;
  readonly sent: number;
  readonly written: number;
  readonly failed: number;
  /** What the loaders' clients counted, summed. */
  readonly client: Pick<TwentyClientStats, 'requests' | 'throttled' | 'retries'>;
  /** Ids every loader sent, for the exactly-once check against the sandbox dump. */
  readonly ids: readonly string[];
}

/** A deterministic UUID-shaped id per (scenario, loader, index): distinct across the whole fleet. */
export function fleetRecordId(scenario: number, loader: number, index: number): string {
  const tail = (loader * 10_000_000 + index).toString(16).padStart(12, '0');
  return `00000000-${scenario.toString(16).padStart(4, '0')}-4000-8000-${tail}`;
}

function syntheticPeople(scenario: number, loader: number, count: number): TwentyRecord[] {
  return Array.from({ length: count }, (_, index) => ({
    id: fleetRecordId(scenario, loader, index),
    name: { firstName: `Loader${loader}`, lastName: `Synthetic${index}` },
    emails: { primaryEmail: `s${scenario}-l${loader}-${index}@example.test`, additionalEmails: [] },
    jobTitle: 'Synthetic patient',
  }));
}

/**
 * Runs `loaders` loaders at once, each writing its own distinct people with createMany(upsert)
 * through its own gate on the shared bucket. The bucket key is the sandbox URL, as in a real run.
 */
export async function runLoaderFleet(options: FleetOptions): Promise<FleetResult> {
  const { sandbox, dynamo, rate, loaders, recordsPerLoader, batchMax, scenario } = options;
  const spec: RateSpec = {
    label: `${rate.limit}/${rate.windowMs}ms`,
    windows: [{ limit: rate.limit, windowMs: rate.windowMs }],
  };
  const fleet = Array.from({ length: loaders }, (_, loader) => {
    const dynamoClient = localDynamoClient(dynamo.endpoint);
    const gate = createDynamoRateLimiter({
      client: dynamoClient,
      tableName: dynamo.tableNames.RateLimit,
      twentyUrl: sandbox.url,
      rate: spec,
    });
    const client = new TwentyClient({
      baseUrl: sandbox.url,
      apiKey: sandbox.apiKey,
      limiter: gate,
      batchMax,
    });
    return { dynamoClient, client, records: syntheticPeople(scenario, loader, recordsPerLoader) };
  });
  try {
    const started = performance.now();
    const results = await Promise.all(
      fleet.map(({ client, records }) =>
        client.createMany('people', records, { upsert: true, concurrency: options.lanes ?? 2 }),
      ),
    );
    const elapsedMs = performance.now() - started;
    const stats = fleet.map(({ client }) => client.stats());
    return {
      loaders,
      elapsedMs,
      sent: loaders * recordsPerLoader,
      written: results.reduce((sum, r) => sum + r.written.length, 0),
      failed: results.reduce((sum, r) => sum + r.failed.length, 0),
      client: {
        requests: stats.reduce((sum, s) => sum + s.requests, 0),
        throttled: stats.reduce((sum, s) => sum + s.throttled, 0),
        retries: stats.reduce((sum, s) => sum + s.retries, 0),
      },
      ids: fleet.flatMap(({ records }) => records.map((r) => r.id)),
    };
  } finally {
    for (const { dynamoClient } of fleet) dynamoClient.destroy();
  }
}
