import type { Clock } from '../ports/clock.ts';
import {
  AuthError,
  NotFoundError,
  RateLimitedError,
  TransientError,
  TwentyRejectedError,
} from '../ports/errors.ts';
import type { Log } from '../ports/log.ts';
import type { RequestGate, TwentyClientStats } from '../ports/twenty.ts';
import { sanitizeTwentyMessage } from './sanitize.ts';

export interface TransportOptions {
  readonly baseUrl: string;
  readonly apiKey: string;
  readonly clock: Clock;
  readonly log: Log;
  readonly limiter?: RequestGate;
  /** Per-attempt timeout (default 30 s). */
  readonly timeoutMs: number;
  /** Retries after 5xx, timeouts and socket errors before a TransientError (default 5). */
  readonly maxRetries: number;
  /** Consecutive 429s waited out before a RateLimitedError (default 30). */
  readonly maxThrottleRetries: number;
  /** First backoff ceiling; doubles per attempt up to `maxBackoffMs` (full jitter). */
  readonly baseBackoffMs: number;
  readonly maxBackoffMs: number;
  /** Upper bound on one 429 wait, whatever Twenty asks for. */
  readonly maxThrottleWaitMs: number;
  /** Random source for jitter; injectable so tests are deterministic. */
  readonly random: () => number;
  /** Field/object names that may stay readable in sanitized messages. */
  readonly knownNames: () => ReadonlySet<string>;
}

export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'DELETE';

export interface TwentyRequest {
  readonly method: HttpMethod;
  /** Path below the base URL, without a query string. */
  readonly path: string;
  readonly query?: Readonly<Record<string, string | number | boolean | undefined>>;
  readonly json?: unknown;
  readonly form?: FormData;
  /** Return the 2xx body as bytes instead of parsed JSON (file downloads). */
  readonly raw?: boolean;
}

export interface TwentyResponse {
  readonly status: number;
  readonly body: unknown;
}

/** Default wait after a v1 429 without a parsable window. */
const DEFAULT_THROTTLE_WAIT_MS = 1_000;
const UUID_IN_PATH = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;

/** The route with ids replaced, safe for logs and error messages (no query string: filters hold values). */
export function routeOf(method: string, path: string): string {
  return `${method} ${path.replace(UUID_IN_PATH, ':id')}`;
}

/** Twenty's error messages from `{messages:[…]}`, `{message}` or GraphQL `{errors:[{message}]}`. */
export function messagesOf(body: unknown): string[] {
  if (typeof body !== 'object' || body === null) return typeof body === 'string' && body ? [body] : [];
  const record = body as Record<string, unknown>;
  const out: string[] = [];
  if (Array.isArray(record.messages))
    out.push(...record.messages.filter((m): m is string => typeof m === 'string'));
  if (typeof record.message === 'string') out.push(record.message);
  if (Array.isArray(record.errors)) {
    for (const error of record.errors) {
      if (
        typeof error === 'object' &&
        error !== null &&
        typeof (error as { message?: unknown }).message === 'string'
      ) {
        out.push((error as { message: string }).message);
      }
    }
  }
  return out;
}

/**
 * How long Twenty wants us to wait after a 429: the `Retry-After` header or `retryAfterSeconds`
 * (v2), else the window in v1's "Limit reached (N tokens per W ms)" — waiting one window is the
 * only wait guaranteed to clear a fixed window — else a default; always bounded.
 */
export function throttleWaitMs(headers: Headers, body: unknown, maxWaitMs: number): number {
  const bound = (ms: number) => Math.min(maxWaitMs, Math.max(100, Math.ceil(ms)));
  const header = headers.get('retry-after');
  if (header !== null && header.trim() !== '') {
    const seconds = Number(header);
    if (Number.isFinite(seconds)) return bound(seconds * 1000);
    const date = Date.parse(header);
    if (Number.isFinite(date)) return bound(date - Date.now());
  }
  if (typeof body === 'object' && body !== null) {
    const seconds = (body as { retryAfterSeconds?: unknown }).retryAfterSeconds;
    if (typeof seconds === 'number' && Number.isFinite(seconds)) return bound(seconds * 1000);
  }
  for (const message of messagesOf(body)) {
    const window = /per\s+(\d+)\s*ms/i.exec(message);
    if (window?.[1]) return bound(Number(window[1]));
  }
  return bound(DEFAULT_THROTTLE_WAIT_MS);
}

function networkCode(error: unknown): string {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current; depth++) {
    if (typeof current === 'object' && current !== null) {
      const { name, code } = current as { name?: unknown; code?: unknown };
      if (name === 'TimeoutError') return 'timeout';
      if (typeof code === 'string') return code;
      current = (current as { cause?: unknown }).cause;
    } else break;
  }
  return error instanceof Error ? error.name : 'network';
}

