import type { BucketState } from '../../ports/rate-limiter.ts';
import type { RateSpec } from './rate-spec.ts';

export type { BucketState };

/** One window of the bucket: its burst capacity and its refill rate (tokens per ms at factor 1). */
export interface WindowPolicy {
  readonly limit: number;
  readonly windowMs: number;
  /** Burst capacity: kept tiny so a full bucket cannot push a window over its limit. */
  readonly capacity: number;
  readonly ratePerMs: number;
}

/**
 * How a workspace's bucket behaves, derived once from the configured {@link RateSpec}.
 *
 * Why the refill rate is `(limit − capacity − leaseMax) / windowMs` and not `limit / windowMs`:
 * every grant is a slot of one token bucket shared through a conditional write, so the grants in
 * any span of `windowMs` are at most `capacity + rate × windowMs`; a token may be spent up to
 * `leaseTtlMs` after its slot (a lease, or timer lateness), adding at most `rate × leaseTtlMs =
 * leaseMax`. The sum is exactly `limit`: loaders together never exceed any configured window,
 * whatever Twenty's own limiter (token bucket or fixed window) does with the same figures.
 */
export interface BucketPolicy {
  readonly windows: readonly WindowPolicy[];
  /** Most tokens one loader takes in one conditional write (≤ 5% of the per-second rate, ≥ 1). */
  readonly leaseMax: number;
  /** Leased tokens not spent this long after their slot are dropped (see above). */
  readonly leaseTtlMs: number;
  /** Multiplicative decrease on a 429. */
  readonly decreaseFactor: number;
  /** The effective rate never falls below this fraction of the configured one. */
  readonly minFactor: number;
  /** Additive increase: this fraction of the configured rate comes back every `recoveryIntervalMs`. */
  readonly recoveryStep: number;
  readonly recoveryIntervalMs: number;
  /** 429s reported within this long of a decrease are the same event (many loaders, one limit). */
  readonly decreaseCooldownMs: number;
  /** Used when Twenty gives no Retry-After (the v1 API sends none). */
  readonly defaultRetryAfterMs: number;
  /** A loader may reserve a slot at most this far ahead; beyond that it sleeps and asks again. */
  readonly maxReserveAheadMs: number;
}

export type BucketTuning = Partial<
  Pick<
    BucketPolicy,
    | 'decreaseFactor'
    | 'minFactor'
    | 'recoveryStep'
    | 'recoveryIntervalMs'
    | 'decreaseCooldownMs'
    | 'defaultRetryAfterMs'
    | 'maxReserveAheadMs'
  >
> & {
  /** Fraction of the tightest per-second rate one lease may take (default 0.05). */
  readonly leaseFraction?: number;
};

/** Derives the bucket's policy from a rate spec (see {@link BucketPolicy} for the arithmetic). */
export function bucketPolicy(spec: RateSpec, tuning: BucketTuning = {}): BucketPolicy {
  const perSecond = Math.min(...spec.windows.map((w) => (w.limit * 1000) / w.windowMs));
  const leaseMax = Math.max(1, Math.floor(perSecond * (tuning.leaseFraction ?? 0.05)));
  const windows = spec.windows.map((w): WindowPolicy => {
    const capacity = Math.max(1, Math.min(leaseMax, w.limit));
    const usable = Math.max(w.limit - capacity - leaseMax, 1);
    return { limit: w.limit, windowMs: w.windowMs, capacity, ratePerMs: usable / w.windowMs };
  });
  const fastest = Math.max(...windows.map((w) => w.ratePerMs));
  const shortestWindow = Math.min(...spec.windows.map((w) => w.windowMs));
  return {
    windows,
    leaseMax,
    leaseTtlMs: leaseMax / fastest,
    decreaseFactor: tuning.decreaseFactor ?? 0.7,
    minFactor: tuning.minFactor ?? 0.1,
    recoveryStep: tuning.recoveryStep ?? 0.05,
    recoveryIntervalMs: tuning.recoveryIntervalMs ?? 10_000,
    decreaseCooldownMs: tuning.decreaseCooldownMs ?? 5_000,
    defaultRetryAfterMs: tuning.defaultRetryAfterMs ?? Math.min(shortestWindow, 5_000),
    maxReserveAheadMs: tuning.maxReserveAheadMs ?? 5_000,
  };
}

/** A full bucket at the configured rate. */
export function freshBucket(policy: BucketPolicy, now: number): BucketState {
  return {
    tokens: policy.windows.map((w) => w.capacity),
    at: now,
    factor: 1,
    factorAt: now,
    blockedUntil: 0,
    lastDecreaseAt: Number.NEGATIVE_INFINITY,
  };
}

