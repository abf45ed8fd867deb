import type { Clock } from '../../ports/clock.ts';
import { systemClock } from '../../ports/clock.ts';
import type { NewRun, RunLock, RunPatch, RunRecord, RunStore } from '../../ports/run-store.ts';
import { NotFoundError, RunLockedError, ValidationError } from '../errors.ts';

type MutableRun = { -readonly [K in keyof RunRecord]: RunRecord[K] } & {
  counters: Record<string, number>;
  taskTokens: Record<string, string>;
};

/** The RunStore port in memory with the DynamoDB adapter's rules (idempotent create, lock expiry). */
export class MemoryRunStore implements RunStore {
  readonly #runs = new Map<string, MutableRun>();
  readonly #locks = new Map<string, RunLock>();
  readonly #clock: Clock;

  constructor(clock: Clock = systemClock) {
    this.#clock = clock;
  }

  #nowIso(): string {
    return new Date(this.#clock.now()).toISOString();
  }

  #require(runId: string): MutableRun {
    const run = this.#runs.get(runId);
    if (run === undefined) throw new NotFoundError('run store: no run record with this runId');
    return run;
  }

  async createRun(run: NewRun): Promise<RunRecord> {
    const existing = this.#runs.get(run.runId);
    if (existing !== undefined) {
      if (existing.folder !== run.folder) {
        throw new ValidationError('run store: runId is already used by a run on another drop folder');
      }
      return structuredClone(existing);
    }
    const created: MutableRun = {
      ...run,
      updatedAt: this.#nowIso(),
      status: 'running',
      counters: {},
      taskTokens: {},
    };
    this.#runs.set(run.runId, created);
    return structuredClone(created);
  }

  async getRun(runId: string): Promise<RunRecord | undefined> {
    const run = this.#runs.get(runId);
    return run === undefined ? undefined : structuredClone(run);
  }

  async listRuns(options: { limit?: number } = {}): Promise<RunRecord[]> {
    const runs = [...this.#runs.values()]
      .map((r) => structuredClone(r))
      .sort((a, b) => b.startedAt.localeCompare(a.startedAt) || b.runId.localeCompare(a.runId));
    return options.limit === undefined ? runs : runs.slice(0, options.limit);
  }

  async updateRun(runId: string, patch: RunPatch): Promise<void> {
    const run = this.#require(runId);
    for (const [field, value] of Object.entries(patch)) {
      if (value !== undefined) Object.assign(run, { [field]: value });
    }
    run.updatedAt = this.#nowIso();
  }

  async addCounters(runId: string, counters: Readonly<Record<string, number>>): Promise<void> {
    const run = this.#require(runId);
    for (const [name, amount] of Object.entries(counters))
      run.counters[name] = (run.counters[name] ?? 0) + amount;
    run.updatedAt = this.#nowIso();
  }

  async recordTaskToken(runId: string, stage: string, token: string): Promise<void> {
    this.#require(runId).taskTokens[stage] = token;
  }

  async acquireLock(folder: string, runId: string, ttlMs: number): Promise<RunLock> {
    const now = this.#clock.now();
    const held = this.#locks.get(folder);
    if (held !== undefined && held.runId !== runId && held.expiresAt >= now) {
      throw new RunLockedError(
        `drop folder ${folder} is locked by run ${held.runId} until it finishes or expires`,
      );
    }
    const lock = { folder, runId, expiresAt: now + ttlMs };
    this.#locks.set(folder, lock);
    return { ...lock };
  }

  async releaseLock(folder: string, runId: string): Promise<void> {
    if (this.#locks.get(folder)?.runId === runId) this.#locks.delete(folder);
  }
}
