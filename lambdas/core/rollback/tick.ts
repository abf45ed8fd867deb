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
