import { describe, expect, it } from 'vitest';
import { MemoryObjectStore } from '../../../lambdas/adapters/memory-object-store.ts';
import { MemoryRunStore } from '../../../lambdas/core/ledger/memory-run-store.ts';
import {
  duration,
  estimateLine,
  etaMinutes,
  phaseProgress,
  phaseTotals,
  progressLine,
  startProgress,
} from '../../../lib/cli/progress.ts';

/** Waits (real time, bounded) until the display has written what the test expects next. */
async function until(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('the progress display never wrote what was expected');
    await new Promise((r) => setTimeout(r, 5));
  }
}

class Sink {
  text = '';
  write(chunk: string): boolean {
    this.text += chunk;
    return true;
  }
}

describe('progress figures', () => {
  it('reads phases from the per-tick counters and the manifest totals, in load order', () => {
    const phases = phaseProgress(
      {
        'phase_04-activities_records': 400,
        'phase_04-activities_requests': 3,
        'phase_02-people_records': 3000,
        'phase_02-people_requests': 15,
        'phase_02-people_throttled': 1,
        'phase_02-people_ticks': 12,
      },
      { '02-people': 3000, '04-activities': 9000, '05-custom': 500 },
    );
    expect(phases.map((p) => p.phase)).toEqual(['02-people', '04-activities', '05-custom']);
    expect(phases[0]).toEqual({
      phase: '02-people',
      done: 3000,
      total: 3000,
      requests: 15,
      throttled: 1,
      ticks: 12,
    });
    expect(phases[2]?.done).toBe(0);
  });

  it('bounds the ETA by the rate, and by the measured pace when Twenty is slower', () => {
    // 10,000 records at 1 request per 200 under 100 requests/min: 50 requests → 0.5 min.
    expect(etaMinutes(10_000, 1 / 200, 100, undefined)).toBeCloseTo(0.5);
    // The measured pace (1,000 records/min) is slower than the bound: 10 minutes.
    expect(etaMinutes(10_000, 1 / 200, 100, 1000)).toBeCloseTo(10);
    expect(etaMinutes(0, 1 / 200, 100, 1000)).toBe(0);
    expect(duration(0.5)).toBe('30s');
    expect(duration(12.25)).toBe('12m15s');
    expect(duration(64)).toBe('1h04m');
  });

  it('renders a bar line and a plain line with counts, rates, 429s and an ETA', () => {
    const p = { phase: '02-people', done: 1500, total: 3000, requests: 8, throttled: 2, ticks: 4 };
    const bar = progressLine(p, { recordsPerMinute: 12_000, requestsPerMinute: 60 }, 100, 200, true);
    expect(bar).toContain('[##########----------]');
    expect(bar).toMatch(/1,500\/3,000 records {2}50%/);
    expect(bar).toContain('12,000 rec/min');
    expect(bar).toContain('60 req/min of 100');
    expect(bar).toContain('2 × 429');
    // 1,500 left at 8/1,500 requests per record = 8 requests → 4.8 s at 100/min; the pace says 7.5 s.
    expect(bar).toContain('ETA 8s');
    const plain = progressLine(p, {}, 100, 200, false);
    expect(plain).not.toContain('[');
    expect(plain).toContain('- rec/min');
    expect(progressLine({ ...p, done: 3000 }, {}, 100, 200, false)).toMatch(/done$/);
  });

  it('prints the plan estimate in one line, or nothing without one', () => {
    const line = estimateLine({
      totals: { rows: 28_638 },
      estimate: { requests: 235, minutes: 2.35, rate: 'self-hosted', batchMax: 200, requestsPerMinute: 100 },
    });
    expect(line).toBe(
      'estimate: 28,638 source rows → 235 write requests in batches of 200, about 2m21s at 100/min (self-hosted)',
    );
    expect(estimateLine({})).toBeUndefined();
    expect(estimateLine(null)).toBeUndefined();
  });
});

