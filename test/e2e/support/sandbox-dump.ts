import { expect } from 'vitest';
import type { SandboxDump, SandboxStats } from '../../../lib/sandbox/index.ts';

/** Writes (POST/PATCH/DELETE) and reads Twenty saw, the sandbox's own inspection routes aside. */
export function requestCounts(stats: SandboxStats): { total: number; writes: number; deletes: number } {
  let total = 0;
  let writes = 0;
  let deletes = 0;
  for (const [route, byStatus] of Object.entries(stats.requests)) {
    if (route.includes('__sandbox')) continue;
    const n = Object.values(byStatus).reduce((a, b) => a + b, 0);
    total += n;
    if (/^(POST|PATCH|DELETE|PUT) /.test(route)) writes += n;
    if (route.startsWith('DELETE ')) deletes += n;
  }
  return { total, writes, deletes };
}

/** Routes in the stats are `METHOD /template`; make sure that holds, else the counts above mean nothing. */
export function expectMethodRoutes(stats: SandboxStats): void {
  const routes = Object.keys(stats.requests).filter((r) => !r.includes('__sandbox'));
  expect(routes.length).toBeGreaterThan(0);
  for (const route of routes) expect(route).toMatch(/^(GET|POST|PATCH|DELETE|PUT) \//);
}

/** Null, '', [] or a composite whose every part is empty: how Twenty stores "no value". */
export function isEmpty(value: unknown): boolean {
  if (value === null || value === undefined || value === '') return true;
  if (Array.isArray(value)) return value.length === 0;
  if (typeof value === 'object') return Object.values(value).every(isEmpty);
  return false;
}

/**
 * Records, field values and soft-delete state (`deletedAt`) per object, ordered by id, minus
 * `updatedAt` (a restore moves it). With a `reference`, fields the reference's records did not have
 * are left out when empty (custom fields a run created stay without `--schema`), and so are objects
 * without records (custom objects it created).
 */
export function records(
  dump: SandboxDump,
  reference?: SandboxDump,
): Record<string, Record<string, unknown>[]> {
  const out: Record<string, Record<string, unknown>[]> = {};
  for (const [object, rows] of Object.entries(dump.records)) {
    if (rows.length === 0) continue;
    const known = new Set((reference?.records[object] ?? rows).flatMap((row) => Object.keys(row)));
    out[object] = [...rows]
      .map(({ updatedAt: _updated, ...rest }) =>
        Object.fromEntries(Object.entries(rest).filter(([k, v]) => known.has(k) || !isEmpty(v))),
      )
      .sort((a, b) => String(a.id).localeCompare(String(b.id)));
  }
  return out;
}
