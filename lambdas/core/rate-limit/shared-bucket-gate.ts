import type { Clock } from '../../ports/clock.ts';
import type { Log } from '../../ports/log.ts';
import type { RateLimitStore, RequestGate, VersionedBucket } from '../../ports/rate-limiter.ts';
import { TransientError } from '../errors.ts';
import {
  type BucketPolicy,
  freshBucket,
  normalizeBucket,
  type Reservation,
  reserveTokens,
  throttleBucket,
} from './token-bucket.ts';

export interface SharedBucketGateOptions {
  readonly store: RateLimitStore;
  /** Which workspace's bucket: {@link workspaceKey} of the Twenty URL. */
  readonly workspaceKey: string;
  readonly policy: BucketPolicy;
  readonly clock: Clock;
  readonly log?: Log;
  /** Jitter source (tests pass a seeded one). */
  readonly random?: () => number;
  /** Conditional-write attempts before giving up with a TransientError (default 64). */
  readonly maxAttempts?: number;
}

/** Counters for benchmarks and logs: how many store round-trips each grant cost. */
export interface GateStats {
  grants: number;
  storeReads: number;
  storeWrites: number;
  conflicts: number;
  throttles: number;
  /** Leased tokens dropped because they were not spent within the lease TTL. */
  expiredLeaseTokens: number;
}

interface Lease {
  remaining: number;
  readonly readyAt: number;
  readonly expiresAt: number;
}

/**
 * The {@link RequestGate} every loader of one workspace shares: tokens come from one stored bucket
 * through optimistic conditional writes (read, compute refill and reservation, write if the version
 * is unchanged, retry with jitter on conflict). A loader caches the state it last wrote, so an
 * uncontended grant costs one write; it leases several tokens per write when its own demand keeps
 * up (lease size doubles while leases are used up in time and halves when tokens expire).
 */
export class SharedBucketGate implements RequestGate {
  readonly stats: GateStats = {
    grants: 0,
    storeReads: 0,
    storeWrites: 0,
    conflicts: 0,
    throttles: 0,
    expiredLeaseTokens: 0,
  };
  readonly #options: SharedBucketGateOptions;
  readonly #random: () => number;
  #cached: VersionedBucket | undefined;
  #leases: Lease[] = [];
  #leaseWant = 1;
  #blockedUntil = 0;
  #pendingThrottle: Promise<void> = Promise.resolve();
  #refilling: Promise<void> | undefined;
  #waiters = 0;

  constructor(options: SharedBucketGateOptions) {
    this.#options = options;
    this.#random = options.random ?? Math.random;
  }

  get policy(): BucketPolicy {
    return this.#options.policy;
  }

