import { z } from 'zod';
import { NotFoundError, ValidationError } from '../../core/errors.ts';
import { chunked, type IdMapRow, type LedgerEntry } from '../../core/ledger/entry.ts';
import { fileColumns, UploadedFileSchema } from '../../core/load/attachment.ts';
import { bump, decideLoad, parseNdjson, reasonField } from '../../core/load/decide.ts';
import {
  type ChunkLoadStats,
  ChunkLoadStatsSchema,
  chunkName,
  type LoadPhase,
  loadRejectsKey,
  loadStatsKey,
  type MappedLine,
  MappedLineSchema,
  type RejectLine,
} from '../../core/load/format.ts';
import type { ObjectStore } from '../../ports/object-store.ts';
import type { TwentyApi, TwentyRecord, UploadedFile } from '../../ports/twenty.ts';
import { TwentyRejectedError } from '../../twenty/transport.ts';
import { requireDep, type TaskDeps } from '../deps.ts';
import type { LoadChunkInputSchema, LoadChunkOutput } from './schema.ts';

type Input = z.infer<typeof LoadChunkInputSchema>;

/** Ids per `id[in]:[…]` read: one Twenty page, so one request per batch of records. */
const READ_PAGE = 60;

/** A record that is written in this invocation, with what the ledger needs about it. */
interface Pending {
  readonly line: MappedLine;
  op: 'created' | 'updated';
  beforeImage?: Record<string, unknown>;
  /** Decided `updated` now (not by an earlier attempt): its before-image is still to be read. */
  needsImage?: boolean;
  fileColumns?: Record<string, unknown>;
  /** The file this record's attachment points at, once uploaded (by this or an earlier attempt). */
  upload?: UploadedFile;
}

/** A record an earlier attempt of this very chunk already wrote (id map row of this run). */
interface AlreadyWritten {
  readonly line: MappedLine;
  readonly op: 'created' | 'updated';
}

/**
 * Reads and validates one mapped chunk. A line that breaks the format is a Prepare bug (or a chunk
 * tampered with), not bad source data: the chunk fails terminally naming the line, never its content.
 */
async function readChunk(work: ObjectStore, input: Input): Promise<MappedLine[]> {
  const text = await work.getText(input.key);
  const raw = parseNdjson(text, (position) => {
    throw new ValidationError(`load chunk ${input.key} line ${position}: not JSON`);
  });
  const lines = raw.map((value, index) => {
    const parsed = MappedLineSchema.safeParse(value);
    if (!parsed.success) {
      const fields = [...new Set(parsed.error.issues.map((i) => i.path.join('.') || '(line)'))].join(', ');
      throw new ValidationError(`load chunk ${input.key} record ${index + 1}: invalid ${fields}`);
    }
    return parsed.data;
  });
  if (lines.length !== input.records) {
    throw new ValidationError(
      `load chunk ${input.key} holds ${lines.length} records where the phase manifest says ${input.records}`,
    );
  }
  return lines;
}

/**
 * The Twenty records as they are now, for ids Ferry is about to overwrite: one `id[in]` read per
 * page of ids. Ids Twenty does not have are absent from the result.
 */
async function beforeImages(
  twenty: TwentyApi,
  object: string,
  ids: readonly string[],
): Promise<Map<string, Record<string, unknown>>> {
  const images = new Map<string, Record<string, unknown>>();
  for (const page of chunked(ids, READ_PAGE)) {
    for await (const record of twenty.findMany(object, {
      filter: { field: 'id', op: 'in', value: page },
      limit: READ_PAGE,
    })) {
      images.set(record.id, record);
    }
  }
  return images;
}

/**
 * Write-ahead of one chunk's decisions: the op of every record about to be written and the
 * before-image of those being overwritten, saved before the first write to Twenty. A retried
 * attempt re-uses them: re-reading after its own earlier write would store Ferry's data as the
 * "before" image, and a record whose id map the earlier attempt already wrote would count as unchanged.
 * It also records each attachment's upload as soon as Twenty returns it, before the attachment
 * record is created: a retried attempt links the file already uploaded instead of uploading it
 * again, which would leave the first upload as an orphan file in the workspace.
 * It holds before-images (PHI), so it lives in the work bucket like the chunk itself.
 */
