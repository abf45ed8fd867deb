import type { Ledger } from '../../ports/ledger.ts';
import type { ObjectStore } from '../../ports/object-store.ts';
import type { IdMapRow } from '../ledger/entry.ts';
import type { ChunkLoadStats } from '../load/format.ts';
import { prepareRejectsKey } from '../run-layout.ts';
import { ndjson } from './inputs.ts';
import type { Reconciliation } from './report.ts';

/** Source ids listed per entity in `missingFromExport` (all are counted). */
const MISSING_LIST_CAP = 1000;

/**
 * Per entity, the source ids this run met: in its mapped chunks or among Prepare's rejects. A chunk
 * in `parsed` (its source ids, from a pass that already read it) is not read again.
 */
export async function seenSourceIds(
  work: ObjectStore,
  runId: string,
  entities: readonly string[],
  chunks: readonly ChunkLoadStats[],
  parsed?: ReadonlyMap<string, readonly string[]>,
): Promise<Map<string, Set<string>>> {
  const seen = new Map<string, Set<string>>(entities.map((e) => [e, new Set<string>()]));
  for (const chunk of chunks) {
    const ids = seen.get(chunk.entity);
    if (ids === undefined) continue;
    const known = parsed?.get(chunk.key);
    if (known !== undefined) {
      for (const sourceId of known) ids.add(sourceId);
      continue;
    }
    if (!(await work.exists(chunk.key))) continue;
    for await (const raw of ndjson(work, chunk.key)) {
      const sourceId = (raw as { sourceId?: unknown }).sourceId;
      if (typeof sourceId === 'string') ids.add(sourceId);
    }
  }
  if (await work.exists(prepareRejectsKey(runId)))
    for await (const raw of ndjson(work, prepareRejectsKey(runId))) {
      const { entity, sourceId } = raw as { entity?: unknown; sourceId?: unknown };
      if (typeof entity === 'string' && typeof sourceId === 'string') seen.get(entity)?.add(sourceId);
    }
  return seen;
}

/**
 * Records of an earlier run of this source that the export no longer holds: the id map's rows of
 * each entity whose source id is neither in this run's mapped chunks nor among Prepare's rejects,
 * entity by entity. A first run finds none (its id map holds only what it just wrote). With `scope`
 * (an incremental export: entity → the source ids it says were deleted) only those rows count — a
 * record such an export does not hold is unchanged, not missing. `parsed`: chunks already read
 * ({@link seenSourceIds}).
 */
export async function* missingIdMapRows(
  work: ObjectStore,
  ledger: Ledger,
  runId: string,
  sourceInstance: string,
  entities: readonly string[],
  chunks: readonly ChunkLoadStats[],
  scope?: ReadonlyMap<string, ReadonlySet<string>>,
  parsed?: ReadonlyMap<string, readonly string[]>,
): AsyncGenerator<{ readonly entity: string; readonly row: IdMapRow }> {
  const seen = await seenSourceIds(work, runId, entities, chunks, parsed);
  for (const [entity, ids] of seen)
    for await (const row of ledger.scanIdMap(sourceInstance, entity)) {
      if (ids.has(row.sourceId)) continue;
      if (scope !== undefined && !scope.get(entity)?.has(row.sourceId)) continue;
      yield { entity, row };
    }
}

/** {@link missingIdMapRows} counted per entity, with the first source ids (ids only, for the report). */
export async function missingFromExport(
  ...args: Parameters<typeof missingIdMapRows>
): Promise<Reconciliation['missingFromExport']> {
  const out: Reconciliation['missingFromExport'] = {};
  for await (const { entity, row } of missingIdMapRows(...args)) {
    const found = out[entity] ?? { count: 0, sourceIds: [] };
    out[entity] = found;
    found.count++;
    if (found.sourceIds.length < MISSING_LIST_CAP) found.sourceIds.push(row.sourceId);
  }
  return out;
}
