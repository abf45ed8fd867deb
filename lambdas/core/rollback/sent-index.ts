import type { ObjectStore } from '../../ports/object-store.ts';
import { ValidationError } from '../errors.ts';
import { parseNdjson } from '../load/decide.ts';
import { MappedLineSchema } from '../load/format.ts';
import { loadChunkPrefix } from '../run-layout.ts';

/** What rollback needs of one mapped record: where it lives and which fields Ferry sent. */
export interface Sent {
  readonly object: string;
  readonly fields: readonly string[];
}

/**
 * The run's mapped records (`runs/<runId>/load/<phase>/<entity>/*.ndjson`, every wave) by source id,
 * read once per (phase, entity): the ledger keeps ids and before-images, the chunks keep the object
 * and the fields Ferry sent, which is exactly what a restore may write back.
 */
export class SentIndex {
  readonly #work: ObjectStore;
  readonly #runId: string;
  #key = '';
  #index = new Map<string, Sent>();

  constructor(work: ObjectStore, runId: string) {
    this.#work = work;
    this.#runId = runId;
  }

  /** Entries arrive grouped by (phase, entity), so one group's index is kept at a time. */
  async entity(phase: string, entity: string): Promise<Map<string, Sent>> {
    const prefix = loadChunkPrefix(this.#runId, phase, entity);
    if (prefix === this.#key) return this.#index;
    const index = new Map<string, Sent>();
    for await (const object of this.#work.list(prefix)) {
      if (!object.key.endsWith('.ndjson')) continue;
      const text = await this.#work.getText(object.key);
      const lines = parseNdjson(text, (position) => {
        throw new ValidationError(`rollback: load chunk ${object.key} line ${position} is not JSON`);
      });
      for (const raw of lines) {
        const parsed = MappedLineSchema.safeParse(raw);
        if (!parsed.success) {
          throw new ValidationError(`rollback: load chunk ${object.key} has an invalid record`);
        }
        index.set(parsed.data.sourceId, {
          object: parsed.data.object,
          fields: Object.keys(parsed.data.data),
        });
      }
    }
    this.#key = prefix;
    this.#index = index;
    return index;
  }
}