describe('startProgress', () => {
  async function setUp() {
    const runs = new MemoryRunStore();
    const work = new MemoryObjectStore();
    const runId = 'r1';
    await runs.createRun({ runId, folder: 'drop/x/', source: 'pbn', startedAt: new Date(0).toISOString() });
    // Prepare's load manifests: chunk items per phase, a second wave of activities.
    const item = (phase: string, entity: string, n: number, records: number) => ({
      runId,
      phase,
      entity,
      key: `runs/${runId}/load/${phase}/${entity}/0000${n}.ndjson`,
      records,
    });
    await work.put(
      `runs/${runId}/load/02-people.json`,
      JSON.stringify([item('02-people', 'patients', 1, 600), item('02-people', 'patients', 2, 400)]),
    );
    await work.put(
      `runs/${runId}/load/04-activities.json`,
      JSON.stringify([item('04-activities', 'appointments', 1, 2000)]),
    );
    await work.put(
      `runs/${runId}/load/04-activities.w2.json`,
      JSON.stringify([item('04-activities', 'notes', 1, 500)]),
    );
    await work.put(`runs/${runId}/load/02-people/patients/00001.ndjson`, '{"not":"a manifest"}\n');
    return { runs, work, runId };
  }

  it('sums a phase over its waves', async () => {
    const { work, runId } = await setUp();
    expect(await phaseTotals(work, runId)).toEqual({ '02-people': 1000, '04-activities': 2500 });
  });

  it('announces stages, prints plain lines as counters move and a done line per phase', async () => {
    const { runs, work, runId } = await setUp();
    const out = new Sink();
    let clock = 0;
    const progress = startProgress({
      runStore: runs,
      work,
      runId,
      rate: '100/60s',
      batch: 200,
      out: out as unknown as NodeJS.WritableStream,
      tty: false,
      intervalMs: 5,
      now: () => clock,
    });
    progress.onTransition({ type: 'StateEntered', state: 'Inventory', at: 0 });
    progress.onTransition({ type: 'StateEntered', state: 'CheckOptions', at: 0 });
    progress.onTransition({ type: 'StateEntered', state: 'LoadChunk', index: 0, at: 0 });
    progress.onTransition({ type: 'StateEntered', state: 'LoadPhases', at: 0 });
    await runs.addCounters(runId, { 'phase_02-people_records': 400, 'phase_02-people_requests': 2 });
    await until(() => out.text.includes('400/1,000'));
    clock = 30_000;
    await runs.addCounters(runId, {
      'phase_02-people_records': 600,
      'phase_02-people_requests': 3,
      'phase_02-people_ticks': 2,
      'phase_04-activities_records': 100,
      'phase_04-activities_requests': 1,
      'phase_04-activities_throttled': 1,
    });
    await until(() => /02-people .* done/.test(out.text) && out.text.includes('100/2,500'));
    progress.onTransition({ type: 'StateEntered', state: 'Reconcile', at: 0 });
    await progress.stop();
    const lines = out.text.trim().split('\n');
    expect(lines[0]).toBe('ferry: Inventory…');
    expect(lines[1]).toBe('ferry: LoadPhases…');
    expect(out.text).not.toContain('CheckOptions');
    expect(out.text).toMatch(/02-people +400\/1,000 records {2}40%/);
    expect(out.text).toMatch(/02-people +1,000\/1,000 records {2}100% .* done {2}\(5 requests, 2 ticks\)/);
    // 600 records in the 30 s between two samples: 1,200 records/min.
    expect(out.text).toContain('1,200 rec/min');
    expect(out.text).toMatch(/04-activities +100\/2,500 records .*1 × 429 {2}ETA/);
    expect(lines.at(-1)).toBe('ferry: Reconcile…');
    expect(out.text.match(/02-people .* done/g)).toHaveLength(1);
  });

  it('on a terminal redraws the live lines in place', async () => {
    const { runs, work, runId } = await setUp();
    const out = new Sink();
    const progress = startProgress({
      runStore: runs,
      work,
      runId,
      rate: 'self-hosted',
      batch: 200,
      out: out as unknown as NodeJS.WritableStream,
      tty: true,
      intervalMs: 5,
    });
    progress.onTransition({ type: 'StateEntered', state: 'LoadPhases', at: 0 });
    await runs.addCounters(runId, { 'phase_02-people_records': 200, 'phase_02-people_requests': 1 });
    const redraw = new RegExp(`${String.fromCharCode(27)}\\[\\d+F${String.fromCharCode(27)}\\[J`);
    await until(() => out.text.includes('[####') && redraw.test(out.text));
    await progress.stop();
    expect(out.text).toContain('[####----------------]');
    // Cursor up over the lines drawn last time and clear to the end of the screen.
    expect(out.text).toMatch(new RegExp(`${String.fromCharCode(27)}\\[\\d+F${String.fromCharCode(27)}\\[J`));
  });
});
