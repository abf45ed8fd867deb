import { z } from 'zod';
import type { BeforeImageStore } from '../../ports/ledger.ts';
import type { ObjectStore } from '../../ports/object-store.ts';
import { readArtifact } from '../run-layout.ts';
import { beforeImageObjectKey } from './entry.ts';

/**
 * The ledger's store for before-images too large for a ledger item: one object per entry under the
 * run's audit folder in the work bucket (`runs/<runId>/audit/before-images/…`, a run-layout key).
 */
export function workBucketBeforeImages(work: ObjectStore): BeforeImageStore {
  return {
    async put(entry, json) {
      const key = beforeImageObjectKey(entry);
      await work.put(key, json, 'application/json');
      return key;
    },
    async get(key) {
      return (await readArtifact(work, key, z.unknown())) as Record<string, unknown>;
    },
  };
}
