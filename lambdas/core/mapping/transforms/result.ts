import type { ReasonCode, WarningCode } from '../../validation/codes.ts';

/**
 * What every transform returns: a value (possibly null for blank input) with the warnings it
 * raised, or a failure naming the reason code and the rule — never the offending value (PHI).
 */
export type TransformResult<T> =
  | { readonly ok: true; readonly value: T; readonly warnings?: readonly WarningCode[] }
  | { readonly ok: false; readonly reason: ReasonCode; readonly rule: string };

/** Shared frozen result for blank input, so the hot path allocates nothing for empty cells. */
export const BLANK: TransformResult<null> = Object.freeze({ ok: true, value: null });

export function ok<T>(value: T, warnings?: readonly WarningCode[]): TransformResult<T> {
  return warnings === undefined ? { ok: true, value } : { ok: true, value, warnings };
}

export function fail(reason: ReasonCode, rule: string): TransformResult<never> {
  return { ok: false, reason, rule };
}