const IntentSchema = z.object({
  runId: z.string(),
  ops: z.record(
    z.string(),
    z.object({
      op: z.enum(['created', 'updated']),
      beforeImage: z.record(z.string(), z.unknown()).optional(),
      upload: UploadedFileSchema.optional(),
    }),
  ),
});
type Intent = z.infer<typeof IntentSchema>;

export function loadIntentKey(runId: string, phase: LoadPhase, entity: string, chunkKey: string): string {
  return `runs/${runId}/load-intent/${phase}/${entity}/${chunkName(chunkKey)}.json`;
}

async function readIntent(work: ObjectStore, key: string, runId: string): Promise<Intent['ops']> {
  if (!(await work.exists(key))) return {};
  const parsed = IntentSchema.safeParse(JSON.parse(await work.getText(key)));
  return parsed.success && parsed.data.runId === runId ? parsed.data.ops : {};
}

function outputOf(stats: ChunkLoadStats): LoadChunkOutput {
  return {
    key: stats.key,
    created: stats.created,
    updated: stats.updated,
    unchanged: stats.unchanged,
    rejected: Object.values(stats.rejected).reduce((sum, n) => sum + n, 0),
  };
}

/**
 * LoadChunk: writes one mapped chunk to Twenty. Per record, the id map decides: same content hash →
 * unchanged (nothing sent); other hash or a pre-existing Twenty record matched by email/domain →
 * its current state is read and kept in the ledger as a before-image, then upserted; otherwise
 * created. Upserts carry Ferry's deterministic ids, so a retried chunk rewrites the same rows.
 * Then the task/note targets of the parents that were written, attachments' files before their
 * records, the ledger and id map, the rejects, the stats file (also the "chunk done" marker) and
 * the run counters. Returns counts only.
 */
