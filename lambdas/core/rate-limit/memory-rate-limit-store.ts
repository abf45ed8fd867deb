import type { RateLimitStore, VersionedBucket, WorkspaceCaps } from '../../ports/rate-limiter.ts';
import type { BucketState } from './token-bucket.ts';

/**
 * The RateLimit table in memory, with the same optimistic-concurrency contract as DynamoDB: unit
 * tests run several gates against one instance and see the same conflicts. Every call yields to
 * the event loop first so concurrent loaders interleave between their read and their write.
 */
export class MemoryRateLimitStore implements RateLimitStore {
  readonly #items = new Map<string, VersionedBucket>();
  readonly #caps = new Map<string, WorkspaceCaps>();

  async loadCaps(workspaceKey: string): Promise<WorkspaceCaps> {
    await Promise.resolve();
    return { ...(this.#caps.get(workspaceKey) ?? {}) };
  }

  async saveCaps(workspaceKey: string, caps: WorkspaceCaps): Promise<void> {
    await Promise.resolve();
    const known = this.#caps.get(workspaceKey)?.batchMax;
    if (caps.batchMax !== undefined)
      this.#caps.set(workspaceKey, {
        batchMax: known === undefined ? caps.batchMax : Math.min(known, caps.batchMax),
      });
  }

  async load(workspaceKey: string): Promise<VersionedBucket | undefined> {
    await Promise.resolve();
    const item = this.#items.get(workspaceKey);
    return item === undefined ? undefined : structuredClone(item);
  }

  async save(
    workspaceKey: string,
    state: BucketState,
    expectedVersion: number | undefined,
  ): Promise<boolean> {
    await Promise.resolve();
    const item = this.#items.get(workspaceKey);
    if ((item?.version ?? undefined) !== expectedVersion) return false;
    this.#items.set(workspaceKey, { state: structuredClone(state), version: (expectedVersion ?? 0) + 1 });
    return true;
  }
}
