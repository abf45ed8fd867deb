import { describe, expect, it } from 'vitest';
import { tickDeadline } from '../../../lambdas/tasks/rollback/rollback.ts';
import {
  ROLLBACK_DEADLINE_MARGIN_MS,
  ROLLBACK_TIMEOUT_SECONDS,
} from '../../../lambdas/tasks/rollback/schema.ts';

const NOW = Date.UTC(2026, 0, 2);
/** Rollback's own bound without a handler deadline: its function's timeout minus its margin. */
const OWN = NOW + ROLLBACK_TIMEOUT_SECONDS * 1000 - ROLLBACK_DEADLINE_MARGIN_MS;

describe('tickDeadline', () => {
  it("ends the tick at the invocation's time box (deps.deadlineAt) when it comes first", () => {
    expect(tickDeadline(NOW, NOW + 1000, undefined)).toBe(NOW + 1000);
    expect(tickDeadline(NOW, NOW + 30_000, NOW + 600_000)).toBe(NOW + 30_000);
  });

  it("keeps Rollback's own bound when that comes first", () => {
    expect(tickDeadline(NOW, NOW + 840_000, undefined)).toBe(OWN);
    expect(tickDeadline(NOW, NOW + 840_000, NOW + 500_000)).toBe(NOW + 500_000);
  });

  it('falls back to its own bound when the invocation has no time box', () => {
    expect(tickDeadline(NOW, undefined, undefined)).toBe(OWN);
    expect(tickDeadline(NOW, undefined, NOW + 5000)).toBe(NOW + 5000);
  });
});
