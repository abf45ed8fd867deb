import { z } from 'zod';
import type { ObjectStore } from '../../ports/object-store.ts';
import type { TwentyApi } from '../../ports/twenty.ts';
import { NotFoundError, ValidationError } from '../errors.ts';
import { chunked } from '../ledger/entry.ts';
import { type ChunkLoadStats, type MappedLine, MappedLineSchema } from '../load/format.ts';
import { loadRejectsKey, readArtifactIfPresent, readBackProgressKey } from '../run-layout.ts';
import { isPopulated, mismatchedFields } from './compare.ts';
import type { Mismatch, ReadBack } from './report.ts';

/**
 * Ids per read-back request: as many as a rollback's `id[in]` delete names in its URL (Twenty's
 * MUTATION_MAXIMUM_AFFECTED_RECORDS, 100), within the find-many cap of current Twenty (200). A server
 * that clamps `limit` lower answers with more pages, which `findMany` follows.
 */
export const READ_BACK_PAGE = 100;

/** Mismatches listed in reconciliation.json (all are counted). */
const MISMATCH_LIST_CAP = 1000;

/** Read-back findings of one entity, before they join its balance. */
export interface EntityCheck {
  verified: number;
  mismatched: number;
  missing: number;
  fields: Record<string, { records: number; populated: number; matched: number }>;
}

export interface ReadBackResult {
  byObject: Record<string, ReadBack>;
  byEntity: Map<string, EntityCheck>;
  mismatchCount: number;
  mismatches: Mismatch[];
}

/**
 * The read-back's saved progress (`runs/<runId>/reconcile/read-back.json`): where the next tick
 * starts (chunk in key order, page within it) and the findings so far — counts and record ids only.
 */
interface ReadBackProgress {
  chunk: number;
  page: number;
  done: boolean;
  ticks: number;
  byObject: Record<string, ReadBack>;
  byEntity: Record<string, EntityCheck>;
  mismatchCount: number;
  mismatches: Mismatch[];
}

async function readBackProgress(work: ObjectStore, runId: string): Promise<ReadBackProgress> {
  const saved = await readArtifactIfPresent(work, readBackProgressKey(runId), z.unknown());
  if (saved !== undefined) return saved as ReadBackProgress;
  return {
    chunk: 0,
    page: 0,
    done: false,
    ticks: 0,
    byObject: {},
    byEntity: {},
    mismatchCount: 0,
    mismatches: [],
  };
}

/** Saves the position (`chunk`, `page`, `done`) and the findings so far into the progress object. */
async function saveProgress(
  work: ObjectStore,
  runId: string,
  progress: ReadBackProgress,
  findings: ReadBackResult,
  position: { chunk: number; page: number; done: boolean },
): Promise<void> {
  Object.assign(progress, {
    ...position,
    byObject: findings.byObject,
    byEntity: Object.fromEntries(findings.byEntity),
    mismatchCount: findings.mismatchCount,
    mismatches: findings.mismatches,
  });
  await work.put(readBackProgressKey(runId), JSON.stringify(progress), 'application/json');
}

/**
 * Source ids of a chunk's records Twenty refused (their load rejects; a refused activity target
 * does not make its parent unloaded).
 */
export async function refusedSourceIds(
  work: ObjectStore,
  runId: string,
  chunk: Pick<ChunkLoadStats, 'phase' | 'entity' | 'key'>,
): Promise<Set<string>> {
  const ids = new Set<string>();
  const key = loadRejectsKey(runId, chunk.phase, chunk.entity, chunk.key);
  // Bounded by the chunk's records and their targets: read whole, one request (no existence check).
  const text = await textIfPresent(work, key);
  for (const raw of text?.split('\n') ?? []) {
    if (raw.trim() === '') continue;
    const line = parseLine(key, raw) as { sourceId?: unknown; reason?: unknown } | null;
    if (typeof line?.sourceId === 'string' && line.reason !== 'TARGET_REJECTED') ids.add(line.sourceId);
  }
  return ids;
}

/** An object's text, or undefined when there is none (one request where exists + get took two). */
async function textIfPresent(work: ObjectStore, key: string): Promise<string | undefined> {
  try {
    return await work.getText(key);
  } catch (error) {
    if (error instanceof NotFoundError) return undefined;
    throw error;
  }
}

function parseLine(key: string, raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    throw new ValidationError(`${key}: a line is not JSON`);
  }
}

/**
 * Source ids of every line of the load chunks one Reconcile invocation parsed, by chunk key: the
 * read-back fills it, the search for records missing from the export reads it instead of parsing
 * those chunks a second time.
 */
export type ParsedChunkIds = Map<string, string[]>;

/**
 * The chunk's mapped lines that loaded: written in this run, or not refused (found unchanged);
 * undefined when the chunk is gone. The chunk is read whole (a load chunk is at most 20,000 lines,
 * all kept here anyway); the source id of every line goes to `parsed` when given.
 */
async function loadedLines(
  work: ObjectStore,
  runId: string,
  chunk: ChunkLoadStats,
  parsed: ParsedChunkIds | undefined,
): Promise<MappedLine[] | undefined> {
  const text = await textIfPresent(work, chunk.key);
  if (text === undefined) return undefined;
  const written = new Set(chunk.writtenIds);
  const refused = await refusedSourceIds(work, runId, chunk);
  const loaded: MappedLine[] = [];
  const sourceIds: string[] = [];
  for (const raw of text.split('\n')) {
    if (raw.trim() === '') continue;
    const line = MappedLineSchema.safeParse(parseLine(chunk.key, raw));
    if (!line.success) throw new ValidationError(`${chunk.key}: a line is not a mapped record`);
    sourceIds.push(line.data.sourceId);
    if (written.has(line.data.id) || !refused.has(line.data.sourceId)) loaded.push(line.data);
  }
  parsed?.set(chunk.key, sourceIds);
  return loaded;
}

