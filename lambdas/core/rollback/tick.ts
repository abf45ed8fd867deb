import { z } from 'zod';
import type { ObjectStore } from '../../ports/object-store.ts';
import { rollbackCursorKey } from '../run-layout.ts';

/** Thrown inside a tick when its deadline has passed; caught by the tick, never leaves it. */
export class DeadlineReached extends Error {}

/**
 * When a tick stops sending: every tick sends at least one request (so the loop always advances);
 * after that none starts past the deadline.
 */
export class TickBudget {
  readonly #now: () => number;
  readonly #deadline: number;
  #progressed = false;

  constructor(now: () => number, deadline: number) {
    this.#now = now;
    this.#deadline = deadline;
  }

  /** Before a Twenty request: throws `DeadlineReached` once the tick has advanced and its time is up. */
  readonly beforeRequest = (): void => {
    if (this.#progressed && this.#now() >= this.#deadline) throw new DeadlineReached();
  };

  /** A request has been sent: the tick has advanced. */
  readonly onProgress = (): void => {
    this.#progressed = true;
  };
}

/**
 * Persists a rollback's cursor (`runs/<runId>/rollback/cursor.json`), first adding the Twenty
 * requests sent since the last save (or since this saver was made) to its `requests`.
 */
export class CursorSaver {
  readonly #work: ObjectStore;
  readonly #runId: string;
  readonly #cursor: { requests: number };
  readonly #requestsSent: () => number;
  #counted: number;

  constructor(work: ObjectStore, runId: string, cursor: { requests: number }, requestsSent: () => number) {
    this.#work = work;
    this.#runId = runId;
    this.#cursor = cursor;
    this.#requestsSent = requestsSent;
    this.#counted = requestsSent();
  }

  async save(): Promise<void> {
    const requests = this.#requestsSent();
    this.#cursor.requests += requests - this.#counted;
    this.#counted = requests;
    await this.#work.put(
      rollbackCursorKey(this.#runId),
      `${JSON.stringify(this.#cursor, null, 2)}\n`,
      'application/json',
    );
  }
}

/**
 * The ids of the destructive step a rollback is in (saved in its cursor): `sent` before the step's
 * first request, `counted` once its outcome is in the counters (and before its ledger entries).
 */
export const InFlightSchema = z.object({
  sent: z.array(z.string()),
  counted: z.array(z.string()),
});
export type InFlight = z.infer<typeof InFlightSchema>;

/**
 * Makes a rollback's counts exact across a kill. Each step that writes to Twenty or the ledger (a
 * delete-many page, one restore, a recreate page, a schema removal, a batch of problems) is framed:
 * {@link begin} persists the cursor naming the step's ids before its first request, {@link counted}
 * persists the counters with the step's outcome before its ledger entries are appended, {@link end}
 * closes it. A process killed anywhere in between leaves the step named in the saved cursor; the
 * next attempt redoes that step (its ledger entries are missing), and {@link interrupted} tells it
 * whether an id was counted already (count it not again) or only sent (a record now gone was deleted
 * by the killed request, not before the rollback).
 */
export class StepJournal {
  readonly #cursor: { inFlight?: InFlight | undefined };
  readonly #save: () => Promise<void>;
  /** The step a killed attempt left in the cursor; forgotten once the first step after it ends. */
  #resumed: InFlight | undefined;

  constructor(cursor: { inFlight?: InFlight | undefined }, save: () => Promise<void>) {
    this.#cursor = cursor;
    this.#save = save;
    this.#resumed = cursor.inFlight;
  }

  /** Before the step's first request (after the tick's deadline check). */
  async begin(ids: readonly string[]): Promise<void> {
    const counted = ids.filter((id) => this.#resumed?.counted.includes(id));
    this.#cursor.inFlight = { sent: [...ids], counted };
    await this.#save();
  }

  /** How the killed attempt left this id: counted already, only sent, or not at all. */
  interrupted(id: string): 'counted' | 'sent' | undefined {
    if (this.#resumed?.counted.includes(id)) return 'counted';
    if (this.#resumed?.sent.includes(id)) return 'sent';
    return undefined;
  }

  /** The step's outcome is in the counters: persisted before its ledger entries. */
  async counted(): Promise<void> {
    const step = this.#cursor.inFlight;
    if (step !== undefined) step.counted = [...step.sent];
    await this.#save();
  }

  /** The step's ledger entries are written: it needs no redoing. */
  end(): void {
    this.#cursor.inFlight = undefined;
    this.#resumed = undefined;
  }
}
