import type { FaultRule, RateWindow } from './options.ts';

/** Outcome of asking the limiter for one request's token. */
export type RateDecision =
  | { readonly allowed: true }
  | {
      readonly allowed: false;
      readonly window: RateWindow;
      readonly retryAfterMs: number;
      readonly remaining: number;
      readonly resetAtMs: number;
    };

interface Bucket {
  readonly window: RateWindow;
  tokens: number;
  updatedAt: number;
}

/**
 * Twenty's API throttle: per workspace, one token per request (a batch of 60 costs the same as
 * one record), with a short and a long window that must both have a token. Token buckets refill
 * continuously at `limit / windowMs`, which is what Twenty's throttler does.
 */
export class RequestRateLimiter {
  readonly #buckets: Bucket[];

  constructor(windows: ReadonlyArray<RateWindow | null>, now: number) {
    this.#buckets = windows
      .filter((w): w is RateWindow => w !== null)
      .map((window) => ({ window, tokens: window.limit, updatedAt: now }));
  }

  /** Takes one token from every window, or none when any window is empty. */
  take(now: number): RateDecision {
    for (const bucket of this.#buckets) this.#refill(bucket, now);
    const empty = this.#buckets.find((bucket) => bucket.tokens < 1);
    if (empty) {
      const rate = empty.window.limit / empty.window.windowMs;
      const retryAfterMs = Math.max(1, Math.ceil((1 - empty.tokens) / rate));
      return {
        allowed: false,
        window: empty.window,
        retryAfterMs,
        remaining: Math.floor(empty.tokens),
        resetAtMs: now + retryAfterMs,
      };
    }
    for (const bucket of this.#buckets) bucket.tokens -= 1;
    return { allowed: true };
  }

  /** Remaining tokens in the tightest window (for X-RateLimit-Remaining). */
  remaining(): number {
    return Math.min(...this.#buckets.map((b) => Math.floor(b.tokens)), Number.MAX_SAFE_INTEGER);
  }

  #refill(bucket: Bucket, now: number): void {
    const elapsed = Math.max(0, now - bucket.updatedAt);
    bucket.tokens = Math.min(
      bucket.window.limit,
      bucket.tokens + (elapsed * bucket.window.limit) / bucket.window.windowMs,
    );
    bucket.updatedAt = now;
  }
}

/** mulberry32: a tiny seeded PRNG, so a fault run replays identically for the same seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Decides each request's injected fault with one draw from a seeded stream. */
export class FaultInjector {
  readonly #rules: readonly FaultRule[];
  readonly #random: () => number;

  constructor(rules: readonly FaultRule[], seed: number) {
    this.#rules = rules;
    this.#random = seededRandom(seed);
  }

  next(): FaultRule | undefined {
    if (this.#rules.length === 0) return undefined;
    const draw = this.#random();
    let cumulative = 0;
    for (const rule of this.#rules) {
      cumulative += rule.probability;
      if (draw < cumulative) return rule;
    }
    return undefined;
  }
}
