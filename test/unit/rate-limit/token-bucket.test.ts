import { describe, expect, it } from 'vitest';
import { parseRate } from '../../../lambdas/core/rate-limit/rate-spec.ts';
import {
  advanceBucket,
  type BucketPolicy,
  type BucketState,
  bucketPolicy,
  freshBucket,
  normalizeBucket,
  reserveTokens,
  throttleBucket,
} from '../../../lambdas/core/rate-limit/token-bucket.ts';
import { maxInAnyWindow } from './virtual-clock.ts';

const T0 = 1_000_000;

/** Reserves one token at a time as fast as the bucket allows; returns the slots. */
function drain(policy: BucketPolicy, start: BucketState, count: number, want = 1): number[] {
  let state = start;
  let now = T0;
  const slots: number[] = [];
  while (slots.length < count) {
    const r = reserveTokens(state, policy, now, want);
    if (r.kind === 'deferred') {
      now = r.retryAt;
      continue;
    }
    state = r.state;
    for (let i = 0; i < r.granted; i++) slots.push(r.readyAt);
    now = r.readyAt;
  }
  return slots.slice(0, count);
}

describe('bucketPolicy', () => {
  it('keeps a one-token burst and leaves room for lease and lateness below the limit for cloud', () => {
    const policy = bucketPolicy(parseRate('cloud'));
    expect(policy.leaseMax).toBe(1);
    expect(policy.windows[0]?.capacity).toBe(1);
    expect(policy.windows[0]!.ratePerMs * 60_000).toBeCloseTo(48);
  });

  it('leases at most 5% of the per-second rate', () => {
    expect(bucketPolicy(parseRate('6000/60s')).leaseMax).toBe(5);
    expect(bucketPolicy(parseRate('600/60s')).leaseMax).toBe(1);
    expect(bucketPolicy(parseRate('self-hosted')).leaseMax).toBe(1);
  });
});

describe('token bucket', () => {
  it('grants the burst at once, then spaces slots by the refill rate', () => {
    const policy = bucketPolicy(parseRate('600/60s'));
    const slots = drain(policy, freshBucket(policy, T0), 4);
    expect(slots[0]).toBe(T0);
    const spacing = 1 / policy.windows[0]!.ratePerMs;
    expect(slots[1]! - T0).toBeCloseTo(spacing);
    expect(slots[3]! - slots[2]!).toBeCloseTo(spacing);
  });

  it('refills by elapsed time but never above the capacity', () => {
    const policy = bucketPolicy(parseRate('6000/60s'));
    const empty: BucketState = { ...freshBucket(policy, T0), tokens: [0] };
    expect(advanceBucket(empty, policy, T0 + 20).tokens[0]).toBeCloseTo(20 * policy.windows[0]!.ratePerMs);
    expect(advanceBucket(empty, policy, T0 + 3_600_000).tokens[0]).toBe(policy.windows[0]!.capacity);
  });

  it('never lets any configured window exceed its limit over a long run', () => {
    const policy = bucketPolicy(parseRate('self-hosted'));
    const slots = drain(policy, freshBucket(policy, T0), 500);
    expect(maxInAnyWindow(slots, 1_000)).toBeLessThanOrEqual(100);
    expect(maxInAnyWindow(slots, 60_000)).toBeLessThanOrEqual(100);
    const perMinute = (slots.length - 1) / ((slots.at(-1)! - slots[0]!) / 60_000);
    expect(perMinute).toBeGreaterThan(95);
  });

  it('is bound by the long window when the short one would allow more', () => {
    const policy = bucketPolicy(parseRate('20/1s+60/60s'));
    const slots = drain(policy, freshBucket(policy, T0), 200);
    expect(maxInAnyWindow(slots, 1_000)).toBeLessThanOrEqual(20);
    expect(maxInAnyWindow(slots, 60_000)).toBeLessThanOrEqual(60);
  });

  it('hands out leases of several tokens when asked and still respects the limit', () => {
    const policy = bucketPolicy(parseRate('6000/60s'));
    const slots = drain(policy, freshBucket(policy, T0), 3000, policy.leaseMax);
    expect(maxInAnyWindow(slots, 60_000)).toBeLessThanOrEqual(6000);
    const first = reserveTokens(freshBucket(policy, T0), policy, T0, 50);
    expect(first.granted).toBe(policy.leaseMax);
  });

  it('defers instead of reserving a slot beyond the horizon', () => {
    const policy = bucketPolicy(parseRate('cloud'), { maxReserveAheadMs: 3_000 });
    let state = freshBucket(policy, T0);
    const kinds: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = reserveTokens(state, policy, T0, 1);
      kinds.push(r.kind);
      state = r.state;
    }
    // slot spacing is 1250 ms: slots at +0, +1250, +2500 fit in 3000 ms, +3750 does not
    expect(kinds).toEqual(['granted', 'granted', 'granted', 'deferred', 'deferred']);
    const deferred = reserveTokens(state, policy, T0, 1);
    expect(deferred.kind).toBe('deferred');
    if (deferred.kind === 'deferred') expect(deferred.retryAt).toBeCloseTo(T0 + 3_750 - 3_000);
  });
});

