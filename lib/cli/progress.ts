import { LOAD_PHASES } from '../../lambdas/core/load/format.ts';
import { loadManifestItems } from '../../lambdas/core/load/manifests.ts';
import { parseRate, requestsPerMinute } from '../../lambdas/core/rate-limit/rate-spec.ts';
import type { ObjectStore } from '../../lambdas/ports/object-store.ts';
import type { RunStore } from '../../lambdas/ports/run-store.ts';
import type { StateTransition } from '../local/asl-runner.ts';
import { count } from './common.ts';

/** One load phase as the progress display shows it: counts only, from the run record and manifests. */
export interface PhaseProgress {
  readonly phase: string;
  /** Source records the phase's ticks have finished (written, unchanged or rejected). */
  readonly done: number;
  /** Records Prepare put in the phase's chunks. */
  readonly total: number;
  readonly requests: number;
  readonly throttled: number;
  readonly ticks: number;
}

/** The phases of a run from its counters (`phase_<phase>_*`, written per LoadChunk tick) and totals. */
export function phaseProgress(
  counters: Readonly<Record<string, number>>,
  totals: Readonly<Record<string, number>>,
): PhaseProgress[] {
  const phases: PhaseProgress[] = [];
  for (const phase of LOAD_PHASES) {
    const total = totals[phase] ?? 0;
    const done = counters[`phase_${phase}_records`] ?? 0;
    if (total === 0 && done === 0) continue;
    phases.push({
      phase,
      done,
      total,
      requests: counters[`phase_${phase}_requests`] ?? 0,
      throttled: counters[`phase_${phase}_throttled`] ?? 0,
      ticks: counters[`phase_${phase}_ticks`] ?? 0,
    });
  }
  return phases;
}

