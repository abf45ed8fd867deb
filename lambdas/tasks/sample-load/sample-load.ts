import type { z } from 'zod';
import { sampleDiffHtmlKey, sampleDiffKey, sampleProgressKey } from '../../core/run-layout.ts';
import { type SampleProgress, sampleProgress } from '../../core/sample/chunks.ts';
import { renderSampleDiffHtml } from '../../core/sample/diff.ts';
import { diffSample, readSampleSources } from '../../core/sample/read-back.ts';
import type { TaskDeps } from '../deps.ts';
import { loadChunk } from '../load-chunk/load-chunk.ts';
import { LoadChunkInputSchema } from '../load-chunk/schema.ts';
import type { SampleLoadContinuation, SampleLoadInputSchema, SampleLoadOutput } from './schema.ts';

type Input = z.infer<typeof SampleLoadInputSchema>;

/**
 * Loads the sample chunks in load order, each to its end through LoadChunk, until the tick's
 * deadline; the progress is saved after each chunk. A continuation when out of time, else undefined.
 */
async function loadSample(
  input: Input,
  deps: TaskDeps,
  progress: SampleProgress,
  progressKey: string,
): Promise<SampleLoadContinuation | undefined> {
  const { runId } = input;
  while (progress.loaded < progress.chunks.length) {
    const chunk = progress.chunks[progress.loaded];
    if (chunk === undefined) break;
    const out = await loadChunk(
      LoadChunkInputSchema.parse({
        runId,
        phase: chunk.phase,
        entity: chunk.entity,
        key: chunk.key,
        records: chunk.records,
        sourceInstance: input.sourceInstance,
        ...(input.options.batchMax === undefined ? {} : { options: { batchMax: input.options.batchMax } }),
      }),
      deps,
    );
    if (!out.done) return { runId, done: false, waitSeconds: out.waitSeconds };
    progress.loaded++;
    await deps.work.put(progressKey, JSON.stringify(progress), 'application/json');
    if (
      deps.deadlineAt !== undefined &&
      deps.clock.now() >= deps.deadlineAt &&
      progress.loaded < progress.chunks.length
    )
      return { runId, done: false, waitSeconds: 0 };
  }
  return undefined;
}

/**
 * SampleLoad: before the full load, a representative FK-closed sample (patients with their
 * appointments, notes, claims… and what they point at; `options.sampleSize`, default 300) is loaded
 * through LoadChunk — the same code, ledger and before-images as the full load — then read back and
 * diffed field by field into `sample-diff.json` and `sample-diff.html`; AwaitSampleApproval follows.
 * The full load meets the sampled records again as unchanged; Reconcile counts them as the sample
 * wrote them. Time-boxed like LoadChunk: a tick out of time hands back `{done: false}`.
 */
export async function sampleLoad(
  input: Input,
  deps: TaskDeps,
): Promise<SampleLoadOutput | SampleLoadContinuation> {
  const { runId } = input;
  const size = input.options.sampleSize;
  if (size === 0)
    return {
      runId,
      done: true,
      records: 0,
      fields: 0,
      matched: 0,
      mismatched: 0,
      missing: 0,
      rejected: 0,
      skipped: true,
    };

  const progressKey = sampleProgressKey(runId);
  const progress = await sampleProgress(deps.work, runId, size, progressKey);
  const continuation = await loadSample(input, deps, progress, progressKey);
  if (continuation !== undefined) return continuation;

  const sources = await readSampleSources(deps.work, runId);
  const twenty = await deps.twenty();
  const diff = await diffSample(deps.work, twenty, runId, sources, progress.chunks, () => deps.clock.now());
  await deps.work.put(sampleDiffKey(runId), JSON.stringify(diff, null, 2), 'application/json');
  await deps.work.put(sampleDiffHtmlKey(runId), renderSampleDiffHtml(diff), 'text/html; charset=utf-8');
  const t = diff.totals;
  deps.log.info('sample loaded', {
    runId,
    records: t.records,
    fields: t.fields,
    mismatched: t.mismatched,
    missing: t.missing,
  });
  return {
    runId,
    done: true,
    skipped: false,
    records: t.records,
    fields: t.fields,
    matched: t.matched,
    mismatched: t.mismatched,
    missing: t.missing,
    rejected: t.rejected,
    diffKey: sampleDiffKey(runId),
    htmlKey: sampleDiffHtmlKey(runId),
  };
}