describe('throttleBucket', () => {
  const policy = bucketPolicy(parseRate('600/60s'));

  it('blocks every slot until now + Retry-After and cuts the rate by 0.7', () => {
    const throttled = throttleBucket(freshBucket(policy, T0), policy, T0, 4_000);
    expect(throttled.blockedUntil).toBe(T0 + 4_000);
    expect(throttled.factor).toBeCloseTo(0.7);
    const r = reserveTokens(throttled, policy, T0 + 100, 1);
    expect(r.kind).toBe('granted');
    if (r.kind === 'granted') expect(r.readyAt).toBeGreaterThanOrEqual(T0 + 4_000);
    const spacing = 1 / (policy.windows[0]!.ratePerMs * 0.7);
    const slots = drain(policy, throttled, 3);
    expect(slots[2]! - slots[1]!).toBeCloseTo(spacing, 0);
  });

  it('uses the default Retry-After when Twenty sends none', () => {
    const throttled = throttleBucket(freshBucket(policy, T0), policy, T0, 0);
    expect(throttled.blockedUntil).toBe(T0 + policy.defaultRetryAfterMs);
  });

  it('decreases once for a burst of 429s reported by several loaders', () => {
    let state = throttleBucket(freshBucket(policy, T0), policy, T0, 1_000);
    state = throttleBucket(state, policy, T0 + 10, 1_000);
    state = throttleBucket(state, policy, T0 + 20, 2_000);
    expect(state.factor).toBeCloseTo(0.7);
    expect(state.blockedUntil).toBe(T0 + 2_020);
    const at = T0 + policy.decreaseCooldownMs + 30;
    const recovered = 0.7 + (policy.recoveryStep * (at - (T0 + 2_020))) / policy.recoveryIntervalMs;
    const later = throttleBucket(state, policy, at, 1_000);
    expect(later.factor).toBeCloseTo(recovered * 0.7);
  });

  it('never decreases below the floor', () => {
    let state = freshBucket(policy, T0);
    for (let i = 0; i < 30; i++) {
      state = throttleBucket(state, policy, T0 + i * policy.decreaseCooldownMs, 1);
    }
    expect(state.factor).toBeCloseTo(policy.minFactor);
  });

  it('recovers additively after the block ends, back to the configured rate and no further', () => {
    const throttled = throttleBucket(freshBucket(policy, T0), policy, T0, 1_000);
    const during = advanceBucket(throttled, policy, T0 + 900);
    expect(during.factor).toBeCloseTo(0.7);
    const tenSecondsAfter = advanceBucket(during, policy, T0 + 1_000 + policy.recoveryIntervalMs);
    expect(tenSecondsAfter.factor).toBeCloseTo(0.75);
    const muchLater = advanceBucket(tenSecondsAfter, policy, T0 + 3_600_000);
    expect(muchLater.factor).toBe(1);
  });
});

describe('normalizeBucket', () => {
  it('starts over when the stored windows no longer match the configured rate', () => {
    const one = bucketPolicy(parseRate('cloud'));
    const two = bucketPolicy(parseRate('self-hosted'));
    const stored = throttleBucket(freshBucket(one, T0), one, T0, 5_000);
    const normalized = normalizeBucket(stored, two, T0 + 10);
    expect(normalized.tokens).toHaveLength(2);
    expect(normalized.blockedUntil).toBe(T0 + 5_000);
    expect(normalizeBucket(stored, one, T0 + 10)).toBe(stored);
  });
});
