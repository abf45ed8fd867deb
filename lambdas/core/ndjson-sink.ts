import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import type { ObjectStore } from '../ports/object-store.ts';

/**
 * Streams NDJSON objects into one work-bucket object as they come, with backpressure, so a file
 * where every row is rejected still runs in constant memory.
 */
export class NdjsonSink {
  count = 0;
  readonly #body = new PassThrough();
  readonly #upload: Promise<void>;
  #failure: unknown = null;
  #blocked = false;

  constructor(store: ObjectStore, key: string) {
    this.#upload = store.putStream(key, this.#body, 'application/x-ndjson');
    this.#upload.catch((error: unknown) => {
      this.#failure = error;
    });
  }

  write(value: unknown): void {
    this.count++;
    if (!this.#body.write(`${JSON.stringify(value)}\n`)) this.#blocked = true;
  }

  /** Waits until the upload has taken what was written (or failed). */
  async drained(): Promise<void> {
    if (this.#failure !== null) throw this.#failure;
    if (!this.#blocked) return;
    await Promise.race([once(this.#body, 'drain'), this.#upload]);
    this.#blocked = false;
    if (this.#failure !== null) throw this.#failure;
  }

  async close(): Promise<void> {
    this.#body.end();
    await this.#upload;
  }

  async abort(): Promise<void> {
    this.#body.destroy();
    await this.#upload.catch(() => undefined);
  }
}
