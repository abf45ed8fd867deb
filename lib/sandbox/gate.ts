import { json, type SandboxResponse } from './http.ts';
import { FaultInjector, RequestRateLimiter } from './limits.ts';
import type { ResolvedSandboxOptions } from './options.ts';

/** What the gate decided for one request: answer with `refusal` instead of routing, or stall `delayMs`. */
export interface Admission {
  readonly refusal?: SandboxResponse;
  readonly delayMs?: number;
}

/**
 * The rate limiter and the seeded fault injector, applied to each authorised API request before it
 * is routed, with the 429/500/503/reset answers they give and counters of both for the stats.
 */
export class RequestGate {
  readonly #options: ResolvedSandboxOptions;
  readonly #now: () => number;
  readonly #limiter: RequestRateLimiter;
  readonly #faults: FaultInjector;
  readonly #faultCounts = new Map<string, number>();
  #rateLimited = 0;

  constructor(options: ResolvedSandboxOptions, now: () => number) {
    this.#options = options;
    this.#now = now;
    this.#limiter = new RequestRateLimiter([options.rateShort, options.rateLong], now());
    this.#faults = new FaultInjector(options.faults, options.seed);
  }

  /** Requests answered 429, by the limiter or by an injected fault. */
  get rateLimited(): number {
    return this.#rateLimited;
  }

  /** Injected faults by kind. */
  faultCounts(): Record<string, number> {
    return Object.fromEntries(this.#faultCounts);
  }

  admit(): Admission {
    const decision = this.#limiter.take(this.#now());
    if (!decision.allowed) {
      return {
        refusal: this.#rateLimitedResponse(
          decision.retryAfterMs,
          decision.window.limit,
          decision.window.windowMs,
          decision.remaining,
          decision.resetAtMs,
        ),
      };
    }

    let delayMs: number | undefined;
    const fault = this.#faults.next();
    if (fault) {
      this.#faultCounts.set(fault.kind, (this.#faultCounts.get(fault.kind) ?? 0) + 1);
      if (fault.kind === 'reset') return { refusal: { status: 0, headers: {}, body: null, reset: true } };
      if (fault.kind === '429') {
        const window = this.#options.rateShort ?? this.#options.rateLong ?? { limit: 100, windowMs: 60_000 };
        return {
          refusal: this.#rateLimitedResponse(1000, window.limit, window.windowMs, 0, this.#now() + 1000),
        };
      }
      if (fault.kind === '500') {
        return {
          refusal: json(500, {
            statusCode: 500,
            error: 'InternalServerErrorException',
            messages: ['Internal server error'],
          }),
        };
      }
      if (fault.kind === '503') {
        return {
          refusal: json(503, {
            statusCode: 503,
            error: 'ServiceUnavailableException',
            messages: ['Service Unavailable'],
          }),
        };
      }
      delayMs = fault.delayMs;
    }
    return { delayMs };
  }

  #rateLimitedResponse(
    retryAfterMs: number,
    limit: number,
    windowMs: number,
    remaining: number,
    resetAtMs: number,
  ): SandboxResponse {
    this.#rateLimited += 1;
    if (this.#options.flavor === 'v1') {
      return json(429, { statusCode: 429, messages: [`Limit reached (${limit} tokens per ${windowMs} ms)`] });
    }
    const retryAfterSeconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
    return json(
      429,
      {
        statusCode: 429,
        error: 'RATE_LIMITED',
        messages: [`Limit reached (${limit} tokens per ${windowMs} ms)`],
        retryAfterSeconds,
      },
      {
        'retry-after': String(retryAfterSeconds),
        'x-ratelimit-limit': String(limit),
        'x-ratelimit-remaining': String(remaining),
        'x-ratelimit-reset': String(Math.ceil(resetAtMs / 1000)),
      },
    );
  }
}
