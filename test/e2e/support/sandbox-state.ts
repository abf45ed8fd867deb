import type { SandboxDump } from '../../../lib/sandbox/index.ts';

/** Fields Twenty sets itself (times, positions) or that name an upload's random path: not part of the comparison. */
export const SERVER_SET: ReadonlySet<string> = new Set([
  'createdAt',
  'updatedAt',
  'deletedAt',
  'position',
  'createdBy',
  'fullPath',
  'file',
]);

/** Every active record by object and id, without server-set fields: what two runs must agree on. */
export function comparable(dump: SandboxDump): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const [object, records] of Object.entries(dump.records)) {
    const byId: Record<string, unknown> = {};
    for (const record of records) {
      if (record.deletedAt != null) continue;
      byId[String(record.id)] = Object.fromEntries(
        Object.entries(record).filter(([k]) => !SERVER_SET.has(k)),
      );
    }
    out[object] = byId;
  }
  return out;
}

/** Records (active or soft-deleted) sharing an id with another record of the same object: `object:id`. */
export function duplicateIds(dump: SandboxDump): string[] {
  const duplicates: string[] = [];
  for (const [object, records] of Object.entries(dump.records)) {
    const seen = new Set<string>();
    for (const record of records) {
      const id = String(record.id);
      if (seen.has(id)) duplicates.push(`${object}:${id}`);
      seen.add(id);
    }
  }
  return duplicates;
}

/** How many active records the comparable state holds, over all objects. */
export function recordCount(state: Record<string, Record<string, unknown>>): number {
  return Object.values(state).reduce((n, byId) => n + Object.keys(byId).length, 0);
}