/** `1h04m`, `12m05s`, `40s`. */
export function duration(minutes: number): string {
  if (!Number.isFinite(minutes) || minutes < 0) return '?';
  const seconds = Math.round(minutes * 60);
  if (seconds < 60) return `${seconds}s`;
  const m = Math.floor(seconds / 60);
  if (m < 60) return `${m}m${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/**
 * Minutes left for `remaining` records under the rate bound: each record costs the requests per record
 * seen so far (1/batch before anything is measured), and the bucket refills at `limitPerMinute`. When
 * the measured pace is slower than the bound (Twenty itself is slow), that pace wins.
 */
export function etaMinutes(
  remaining: number,
  requestsPerRecord: number,
  limitPerMinute: number,
  recordsPerMinute: number | undefined,
): number {
  if (remaining <= 0) return 0;
  const bound = (remaining * requestsPerRecord) / limitPerMinute;
  if (recordsPerMinute === undefined || recordsPerMinute <= 0) return bound;
  return Math.max(bound, remaining / recordsPerMinute);
}

export interface ProgressRates {
  /** Records per minute over the last measurement window (undefined before two samples). */
  readonly recordsPerMinute?: number;
  readonly requestsPerMinute?: number;
}

/**
 * One phase's progress in words, e.g.
 * `02-people  [#########-----------]  1,400/3,000  47%  12,000 rec/min  60 req/min of 100  0 × 429  ETA 2m10s`.
 * `bar` false drops the bar (plain lines for logs).
 */
export function progressLine(
  p: PhaseProgress,
  rates: ProgressRates,
  limitPerMinute: number,
  batch: number,
  bar: boolean,
): string {
  const share = p.total > 0 ? Math.min(1, p.done / p.total) : 0;
  const width = 20;
  const filled = Math.round(share * width);
  const requestsPerRecord = p.done > 0 && p.requests > 0 ? p.requests / p.done : 1 / batch;
  const eta = etaMinutes(p.total - p.done, requestsPerRecord, limitPerMinute, rates.recordsPerMinute);
  const parts = [
    p.phase.padEnd(15),
    ...(bar ? [`[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`] : []),
    `${count(p.done)}/${count(p.total)} records`,
    `${Math.floor(share * 100)}%`,
    rates.recordsPerMinute === undefined
      ? '- rec/min'
      : `${count(Math.round(rates.recordsPerMinute))} rec/min`,
    `${rates.requestsPerMinute === undefined ? '-' : count(Math.round(rates.requestsPerMinute))} req/min of ${count(Math.round(limitPerMinute))}`,
    `${count(p.throttled)} × 429`,
    p.done >= p.total && p.total > 0 ? 'done' : `ETA ${duration(eta)}`,
  ];
  return parts.join('  ');
}

/** The records each phase's chunks hold: the load manifests Prepare wrote (`runs/<runId>/load/<phase>[.w<n>].json`). */
export async function phaseTotals(work: ObjectStore, runId: string): Promise<Record<string, number>> {
  const totals: Record<string, number> = {};
  for (const item of await loadManifestItems(work, runId))
    totals[item.phase] = (totals[item.phase] ?? 0) + item.records;
  return totals;
}

/** Top-level stages worth announcing; Map iterations and Choice/Wait states are not. */
const STAGES = new Set([
  'Inventory',
  'AwaitPlanApproval',
  'Segment',
  'ApplySchema',
  'ResolveOwners',
  'Prepare',
  'SampleLoad',
  'AwaitSampleApproval',
  'LoadPhases',
  'Reconcile',
]);

export interface ProgressOptions {
  readonly runStore: RunStore;
  readonly work: ObjectStore;
  readonly runId: string;
  /** The rate the run loads at (preset or N/<duration>): the ETA's bound. */
  readonly rate: string;
  readonly batch: number;
  readonly out: NodeJS.WritableStream;
  /** A terminal: redraw one bar line per phase in place; else plain lines every `intervalMs`. */
  readonly tty: boolean;
  /** How often the run record is read (TTY default 1 s; plain default 5 s). */
  readonly intervalMs?: number;
  readonly now?: () => number;
}

export interface ProgressDisplay {
  /** The runner's transition hook: announces stages as they start. */
  readonly onTransition: (transition: StateTransition) => void;
  /** Prints the last state of every phase and stops polling. */
  stop(): Promise<void>;
}

/**
 * Live progress of a local run on stderr: the stage being worked on, then per load phase the records
 * done / total, records/min, requests/min against the rate, 429s and an ETA from the rate bound. Reads
 * only the run record's counters and the load manifests (counts) — never a record.
 */
export function startProgress(options: ProgressOptions): ProgressDisplay {
  const now = options.now ?? Date.now;
  const limit = requestsPerMinute(parseRate(options.rate));
  const interval = options.intervalMs ?? (options.tty ? 1000 : 5000);
  let totals: Record<string, number> | undefined;
  let lastStage: string | undefined;
  let drawn = 0;
  const history: { at: number; done: Record<string, number>; requests: Record<string, number> }[] = [];
  const finished = new Set<string>();
  let announcing: Promise<void> = Promise.resolve();

  const write = (text: string) => {
    options.out.write(text);
  };
  const clear = () => {
    if (options.tty && drawn > 0) write(`\x1b[${drawn}F\x1b[J`);
    drawn = 0;
  };

  const rates = (phase: string): ProgressRates => {
    const latest = history.at(-1);
    const windowStart = history.find((h) => (latest?.at ?? 0) - h.at <= 30_000);
    // Under a few seconds of history the bucket's burst dominates: no rate yet rather than a wild one.
    if (latest === undefined || windowStart === undefined || latest.at - windowStart.at < 5_000) return {};
    const minutes = (latest.at - windowStart.at) / 60_000;
    return {
      recordsPerMinute: ((latest.done[phase] ?? 0) - (windowStart.done[phase] ?? 0)) / minutes,
      requestsPerMinute: ((latest.requests[phase] ?? 0) - (windowStart.requests[phase] ?? 0)) / minutes,
    };
  };

  const pollOnce = async (final: boolean) => {
    {
      const run = await options.runStore.getRun(options.runId);
      if (run === undefined) return;
      const hasLoad = Object.keys(run.counters).some((k) => k.startsWith('phase_'));
      if (totals === undefined && (hasLoad || lastStage === 'LoadPhases'))
        totals = await phaseTotals(options.work, options.runId);
      if (totals === undefined) return;
      const phases = phaseProgress(run.counters, totals);
      history.push({
        at: now(),
        done: Object.fromEntries(phases.map((p) => [p.phase, p.done])),
        requests: Object.fromEntries(phases.map((p) => [p.phase, p.requests])),
      });
      while (history.length > 0 && now() - (history[0]?.at ?? 0) > 60_000) history.shift();
      clear();
      const live: string[] = [];
      for (const p of phases) {
        const line = progressLine(p, rates(p.phase), limit, options.batch, options.tty);
        const complete = p.total > 0 && p.done >= p.total;
        if (complete && !finished.has(p.phase)) {
          finished.add(p.phase);
          write(`ferry: ${line}  (${count(p.requests)} requests, ${count(p.ticks)} ticks)\n`);
        } else if (!complete && (p.done > 0 || final || options.tty)) live.push(line);
      }
      if (options.tty) {
        for (const line of live) write(`ferry: ${line}\n`);
        drawn = live.length;
      } else if (!final) for (const line of live) write(`ferry: ${line}\n`);
    }
  };
  /** Polls one at a time, in order (a slow read never overlaps the next). */
  let chain: Promise<void> = Promise.resolve();
  const poll = (final: boolean): Promise<void> => {
    chain = chain.then(() => pollOnce(final)).catch(() => undefined);
    return chain;
  };

  const timer = setInterval(() => {
    void poll(false);
  }, interval);
  timer.unref();

  return {
    onTransition(transition) {
      if (transition.type !== 'StateEntered' || transition.index !== undefined) return;
      const stage = transition.state;
      if (stage === undefined || !STAGES.has(stage) || stage === lastStage) return;
      lastStage = stage;
      // After loading, settle the phases' last lines before announcing the next stage.
      const settle = totals === undefined ? Promise.resolve() : poll(false);
      announcing = settle.then(() => {
        clear();
        write(`ferry: ${stage}…\n`);
      });
    },
    async stop() {
      clearInterval(timer);
      await announcing;
      await poll(true);
      if (options.tty) drawn = 0;
    },
  };
}

/**
 * The plan's load estimate in one line, printed before loading:
 * `estimate: 28,638 records → 235 requests in batches of 200, about 2m21s at 100/min (self-hosted)`.
 * Undefined when the plan has none.
 */
export function estimateLine(plan: unknown): string | undefined {
  if (typeof plan !== 'object' || plan === null) return undefined;
  const { estimate, totals } = plan as {
    estimate?: {
      requests?: unknown;
      minutes?: unknown;
      rate?: unknown;
      batchMax?: unknown;
      requestsPerMinute?: unknown;
    };
    totals?: { rows?: unknown };
  };
  if (estimate === undefined || typeof estimate.requests !== 'number' || typeof estimate.minutes !== 'number')
    return undefined;
  const rows = typeof totals?.rows === 'number' ? `${count(totals.rows)} source rows → ` : '';
  const perMinute =
    typeof estimate.requestsPerMinute === 'number'
      ? `${count(Math.round(estimate.requestsPerMinute))}/min`
      : '';
  const rate = typeof estimate.rate === 'string' ? estimate.rate : '';
  return (
    `estimate: ${rows}${count(estimate.requests)} write requests in batches of ${count(estimate.batchMax)}, ` +
    `about ${duration(estimate.minutes)} at ${[perMinute, rate && `(${rate})`].filter(Boolean).join(' ')}`
  );
}