/**
 * A stored state that no longer fits the policy (the operator changed `--rate` between runs)
 * starts over as a fresh bucket, keeping only an active block.
 */
export function normalizeBucket(state: BucketState, policy: BucketPolicy, now: number): BucketState {
  if (state.tokens.length === policy.windows.length && state.tokens.every(Number.isFinite)) return state;
  const fresh = freshBucket(policy, Math.max(now, state.blockedUntil));
  return { ...fresh, blockedUntil: state.blockedUntil, lastDecreaseAt: state.lastDecreaseAt };
}

/** Refills by elapsed time and recovers the rate additively; no-op while `now` precedes `at`. */
export function advanceBucket(state: BucketState, policy: BucketPolicy, now: number): BucketState {
  let { factor, factorAt } = state;
  const recoveryFrom = Math.max(factorAt, state.blockedUntil);
  if (factor < 1 && now > recoveryFrom) {
    factor = Math.min(1, factor + (policy.recoveryStep * (now - recoveryFrom)) / policy.recoveryIntervalMs);
  }
  if (now > factorAt) factorAt = now;
  if (now <= state.at) return factor === state.factor ? state : { ...state, factor, factorAt };
  const elapsed = now - state.at;
  const tokens = state.tokens.map((t, i) => {
    const w = policy.windows[i]!;
    return Math.min(w.capacity, t + elapsed * w.ratePerMs * state.factor);
  });
  return { ...state, tokens, at: now, factor, factorAt };
}

/** What a loader got from the bucket. */
export type Reservation =
  | {
      readonly kind: 'granted';
      /** Tokens granted (1..want); the first may be spent at `readyAt`, the rest within the lease TTL. */
      readonly granted: number;
      readonly readyAt: number;
      readonly state: BucketState;
    }
  | {
      readonly kind: 'deferred';
      readonly granted: 0;
      /** Ask again at this instant: the next slot lies beyond the reservation horizon. */
      readonly retryAt: number;
      readonly state: BucketState;
    };

function readyAtFor(state: BucketState, policy: BucketPolicy, now: number, want: number): number {
  let wait = 0;
  state.tokens.forEach((t, i) => {
    const deficit = want - t;
    if (deficit > 0) wait = Math.max(wait, deficit / (policy.windows[i]!.ratePerMs * state.factor));
  });
  return Math.max(now, state.at) + wait;
}

/**
 * Reserves up to `want` tokens: the slot is the instant the bucket would hold them, so a loader makes
 * one conditional write per lease instead of polling. Slots beyond `maxReserveAheadMs` are not
 * handed out, so a 429 (which pushes every later slot back) is honoured within that horizon.
 */
export function reserveTokens(
  state: BucketState,
  policy: BucketPolicy,
  now: number,
  want: number,
): Reservation {
  const current = advanceBucket(state, policy, now);
  const asks = want > 1 ? [Math.min(want, policy.leaseMax), 1] : [1];
  for (const ask of asks) {
    const readyAt = readyAtFor(current, policy, now, ask);
    if (readyAt - now <= policy.maxReserveAheadMs) {
      return {
        kind: 'granted',
        granted: ask,
        readyAt,
        state: { ...current, tokens: current.tokens.map((t) => t - ask) },
      };
    }
  }
  const readyAt = readyAtFor(current, policy, now, 1);
  return { kind: 'deferred', granted: 0, retryAt: readyAt - policy.maxReserveAheadMs, state: current };
}

/**
 * Twenty answered 429: no slot before `now + retryAfter` (every loader reads it from the shared
 * state), unreserved tokens are dropped, and the rate is cut multiplicatively — once per event,
 * even when every concurrent loader reports the same 429.
 */
export function throttleBucket(
  state: BucketState,
  policy: BucketPolicy,
  now: number,
  retryAfterMs: number,
): BucketState {
  const current = advanceBucket(state, policy, now);
  const until = now + (retryAfterMs > 0 ? retryAfterMs : policy.defaultRetryAfterMs);
  const decrease = now - current.lastDecreaseAt >= policy.decreaseCooldownMs;
  return {
    tokens: current.tokens.map((t) => Math.min(t, 0)),
    at: Math.max(current.at, until),
    factor: decrease ? Math.max(policy.minFactor, current.factor * policy.decreaseFactor) : current.factor,
    factorAt: current.factorAt,
    blockedUntil: Math.max(current.blockedUntil, until),
    lastDecreaseAt: decrease ? now : current.lastDecreaseAt,
  };
}
