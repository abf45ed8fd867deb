import { createInterface } from 'node:readline';
import type { ObjectStore } from '../../../ports/object-store.ts';

/**
 * Each JSON value of an NDJSON object in the store, line by line. A blank line or one that is not
 * JSON is passed over: the summaries that read this way (the export's error and `deleted` files)
 * count what they can read, and the same lines are already segmented and skipped with a reason, so
 * the reconciliation counts them anyway.
 */
export async function* readableJsonLines(store: ObjectStore, key: string): AsyncGenerator<unknown> {
  const input = await store.getStream(key);
  for await (const line of createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })) {
    if (line.trim() === '') continue;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      continue;
    }
    yield json;
  }
}