export async function loadChunk(input: Input, deps: TaskDeps): Promise<LoadChunkOutput> {
  const ledger = requireDep(deps, 'ledger');
  const phase: LoadPhase = input.phase;
  const statsKey = loadStatsKey(input.runId, phase, input.entity, input.key);
  if (await deps.work.exists(statsKey)) {
    const done = ChunkLoadStatsSchema.safeParse(JSON.parse(await deps.work.getText(statsKey)));
    if (done.success && done.data.runId === input.runId) return outputOf(done.data);
  }
  const twenty = await requireDep(deps, 'twenty')();
  const statsBefore = twenty.stats();
  const lines = await readChunk(deps.work, input);
  const idMap = await ledger.getIdMap(
    input.sourceInstance,
    input.entity,
    lines.map((line) => line.sourceId),
  );

  const rejected: Record<string, number> = {};
  const rejects: RejectLine[] = [];
  const reject = (line: MappedLine, field: string, reason: string, rule: string) => {
    bump(rejected, reason);
    rejects.push({
      file: input.key,
      line: line.line,
      entity: input.entity,
      sourceId: line.sourceId,
      field,
      reason,
      rule,
    });
  };

  const intentKey = loadIntentKey(input.runId, phase, input.entity, input.key);
  const earlier = await readIntent(deps.work, intentKey, input.runId);
  let unchanged = 0;
  const pending: Pending[] = [];
  const already: AlreadyWritten[] = [];
  for (const line of lines) {
    const row = idMap.get(line.sourceId);
    const decision = decideLoad(line, row);
    const before = earlier[line.sourceId];
    if (decision === 'unchanged') {
      // Written by an interrupted attempt of this chunk: report what that attempt did.
      if (row?.runId === input.runId && before !== undefined) already.push({ line, op: before.op });
      else unchanged++;
    } else if (before !== undefined) {
      pending.push({
        line,
        op: before.op,
        ...(before.beforeImage ? { beforeImage: before.beforeImage } : {}),
        ...(before.upload ? { upload: before.upload } : {}),
      });
    } else {
      pending.push({ line, op: decision, needsImage: decision === 'updated' });
    }
  }

  // Before-images: every record about to be overwritten, read once per page of ids.
  const toRead = new Map<string, string[]>();
  for (const item of pending) {
    if (!item.needsImage) continue;
    const ids = toRead.get(item.line.object) ?? [];
    ids.push(item.line.id);
    toRead.set(item.line.object, ids);
  }
  const images = new Map<string, Record<string, unknown>>();
  for (const [object, ids] of toRead) {
    for (const [id, image] of await beforeImages(twenty, object, ids)) images.set(id, image);
  }
  for (const item of pending) {
    if (!item.needsImage) continue;
    const image = images.get(item.line.id);
    // Gone from Twenty since Ferry (or the operator) last saw it: writing it creates it again.
    if (image === undefined) item.op = 'created';
    else item.beforeImage = image;
  }
  const saveIntent = async (): Promise<void> => {
    const ops: Intent['ops'] = {};
    for (const item of pending) {
      ops[item.line.sourceId] = {
        op: item.op,
        ...(item.beforeImage ? { beforeImage: item.beforeImage } : {}),
        ...(item.upload ? { upload: item.upload } : {}),
      };
    }
    await deps.work.put(intentKey, JSON.stringify({ runId: input.runId, ops }), 'application/json');
  };
  if (pending.length > 0) await saveIntent();

  // Attachments: the file goes up first (once: a retry re-uses the upload the intent recorded);
  // its record then points at the upload.
  const sendable: Pending[] = [];
  for (const item of pending) {
    const file = item.line.file;
    if (file === undefined) {
      sendable.push(item);
      continue;
    }
    if (item.upload !== undefined) {
      item.fileColumns = fileColumns(await twenty.metadata(), item.upload, file.name);
      sendable.push(item);
      continue;
    }
    let bytes: Uint8Array;
    try {
      bytes = await deps.drop.get(file.key);
    } catch (error) {
      if (error instanceof NotFoundError) {
        reject(item.line, 'file', 'MISSING_FILE', 'the referenced file is not in the drop folder');
        continue;
      }
      throw error;
    }
    if (bytes.byteLength > input.maxFileBytes) {
      reject(item.line, 'file', 'FILE_TOO_LARGE', `files over ${input.maxFileBytes} bytes are not uploaded`);
      continue;
    }
    try {
      const uploaded = await twenty.uploadFile(bytes, file.name, file.mime);
      item.upload = uploaded;
      // Recorded before the attachment record exists, so a retry after any later failure finds it.
      await saveIntent();
      item.fileColumns = fileColumns(await twenty.metadata(), uploaded, file.name);
      sendable.push(item);
    } catch (error) {
      if (!(error instanceof TwentyRejectedError)) throw error;
      if (error.status === 413) {
        reject(item.line, 'file', 'FILE_TOO_LARGE', 'over the workspace upload limit');
      } else {
        reject(item.line, 'file', 'TWENTY_REJECTED', error.reasons.join('; ') || 'upload refused');
      }
    }
  }

  // Records, per Twenty object, in batches the client splits to the workspace's cap.
  const written: Pending[] = [];
  const byObject = new Map<string, Pending[]>();
  for (const item of sendable) {
    const group = byObject.get(item.line.object) ?? [];
    group.push(item);
    byObject.set(item.line.object, group);
  }
  for (const [object, group] of byObject) {
    for (const slice of chunked(group, input.batchMax ?? group.length)) {
      const records: TwentyRecord[] = slice.map((item) => ({
        ...item.line.data,
        ...item.fileColumns,
        id: item.line.id,
      }));
      const result = await twenty.createMany(object, records, { upsert: true });
      for (const ok of result.written) {
        const item = slice[ok.index];
        if (item) written.push(item);
      }
      for (const failed of result.failed) {
        const item = slice[failed.index];
        if (item) reject(item.line, reasonField(failed.reason), 'TWENTY_REJECTED', failed.reason);
      }
    }
  }

  // Targets of the tasks/notes that are now in Twenty (a target of a refused parent is not sent).
  const targetsByObject = new Map<string, { record: TwentyRecord; line: MappedLine }[]>();
  for (const item of written) {
    for (const target of item.line.targets) {
      const group = targetsByObject.get(target.object) ?? [];
      group.push({ record: target.data as TwentyRecord, line: item.line });
      targetsByObject.set(target.object, group);
    }
  }
  let targetsWritten = 0;
  let targetsRejected = 0;
  for (const [object, group] of targetsByObject) {
    for (const slice of chunked(group, input.batchMax ?? group.length)) {
      const result = await twenty.createMany(
        object,
        slice.map((target) => target.record),
        { upsert: true },
      );
      targetsWritten += result.written.length;
      for (const failed of result.failed) {
        const target = slice[failed.index];
        if (!target) continue;
        targetsRejected++;
        rejects.push({
          file: input.key,
          line: target.line.line,
          entity: input.entity,
          sourceId: target.line.sourceId,
          field: object,
          reason: 'TARGET_REJECTED',
          rule: failed.reason,
        });
      }
    }
  }

  // Audit trail, then the id map: a retry that finds the id map written knows the ledger is too.
  const at = new Date(deps.clock.now()).toISOString();
  const entries: LedgerEntry[] = written.map((item) => ({
    runId: input.runId,
    phase,
    entity: input.entity,
    sourceId: item.line.sourceId,
    twentyId: item.line.id,
    op: item.op,
    contentHash: item.line.contentHash,
    ...(item.beforeImage ? { beforeImage: item.beforeImage } : {}),
    at,
  }));
  if (entries.length > 0) await ledger.appendMany(entries);
  const rows: IdMapRow[] = written.map((item) => ({
    sourceId: item.line.sourceId,
    twentyId: item.line.id,
    contentHash: item.line.contentHash,
    runId: input.runId,
  }));
  if (rows.length > 0) await ledger.putIdMap(input.sourceInstance, input.entity, rows);

  if (rejects.length > 0) {
    const body = `${rejects.map((line) => JSON.stringify(line)).join('\n')}\n`;
    await deps.work.put(
      loadRejectsKey(input.runId, phase, input.entity, input.key),
      body,
      'application/x-ndjson',
    );
  }

  const all = [...written.map((item) => ({ line: item.line, op: item.op })), ...already];
  const created = all.filter((item) => item.op === 'created').length;
  const updated = all.length - created;
  const statsAfter = twenty.stats();
  const stats: ChunkLoadStats = {
    runId: input.runId,
    phase,
    entity: input.entity,
    object: lines[0]?.object ?? '',
    key: input.key,
    records: lines.length,
    created,
    updated,
    unchanged,
    rejected,
    targets: { written: targetsWritten, rejected: targetsRejected },
    requests: Math.max(0, statsAfter.requests - statsBefore.requests),
    throttled: Math.max(0, statsAfter.throttled - statsBefore.throttled),
    writtenIds: all.map((item) => item.line.id),
  };
  await deps.work.put(statsKey, JSON.stringify(stats), 'application/json');
  const output = outputOf(stats);
  if (deps.runStore) {
    await deps.runStore.addCounters(input.runId, {
      created: output.created,
      updated: output.updated,
      unchanged: output.unchanged,
      loadRejected: output.rejected,
    });
  }
  deps.log.info('chunk loaded', {
    runId: input.runId,
    phase,
    entity: input.entity,
    records: lines.length,
    created: output.created,
    updated: output.updated,
    unchanged: output.unchanged,
    rejected: output.rejected,
    requests: stats.requests,
  });
  return output;
}
