/**
 * The bare client + sandbox ceiling: person records written per second by `TwentyClient.createMany`
 * straight into a sandbox — no rate limiter, no pipeline, no faults. What the pipeline achieves end
 * to end is read against it (pipeline efficiency), measured in the same process and against the
 * same kind of sandbox just before, so both see the same machine load.
 */
import { performance } from 'node:perf_hooks';
import type { TwentyRecord } from '../lambdas/ports/twenty.ts';
import { TwentyClient } from '../lambdas/twenty/client.ts';
import type { RunningSandbox } from '../lib/sandbox/index.ts';

export interface CeilingResult {
  readonly batchMax: number;
  readonly concurrency: number;
  readonly written: number;
  readonly failed: number;
  readonly requests: number;
  readonly seconds: number;
  readonly recordsPerSecond: number;
}

/** Synthetic people, distinct per `run` so several passes into one sandbox never upsert each other. */
export function syntheticPeople(count: number, run: number): TwentyRecord[] {
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

/** Writes `records` people in batches of `batchMax`, `concurrency` requests at a time, and times it. */
export async function clientCeiling(
  sandbox: RunningSandbox,
  options: { records: number; batchMax: number; concurrency: number; run: number },
): Promise<CeilingResult> {
  const client = new TwentyClient({
    baseUrl: sandbox.url,
    apiKey: sandbox.apiKey,
    batchMax: options.batchMax,
  });
  const records = syntheticPeople(options.records, options.run);
  const started = performance.now();
  const result = await client.createMany('people', records, { concurrency: options.concurrency });
  const seconds = (performance.now() - started) / 1000;
  return {
    batchMax: options.batchMax,
    concurrency: options.concurrency,
    written: result.written.length,
    failed: result.failed.length,
    requests: client.stats().requests,
    seconds: Number(seconds.toFixed(2)),
    recordsPerSecond: Math.round(result.written.length / seconds),
  };
}
