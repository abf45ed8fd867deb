/**
 * Ferry's error families. Step Functions matches on `name`: ASL `Retry` lists the transient
 * names, `Catch` the terminal ones. Messages name the file/field and the rule, never a value (PHI).
 */
export class AppError extends Error {
  /** Whether retrying the same work later can succeed. */
  readonly transient: boolean = false;
  /** Stable, machine-readable code for operators and tests. */
  readonly code: string;

  constructor(message: string, options: { cause?: unknown; code?: string } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = options.code ?? new.target.name;
  }
}

/** Retryable: network failures, 5xx, throttling that outlived the client's own backoff. */
export class TransientError extends AppError {
  override readonly transient = true;
}

/** Twenty answered 429 and the client gave up waiting; the rate limiter should slow down. */
export class RateLimitedError extends TransientError {
  readonly retryAfterMs: number;
  constructor(message: string, retryAfterMs: number, options: { cause?: unknown } = {}) {
    super(message, options);
    this.retryAfterMs = retryAfterMs;
  }
}

/** Bad input that no retry can fix: a malformed export, an invalid mapping file, bad options. */
export class ValidationError extends AppError {}

/** Usage or configuration problem (CLI exit code 2). */
export class ConfigError extends AppError {}

/** The Twenty API key is missing, wrong or lacks a permission. */
export class AuthError extends AppError {}

/** The target's schema cannot take the planned mapping (name clash, type mismatch). */
export class SchemaConflictError extends AppError {}

/** A run, object or record that was expected is not there. */
export class NotFoundError extends AppError {}

/** Another run holds the lock on the same drop folder. */
export class RunLockedError extends AppError {}

/**
 * Twenty refused a request with 400/413 (validation, duplicates, too many records, upsert conflict).
 * Terminal for the request as sent; `reasons` are Twenty's messages with values masked. Part of the
 * Twenty port's contract: the loader tells a refused record from a failed run by this class, whatever
 * implements the port (the HTTP client, a test fake).
 */
export class TwentyRejectedError extends ValidationError {
  readonly status: number;
  readonly reasons: readonly string[];
  constructor(message: string, status: number, reasons: readonly string[]) {
    super(message);
    this.status = status;
    this.reasons = reasons;
  }
}

/** True for errors that a retry may fix; unknown errors count as terminal. */
export function isTransient(error: unknown): boolean {
  return error instanceof AppError && error.transient;
}

/** A message safe to show or log: the error's own message for AppErrors, the class name otherwise. */
export function safeMessage(error: unknown): string {
  if (error instanceof AppError) return error.message;
  if (error instanceof Error) return `${error.name} (details withheld)`;
  return 'unknown error';
}