/**
 * What Twenty holds now for one page of mapped records: one `id[in]` request at depth 0, by record
 * id (Reconcile's read-back and the sample diff both read this way).
 */
export async function fetchPage(
  twenty: TwentyApi,
  object: string,
  page: readonly Pick<MappedLine, 'id'>[],
): Promise<Map<string, Record<string, unknown>>> {
  const found = new Map<string, Record<string, unknown>>();
  for await (const record of twenty.findMany(object, {
    filter: { field: 'id', op: 'in', value: page.map((line) => line.id) },
    limit: READ_BACK_PAGE,
    depth: 0,
  })) {
    found.set(record.id, record);
  }
  return found;
}

/** Counts one page's records as missing, verified or mismatched, and tallies every field sent. */
function tallyPage(
  chunk: ChunkLoadStats,
  page: readonly MappedLine[],
  found: ReadonlyMap<string, Record<string, unknown>>,
  counts: ReadBack,
  check: EntityCheck,
  findings: ReadBackResult,
): void {
  for (const line of page) {
    const actual = found.get(line.id);
    if (actual === undefined) {
      counts.missing++;
      check.missing++;
      continue;
    }
    counts.verified++;
    const differing = new Set(mismatchedFields(line.data, actual));
    for (const [field, value] of Object.entries(line.data)) {
      if (field === 'id') continue;
      const tally = check.fields[field] ?? { records: 0, populated: 0, matched: 0 };
      tally.records++;
      if (isPopulated(value)) tally.populated++;
      if (!differing.has(field)) tally.matched++;
      check.fields[field] = tally;
    }
    if (differing.size === 0) check.verified++;
    else {
      check.mismatched++;
      for (const field of differing) {
        findings.mismatchCount++;
        if (findings.mismatches.length < MISMATCH_LIST_CAP)
          findings.mismatches.push({ entity: chunk.entity, object: chunk.object, field, recordId: line.id });
      }
    }
  }
}

/**
 * Reads back every record each chunk loaded (written in this run or found unchanged) with `id[in]`
 * pages at depth 0, through the same rate-limited client as the loader, and compares every field
 * Prepare sent with what Twenty holds now. Findings are counts plus (entity, field, record id)
 * triples: never a value. The source ids of the chunks this call parses go to `parsed`.
 */
export async function readBack(
  work: ObjectStore,
  twenty: TwentyApi,
  runId: string,
  chunks: readonly ChunkLoadStats[],
  deadlineAt: number | undefined,
  now: () => number,
  parsed?: ParsedChunkIds,
): Promise<ReadBackResult | undefined> {
  // Time-boxed like LoadChunk: page after page until the invocation's deadline (at least one page a
  // tick); undefined = not done, call again. The position and findings are saved when the tick stops
  // and after each chunk, not after each page: reading is harmless to repeat, so an interrupted tick
  // re-reads at most the chunk it was in, while a save per page cost more than the page's request.
  const progress = await readBackProgress(work, runId);
  const findings: ReadBackResult = {
    byObject: progress.byObject,
    byEntity: new Map(Object.entries(progress.byEntity)),
    mismatchCount: progress.mismatchCount,
    mismatches: progress.mismatches,
  };
  const save = (chunk: number, page: number, done: boolean) =>
    saveProgress(work, runId, progress, findings, { chunk, page, done });
  progress.ticks++;
  let pagesThisTick = 0;
  for (const [c, chunk] of chunks.entries()) {
    if (progress.done) break;
    if (c < progress.chunk) continue;
    const loaded = await loadedLines(work, runId, chunk, parsed);
    if (loaded === undefined || loaded.length === 0) continue;
    const counts = findings.byObject[chunk.object] ?? { verified: 0, missing: 0 };
    const check = findings.byEntity.get(chunk.entity) ?? {
      verified: 0,
      mismatched: 0,
      missing: 0,
      fields: {},
    };
    const keep = () => {
      findings.byObject[chunk.object] = counts;
      findings.byEntity.set(chunk.entity, check);
    };
    const pages = chunked(loaded, READ_BACK_PAGE);
    // One page ahead while in time: Twenty answers the next page while this one is compared.
    let ahead: { page: number; found: Promise<Map<string, Record<string, unknown>>> } | undefined;
    const request = (p: number, page: readonly MappedLine[]) => {
      const found = fetchPage(twenty, chunk.object, page);
      // Handled here so a page read ahead that fails never goes unobserved; awaiting it still throws.
      found.catch(() => undefined);
      return { page: p, found };
    };
    for (const [p, page] of pages.entries()) {
      if (c === progress.chunk && p < progress.page) continue;
      if (pagesThisTick > 0 && deadlineAt !== undefined && now() >= deadlineAt) {
        // A page read ahead is dropped (the next tick reads it again), but not left in flight.
        await ahead?.found.catch(() => undefined);
        keep();
        await save(c, p, false);
        return undefined;
      }
      pagesThisTick++;
      const current = ahead?.page === p ? ahead : request(p, page);
      const next = pages[p + 1];
      ahead =
        next !== undefined && (deadlineAt === undefined || now() < deadlineAt)
          ? request(p + 1, next)
          : undefined;
      tallyPage(chunk, page, await current.found, counts, check, findings);
    }
    keep();
    if (deadlineAt !== undefined && c + 1 < chunks.length) await save(c + 1, 0, false);
  }
  if (!progress.done) await save(chunks.length, 0, true);
  return findings;
}
