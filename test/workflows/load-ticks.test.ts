import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReconciliationSchema } from '../../lambdas/core/reconcile/report.ts';
import { autoApprover } from '../../lib/local/approvals.ts';
import { type LocalRuntime, startLocalRuntime } from '../../lib/local/runtime.ts';
import { type RunningSandbox, startSandbox } from '../../lib/sandbox/index.ts';
import { uploadTiny } from '../support/tiny.ts';

/** The LoadChunk loop of migrate.asl.json: a tick whose time box ends first hands back a continuation. */
describe('LoadChunk ticks on the local runtime', () => {
  let sandbox: RunningSandbox;
  let runtime: LocalRuntime;
  let folder: string;
  let mappingKey: string;

  beforeAll(async () => {
    sandbox = await startSandbox({ rateShort: null, rateLong: null });
    runtime = await startLocalRuntime({
      inMemory: true,
      retryIntervalMs: 0,
      // A budget of 0 ms: every tick writes one slice and stops; batches of one record make slices of one.
      tickBudgetMs: 0,
      twenty: { url: sandbox.url, apiKey: sandbox.apiKey, rate: '1000/1s+60000/60s', batchMax: 1 },
    });
    ({ folder, mappingKey } = await uploadTiny(runtime.deps.drop));
  });
  afterAll(async () => {
    await runtime?.stop();
    await sandbox?.stop();
  });

  it('loops LoadChunk → ChunkDone? → WaitForTokens → LoadChunk until each chunk is done, and balances', async () => {
    const run = await runtime.startExecution(
      'migrate',
      // No sample load: its records would already be written when the full load meets them, and a
      // slice with nothing to send spans its chunk in one tick.
      { folder, options: { chunkSize: 2, mappingKey, sampleSize: 0 } },
      { runId: 'wf-ticks-1', approver: autoApprover('test') },
    );
    expect(run.error).toBeUndefined();
    expect(run.status).toBe('SUCCEEDED');

    const entered = (state: string) =>
      run.transitions.filter((t) => t.type === 'StateEntered' && t.state === state).length;
    const ticks = entered('LoadChunk');
    const chunks = entered('ChunkLoaded');
    expect(chunks).toBeGreaterThan(0);
    // Chunks of two records in slices of one: at least one continuation per chunk of two.
    expect(ticks).toBeGreaterThan(chunks);
    expect(entered('ChunkDone?')).toBe(ticks);
    expect(entered('WaitForTokens')).toBe(ticks - chunks);

    // Within one chunk's iteration the states follow the loop, never skipping the Choice.
    const loopStates = new Set(['LoadChunk', 'ChunkDone?', 'WaitForTokens', 'ChunkLoaded']);
    const next: Record<string, readonly string[]> = {
      LoadChunk: ['ChunkDone?'],
      'ChunkDone?': ['WaitForTokens', 'ChunkLoaded'],
      WaitForTokens: ['LoadChunk'],
    };
    const byIteration = new Map<string, string[]>();
    let phaseOrdinal = 0;
    for (const t of run.transitions) {
      if (t.type !== 'StateEntered' || t.state === undefined) continue;
      if (t.state === 'LoadChunks') phaseOrdinal++;
      if (!loopStates.has(t.state)) continue;
      const key = `${phaseOrdinal}:${t.index ?? -1}`;
      const seq = byIteration.get(key) ?? [];
      seq.push(t.state);
      byIteration.set(key, seq);
    }
    for (const seq of byIteration.values()) {
      expect(seq[0]).toBe('LoadChunk');
      expect(seq.at(-1)).toBe('ChunkLoaded');
      for (let i = 0; i + 1 < seq.length; i++) expect(next[seq[i]!]).toContain(seq[i + 1]);
    }

    // The run counters saw every tick and every record once.
    const counters = (await runtime.deps.runStore?.getRun('wf-ticks-1'))?.counters ?? {};
    const sum = (suffix: string) =>
      Object.entries(counters)
        .filter(([name]) => name.startsWith('phase_') && name.endsWith(suffix))
        .reduce((total, [, n]) => total + n, 0);
    expect(sum('_ticks')).toBe(ticks);
    const reconciliation = ReconciliationSchema.parse(
      JSON.parse(await runtime.deps.work.getText('runs/wf-ticks-1/reconciliation.json')),
    );
    expect(reconciliation.balanced).toBe(true);
    expect(reconciliation.missing).toBe(0);
    const { loaded, rejected } = reconciliation.totals as { loaded: number; rejected: number };
    expect(sum('_records')).toBeGreaterThanOrEqual(loaded);
    expect(sum('_records')).toBeLessThanOrEqual(loaded + rejected);
  });
});
