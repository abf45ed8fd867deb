/**
 * The bare client + sandbox ceilings: person records written per second by `TwentyClient.createMany`
 * straight into a sandbox — no rate limiter, no pipeline, no faults — and read back per second by id
 * the way Reconcile reads them. What the pipeline achieves end to end is read against the write
 * ceiling (pipeline efficiency), measured in the same process and against the same kind of sandbox
 * just before, so both see the same machine load.
 */
import { performance } from 'node:perf_hooks';
import { READ_BACK_PAGE } from '../lambdas/core/reconcile/read-back.ts';
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

export interface ReadCeilingResult {
  readonly pageSize: number;
  readonly concurrency: number;
  readonly read: number;
  readonly requests: number;
  readonly seconds: number;
  readonly recordsPerSecond: number;
}

/**
 * The bare read-back ceiling: the people {@link syntheticPeople} wrote for `run` read back by id, as
 * Reconcile's read-back and the sample diff read (`id[in]` pages of READ_BACK_PAGE ids at depth 0),
 * `concurrency` requests at a time, by a fresh client, and timed. A pipeline that verifies every write
 * by reading it back cannot load faster than 1 / (1/write ceiling + 1/read ceiling).
 */
export async function clientReadCeiling(
  sandbox: RunningSandbox,
  options: { records: number; concurrency: number; run: number },
): Promise<ReadCeilingResult> {
  const client = new TwentyClient({ baseUrl: sandbox.url, apiKey: sandbox.apiKey });
  const ids = syntheticPeople(options.records, options.run).map((p) => p.id);
  const pages: string[][] = [];
  for (let i = 0; i < ids.length; i += READ_BACK_PAGE) pages.push(ids.slice(i, i + READ_BACK_PAGE));
  let read = 0;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < pages.length) {
      const page = pages[next++] as string[];
      const wanted = new Set(page);
      for await (const record of client.findMany('people', {
        filter: { field: 'id', op: 'in', value: page },
        limit: READ_BACK_PAGE,
        depth: 0,
      }))
        if (wanted.has(record.id)) read++;
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency) }, worker));
  const seconds = (performance.now() - started) / 1000;
  return {
    pageSize: READ_BACK_PAGE,
    concurrency: options.concurrency,
    read,
    requests: client.stats().requests,
    seconds: Number(seconds.toFixed(2)),
    recordsPerSecond: Math.round(read / seconds),
  };
}
