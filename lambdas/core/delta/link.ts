import { z } from 'zod';
import type { ObjectStore } from '../../ports/object-store.ts';
import type { RunRecord, RunStore } from '../../ports/run-store.ts';
import { ValidationError } from '../errors.ts';
import { sourceInstanceOf } from '../rollback/entries.ts';
import {
  deltaLinkKey,
  deltaLinksPrefix,
  deltaOfKey,
  readArtifact,
  readArtifactIfPresent,
} from '../run-layout.ts';

/** `runs/<deltaRunId>/delta.json`: the earlier run a delta is tied to, and the id namespace it shares. */
export const DeltaOfSchema = z.object({
  deltaRunId: z.string().min(1),
  baseRunId: z.string().min(1),
  /** The base run's source instance: the delta's deterministic ids and id map are the base's. */
  sourceInstance: z.string().min(1),
  linkedAt: z.string().min(1),
});
export type DeltaOf = z.infer<typeof DeltaOfSchema>;

/** `runs/<baseRunId>/deltas/<deltaRunId>.json`: one delta tied to the base run. */
export const DeltaLinkSchema = z.object({
  deltaRunId: z.string().min(1),
  linkedAt: z.string().min(1),
});

/** Base run statuses a delta may follow: the run loaded (its reconciliation may have failed). */
const DELTA_BASE_STATUSES: ReadonlySet<RunRecord['status']> = new Set(['succeeded', 'failed']);

/** `drop/acme/delta-2/` → `drop/acme/`: the folder a delta drop sits in. */
export function parentFolder(folder: string): string | undefined {
  const parts = folder.split('/').filter((p) => p !== '');
  if (parts.length < 3) return undefined;
  return `${parts.slice(0, -1).join('/')}/`;
}

/**
 * The base run a delta follows: the one named, else (a scheduled delta names none) the newest run of
 * the delta's own drop folder — the full run's folder, where newer exports are dropped over the old
 * files — or of the folder above it (`drop/<folder>/delta-<n>/`), that is not itself a delta. A delta
 * named as the base stands for its own base: every delta of a run ties to the run itself.
 */
export async function resolveBaseRun(
  runs: RunStore,
  work: ObjectStore,
  deltaFolder: string,
  named: string | undefined,
): Promise<RunRecord> {
  let base: RunRecord | undefined;
  if (named !== undefined) {
    base = await runs.getRun(named);
    if (!base)
      throw new ValidationError(`Delta: run ${named} has no run record`, { code: 'DELTA_BASE_UNKNOWN' });
  } else {
    const folders = new Set([deltaFolder, parentFolder(deltaFolder)]);
    for (const run of await runs.listRuns()) {
      if (!folders.has(run.folder) || !DELTA_BASE_STATUSES.has(run.status)) continue;
      // A delta, or a run that failed before it loaded anything, is no base.
      if (await work.exists(deltaOfKey(run.runId))) continue;
      if ((await sourceInstanceOf(work, run.runId)) === undefined) continue;
      base = run;
      break;
    }
    if (!base)
      throw new ValidationError(
        `Delta: no finished run of ${deltaFolder} or the folder above it; name it with options.baseRunId`,
        { code: 'DELTA_BASE_UNKNOWN' },
      );
  }
  const asDelta = await readArtifactIfPresent(work, deltaOfKey(base.runId), DeltaOfSchema);
  if (asDelta !== undefined) return resolveBaseRun(runs, work, deltaFolder, asDelta.baseRunId);
  if (!DELTA_BASE_STATUSES.has(base.status))
    throw new ValidationError(
      `Delta: run ${base.runId} is ${base.status}; a delta follows a run that finished loading`,
      { code: 'DELTA_BASE_NOT_FINISHED' },
    );
  return base;
}

/**
 * Ties a delta run to its base: `delta.json` under the delta, a marker under the base (rollback of
 * the base finds its deltas there). Idempotent for a retried state. Returns the delta's link.
 */
export async function linkDelta(
  work: ObjectStore,
  deltaRunId: string,
  base: RunRecord,
  linkedAt: string,
): Promise<DeltaOf> {
  const existing = await readArtifactIfPresent(work, deltaOfKey(deltaRunId), DeltaOfSchema);
  if (existing !== undefined) return existing;
  const sourceInstance = await sourceInstanceOf(work, base.runId);
  if (sourceInstance === undefined)
    throw new ValidationError(`Delta: run ${base.runId} never reached Prepare; there is nothing to follow`, {
      code: 'DELTA_BASE_NOT_FINISHED',
    });
  const link: DeltaOf = { deltaRunId, baseRunId: base.runId, sourceInstance, linkedAt };
  await work.put(
    deltaLinkKey(base.runId, deltaRunId),
    `${JSON.stringify({ deltaRunId, linkedAt })}\n`,
    'application/json',
  );
  await work.put(deltaOfKey(deltaRunId), `${JSON.stringify(link, null, 2)}\n`, 'application/json');
  return link;
}

/** The delta's link, when the run is a delta. */
export async function deltaOf(work: ObjectStore, runId: string): Promise<DeltaOf | undefined> {
  return readArtifactIfPresent(work, deltaOfKey(runId), DeltaOfSchema);
}

/**
 * The runs a rollback of `runId` undoes, in the order it undoes them: the deltas tied to it, newest
 * first, then the run itself. A delta's own rollback is the delta alone.
 */
export async function rollbackFamily(work: ObjectStore, runId: string): Promise<string[]> {
  const deltas: { deltaRunId: string; linkedAt: string }[] = [];
  for await (const object of work.list(deltaLinksPrefix(runId))) {
    if (!object.key.endsWith('.json')) continue;
    deltas.push(await readArtifact(work, object.key, DeltaLinkSchema));
  }
  deltas.sort((a, b) =>
    a.linkedAt === b.linkedAt
      ? b.deltaRunId.localeCompare(a.deltaRunId)
      : b.linkedAt.localeCompare(a.linkedAt),
  );
  return [...deltas.map((d) => d.deltaRunId), runId];
}