/**
 * One HTTP exchange with Twenty, with Ferry's failure policy: auth and 404 are typed and terminal,
 * 400 is a TwentyRejectedError the caller may bisect, 429 waits as told and tells the gate,
 * 5xx/timeouts/socket errors back off exponentially with full jitter and end as TransientError
 * (the name ASL Retry matches). Nothing from a payload reaches a log or a message.
 */
export class TwentyTransport {
  readonly #options: TransportOptions;
  readonly #byStatus: Record<string, number> = {};
  #requests = 0;
  #retries = 0;
  #throttled = 0;
  #networkErrors = 0;

  constructor(options: TransportOptions) {
    this.#options = options;
  }

  get baseUrl(): string {
    return this.#options.baseUrl;
  }

  stats(): TwentyClientStats {
    return {
      requests: this.#requests,
      retries: this.#retries,
      throttled: this.#throttled,
      networkErrors: this.#networkErrors,
      byStatus: { ...this.#byStatus },
    };
  }

  async send(request: TwentyRequest): Promise<TwentyResponse> {
    const { clock, log, limiter } = this.#options;
    const route = routeOf(request.method, request.path);
    const url = this.#url(request);
    let failures = 0;
    let throttles = 0;
    for (;;) {
      if (limiter) await limiter.acquire();
      this.#requests++;
      const started = clock.now();
      let response: Response;
      let body: unknown;
      try {
        response = await fetch(url, {
          method: request.method,
          headers: this.#headers(request),
          body: request.form ?? (request.json === undefined ? undefined : JSON.stringify(request.json)),
          signal: AbortSignal.timeout(this.#options.timeoutMs),
        });
        body =
          request.raw && response.ok
            ? new Uint8Array(await response.arrayBuffer())
            : await readBody(response);
      } catch (error) {
        this.#networkErrors++;
        const code = networkCode(error);
        failures++;
        if (failures > this.#options.maxRetries) {
          throw new TransientError(`Twenty did not answer ${route} after ${failures} attempts (${code})`, {
            cause: error,
          });
        }
        await this.#backoff(route, failures, code);
        continue;
      }
      const status = response.status;
      this.#byStatus[status] = (this.#byStatus[status] ?? 0) + 1;
      if (status >= 200 && status < 300) {
        limiter?.onSuccess?.();
        log.debug('twenty request', { route, status, ms: clock.now() - started });
        return { status, body };
      }
      if (status === 401 || status === 403) {
        throw new AuthError(`Twenty rejected the API key (${status})`);
      }
      if (status === 404) {
        throw new NotFoundError(`Twenty has no such resource: ${route}`);
      }
      if (status === 429) {
        this.#throttled++;
        throttles++;
        const waitMs = throttleWaitMs(response.headers, body, this.#options.maxThrottleWaitMs);
        limiter?.onThrottled(waitMs);
        if (throttles > this.#options.maxThrottleRetries) {
          throw new RateLimitedError(`Twenty kept rate-limiting ${route} (${throttles} times)`, waitMs);
        }
        this.#retries++;
        log.warn('twenty throttled', { route, waitMs, attempt: throttles });
        await clock.sleep(waitMs);
        continue;
      }
      if (status >= 500) {
        failures++;
        if (failures > this.#options.maxRetries) {
          throw new TransientError(`Twenty answered ${status} on ${route} after ${failures} attempts`);
        }
        await this.#backoff(route, failures, String(status));
        continue;
      }
      const names = this.#options.knownNames();
      const reasons = messagesOf(body).map((message) => sanitizeTwentyMessage(message, names));
      throw new TwentyRejectedError(
        `Twenty refused ${route} (${status}): ${reasons.join('; ') || 'no reason given'}`,
        status,
        reasons,
      );
    }
  }

  async #backoff(route: string, attempt: number, cause: string): Promise<void> {
    const ceiling = Math.min(this.#options.maxBackoffMs, this.#options.baseBackoffMs * 2 ** (attempt - 1));
    const waitMs = Math.floor(this.#options.random() * ceiling);
    this.#retries++;
    this.#options.log.warn('twenty retry', { route, attempt, cause, waitMs });
    await this.#options.clock.sleep(waitMs);
  }

  #url(request: TwentyRequest): string {
    const url = new URL(request.path.replace(/^\//, ''), `${this.#options.baseUrl.replace(/\/+$/, '')}/`);
    for (const [key, value] of Object.entries(request.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    return url.toString();
  }

  #headers(request: TwentyRequest): Record<string, string> {
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.#options.apiKey}`,
      accept: 'application/json',
    };
    if (request.json !== undefined && !request.form) headers['content-type'] = 'application/json';
    return headers;
  }
}

async function readBody(response: Response): Promise<unknown> {
  const text = await response.text();
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text.slice(0, 2000);
  }
}