  async knownBatchCap(): Promise<number | undefined> {
    return (await this.#options.store.loadCaps(this.#options.workspaceKey)).batchMax;
  }

  async rememberBatchCap(cap: number): Promise<void> {
    await this.#options.store.saveCaps(this.#options.workspaceKey, { batchMax: cap });
  }

  async acquire(): Promise<void> {
    const { clock } = this.#options;
    await this.#pendingThrottle;
    this.#waiters++;
    try {
      for (;;) {
        const now = clock.now();
        if (now < this.#blockedUntil) {
          await clock.sleep(this.#blockedUntil - now);
          continue;
        }
        const slot = this.#takeLeased(now);
        if (slot !== undefined) {
          if (slot > now) await clock.sleep(slot - now);
          // A 429 reported while this caller slept voids its slot: wait for the block instead.
          if (clock.now() < this.#blockedUntil) continue;
          this.stats.grants++;
          return;
        }
        this.#refilling ??= this.#refillLeases().finally(() => {
          this.#refilling = undefined;
        });
        await this.#refilling;
      }
    } finally {
      this.#waiters--;
    }
  }

  onThrottled(retryAfterMs: number): void {
    const { clock, policy } = this.#options;
    const now = clock.now();
    this.stats.throttles++;
    this.#blockedUntil = Math.max(
      this.#blockedUntil,
      now + (retryAfterMs > 0 ? retryAfterMs : policy.defaultRetryAfterMs),
    );
    this.#leases = [];
    this.#leaseWant = 1;
    this.#pendingThrottle = this.#pendingThrottle
      .then(() => this.#writeThrottle(now, retryAfterMs))
      .catch((error: unknown) => {
        this.#options.log?.warn('rate limit throttle not recorded', {
          error: error instanceof Error ? error.name : 'unknown',
        });
      });
  }

  /**
   * One conditional write for every caller of this gate waiting right now: concurrent requests of one
   * loader share a lease instead of contending with each other on the stored item.
   */
  async #refillLeases(): Promise<void> {
    const { clock, policy } = this.#options;
    const want = Math.min(policy.leaseMax, Math.max(this.#leaseWant, this.#waiters));
    const reservation = await this.#reserve(want);
    if (reservation.kind === 'granted') {
      this.#leases.push({
        remaining: reservation.granted,
        readyAt: reservation.readyAt,
        expiresAt: reservation.readyAt + policy.leaseTtlMs,
      });
      return;
    }
    await clock.sleep(Math.max(1, reservation.retryAt - clock.now()) + this.#random() * 5);
  }

  /** The slot of one leased token, or undefined when no lease is usable. */
  #takeLeased(now: number): number | undefined {
    while (this.#leases.length > 0) {
      const lease = this.#leases[0]!;
      if (now > lease.expiresAt) {
        this.stats.expiredLeaseTokens += lease.remaining;
        this.#leases.shift();
        this.#leaseWant = Math.max(1, Math.floor(this.#leaseWant / 2));
        continue;
      }
      lease.remaining--;
      if (lease.remaining === 0) {
        this.#leases.shift();
        this.#leaseWant = Math.min(this.#options.policy.leaseMax, this.#leaseWant * 2);
      }
      return lease.readyAt;
    }
    return undefined;
  }

  async #reserve(want: number): Promise<Reservation> {
    const { store, workspaceKey, policy, clock } = this.#options;
    const attempts = this.#options.maxAttempts ?? 64;
    for (let attempt = 0; attempt < attempts; attempt++) {
      let current = this.#cached;
      if (current === undefined) {
        current = await store.load(workspaceKey);
        this.stats.storeReads++;
      }
      const now = clock.now();
      const base = current ? normalizeBucket(current.state, policy, now) : freshBucket(policy, now);
      const reservation = reserveTokens(base, policy, now, want);
      // A cached state is never more generous than the stored one (other loaders only take tokens
      // or add blocks), so "nothing before the horizon" holds without a read.
      if (reservation.kind === 'deferred') return reservation;
      this.stats.storeWrites++;
      if (await store.save(workspaceKey, reservation.state, current?.version)) {
        this.#cached = { state: reservation.state, version: (current?.version ?? 0) + 1 };
        return reservation;
      }
      this.stats.conflicts++;
      this.#cached = undefined;
      if (attempt > 0) await clock.sleep(this.#random() * Math.min(25, 2 ** attempt));
    }
    throw new TransientError(
      'rate limit bucket: too many concurrent writers, conditional write kept failing',
    );
  }

  async #writeThrottle(reportedAt: number, retryAfterMs: number): Promise<void> {
    const { store, workspaceKey, policy, clock } = this.#options;
    const attempts = this.#options.maxAttempts ?? 64;
    for (let attempt = 0; attempt < attempts; attempt++) {
      const current = await store.load(workspaceKey);
      this.stats.storeReads++;
      const base = current
        ? normalizeBucket(current.state, policy, reportedAt)
        : freshBucket(policy, reportedAt);
      const state = throttleBucket(base, policy, reportedAt, retryAfterMs);
      this.stats.storeWrites++;
      if (await store.save(workspaceKey, state, current?.version)) {
        this.#cached = { state, version: (current?.version ?? 0) + 1 };
        return;
      }
      this.stats.conflicts++;
      await clock.sleep(this.#random() * Math.min(25, 2 ** attempt));
    }
    throw new TransientError('rate limit bucket: throttle could not be recorded after repeated conflicts');
  }
}

/** Logged counters without the class: handy for benchmarks. */
export function gateCallsPerGrant(stats: GateStats): number {
  return stats.grants === 0 ? 0 : (stats.storeReads + stats.storeWrites) / stats.grants;
}
