import { z } from 'zod';
import type { ObjectStore } from '../../ports/object-store.ts';
import { readArtifactIfPresent } from '../run-layout.ts';
import { UploadedFileSchema } from './attachment.ts';
import type { Pending } from './plan-writes.ts';

/**
 * Write-ahead of one chunk's decisions: the op of every record about to be written and the
 * before-image of those being overwritten, saved before the first write to Twenty when the slice
 * holds a decision a retry could not make again (an update, a merge target; all-`created` slices
 * decided from the id map alone wait for Twenty's answer, see LoadChunk's `needsWriteAhead`). A retried
 * attempt re-uses them: re-reading after its own earlier write would store Ferry's data as the
 * "before" image, and a record whose id map the earlier attempt already wrote would count as unchanged.
 * It also records each attachment's upload as soon as Twenty returns it, before the attachment
 * record is created: a retried attempt links the file already uploaded instead of uploading it
 * again, which would leave the first upload as an orphan file in the workspace.
 * Once Twenty has answered, the records it accepted are marked `accepted` (one more put, before the
 * ledger rows): a process killed between Twenty's answer and the ledger then records them on resume
 * instead of sending the batch again.
 * It holds before-images (PHI), so it lives in the work bucket like the chunk itself.
 */
const IntentOpSchema = z.object({
  op: z.enum(['created', 'updated']),
  beforeImage: z.record(z.string(), z.unknown()).optional(),
  upload: UploadedFileSchema.optional(),
  /** Twenty accepted the record: only its ledger row may still be missing. */
  accepted: z.literal(true).optional(),
});
export type IntentOp = z.infer<typeof IntentOpSchema>;

const IntentSchema = z.object({ runId: z.string(), ops: z.record(z.string(), z.unknown()) });

/**
 * The saved intent's decisions, by source id. A Map, not an object: a source id is export data and
 * may be `constructor` or `__proto__`, which an object lookup would find (or a write would swallow).
 */
export type IntentOps = ReadonlyMap<string, IntentOp>;

/** The intent an earlier attempt of this run saved under `key`; none (empty) if absent, invalid or another run's. */
export async function readIntent(work: ObjectStore, key: string, runId: string): Promise<IntentOps> {
  const stored = await readArtifactIfPresent(work, key, z.unknown());
  const parsed = IntentSchema.safeParse(stored);
  if (!parsed.success || parsed.data.runId !== runId) return new Map();
  // The stored object itself, not zod's copy: zod drops an own `__proto__` key.
  const ops = new Map<string, IntentOp>();
  for (const [sourceId, raw] of Object.entries((stored as { ops: object }).ops)) {
    const op = IntentOpSchema.safeParse(raw);
    if (!op.success) return new Map();
    ops.set(sourceId, op.data);
  }
  return ops;
}

/** Saves the intent of these pending records (op, before-image, upload, accepted) under `key`. */
export async function saveIntent(
  work: ObjectStore,
  key: string,
  runId: string,
  pending: readonly Pending[],
): Promise<void> {
  // No prototype: every source id, `__proto__` included, is an own key that JSON keeps.
  const ops: Record<string, IntentOp> = Object.create(null);
  for (const item of pending) {
    ops[item.line.sourceId] = {
      op: item.op,
      ...(item.beforeImage ? { beforeImage: item.beforeImage } : {}),
      ...(item.upload ? { upload: item.upload } : {}),
      ...(item.accepted ? { accepted: true as const } : {}),
    };
  }
  await work.put(key, JSON.stringify({ runId, ops }), 'application/json');
}
