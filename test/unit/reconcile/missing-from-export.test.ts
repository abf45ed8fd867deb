import { describe, expect, it } from 'vitest';
import { MemoryObjectStore } from '../../../lambdas/adapters/memory-object-store.ts';
import { MemoryLedger } from '../../../lambdas/core/ledger/memory-ledger.ts';
import { type ChunkLoadStats, loadChunkKey, prepareRejectsKey } from '../../../lambdas/core/load/format.ts';
import { missingFromExport } from '../../../lambdas/core/reconcile/missing-from-export.ts';

const runId = 'r2';

function chunkStats(entity: string, key: string): ChunkLoadStats {
  return {
    runId,
    phase: '02-people',
    entity,
    object: 'people',
    key,
    records: 0,
    created: 0,
    updated: 0,
    unchanged: 0,
    rejected: {},
    targets: { written: 0, rejected: 0 },
    requests: 0,
    throttled: 0,
    writtenIds: [],
  };
}

/** An earlier run mapped P1–P4; this run's two chunks hold P1 and P2, P3 was dropped from the export. */
async function secondRun() {
  const ledger = new MemoryLedger();
  await ledger.putIdMap(
    'clinic',
    'patient',
    ['P1', 'P2', 'P3', 'P4'].map((sourceId) => ({
      sourceId,
      twentyId: `t-${sourceId}`,
      contentHash: 'h',
      runId: 'r1',
    })),
  );
  const work = new MemoryObjectStore('work');
  const first = loadChunkKey(runId, '02-people', 'patient', 1);
  const second = loadChunkKey(runId, '02-people', 'patient', 2);
  await work.put(first, `${JSON.stringify({ sourceId: 'P1', id: 't-P1' })}\n`);
  await work.put(second, `${JSON.stringify({ sourceId: 'P2', id: 't-P2' })}\n`);
  await work.put(
    prepareRejectsKey(runId),
    `${JSON.stringify({ entity: 'patient', sourceId: 'P4', reason: 'INVALID_EMAIL' })}\n`,
  );
  // Every key the search opens, by any read method.
  const opened: string[] = [];
  for (const method of ['get', 'getText', 'getStream', 'exists'] as const) {
    const original = work[method].bind(work) as (key: string) => Promise<never>;
    (work as unknown as Record<string, (key: string) => Promise<unknown>>)[method] = (key: string) => {
      opened.push(key);
      return original(key);
    };
  }
  return { ledger, work, opened, chunks: [chunkStats('patient', first), chunkStats('patient', second)] };
}

describe('missingFromExport', () => {
  it('lists id-map rows neither in the chunks nor among Prepare rejects', async () => {
    const { ledger, work, chunks } = await secondRun();
    const missing = await missingFromExport(work, ledger, runId, 'clinic', ['patient'], chunks);
    expect(missing).toEqual({ patient: { count: 1, sourceIds: ['P3'] } });
  });

  it('takes the source ids of chunks a pass already parsed instead of reading them again, with the same result', async () => {
    const { ledger, work, opened, chunks } = await secondRun();
    const [first, second] = chunks as [ChunkLoadStats, ChunkLoadStats];
    const parsed = new Map([[first.key, ['P1']]]);
    const missing = await missingFromExport(
      work,
      ledger,
      runId,
      'clinic',
      ['patient'],
      chunks,
      undefined,
      parsed,
    );
    expect(missing).toEqual({ patient: { count: 1, sourceIds: ['P3'] } });
    expect(opened).not.toContain(first.key);
    expect(opened).toContain(second.key);
  });
});
