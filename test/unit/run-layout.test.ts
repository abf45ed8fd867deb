import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { MemoryObjectStore } from '../../lambdas/adapters/memory-object-store.ts';
import { ValidationError } from '../../lambdas/core/errors.ts';
import * as layout from '../../lambdas/core/run-layout.ts';

const run = 'r-1';
const chunk = 'runs/r-1/load/02-people/patients/00003.ndjson';

describe('run layout', () => {
  it('keeps every key of a run where rollback and resume look for it', () => {
    expect({
      plan: layout.planKeyFor(run),
      planReport: layout.planReportKeyFor(run),
      mapping: layout.mappingKeyFor(run),
      targetModel: layout.targetModelKey(run),
      mergeCandidates: layout.mergeCandidatesKey(run),
      manifest: layout.manifestKeyFor(run),
      chunk: layout.chunkKeyFor(run, 'patients', 12),
      segmentRejects: layout.segmentRejectsKeyFor(run),
      schemaChanges: layout.schemaChangesKeyFor(run),
      owners: layout.ownersKeyFor(run),
      ownersReport: layout.ownersReportKeyFor(run),
      loadChunk: layout.loadChunkKey(run, '02-people', 'patients', 3),
      loadChunkPrefix: layout.loadChunkPrefix(run, '02-people', 'patients'),
      phaseManifest: layout.phaseManifestKey(run, '02-people'),
      waveManifest: layout.waveManifestKey(run, '02-people', 2),
      prepareStats: layout.prepareStatsKey(run),
      prepareRejects: layout.prepareRejectsKey(run),
      sampleCandidates: layout.sampleCandidatesKey(run),
      workflows: layout.workflowsKey(run),
      intent: layout.loadIntentKey(run, '02-people', 'patients', chunk, 200),
      progress: layout.loadProgressKey(run, '02-people', 'patients', chunk),
      stats: layout.loadStatsKey(run, '02-people', 'patients', chunk),
      statsPrefix: layout.loadStatsPrefix(run),
      loadRejects: layout.loadRejectsKey(run, '02-people', 'patients', chunk),
      loadRejectsPrefix: layout.loadRejectsPrefix(run),
      beforeImage: layout.beforeImageKey(run, '02-people#patients#P1#updated'),
      approval: layout.approvalRequestKey(run, 'sample'),
      reconciliation: layout.reconciliationKey(run),
      readBack: layout.readBackProgressKey(run),
      rejectsCsv: layout.rejectsCsvKey(run),
      reportHtml: layout.reportHtmlKey(run),
      rollbackReport: layout.rollbackReportKey(run),
      rollbackCursor: layout.rollbackCursorKey(run),
      deletesPlan: layout.propagateDeletesPlanKey(run),
      deletesCursor: layout.propagateDeletesCursorKey(run),
      summary: layout.summaryKey(run),
      checkpoints: layout.runCheckpointPrefix(run),
      executionInput: layout.executionInputKey(run),
    }).toEqual({
      plan: 'runs/r-1/plan.json',
      planReport: 'runs/r-1/plan.md',
      mapping: 'runs/r-1/mapping.json',
      targetModel: 'runs/r-1/target-model.json',
      mergeCandidates: 'runs/r-1/merge-candidates.json',
      manifest: 'runs/r-1/chunks/manifest.json',
      chunk: 'runs/r-1/chunks/patients/00012.ndjson',
      segmentRejects: 'runs/r-1/rejects/segment.ndjson',
      schemaChanges: 'runs/r-1/schema-changes.json',
      owners: 'runs/r-1/owners.json',
      ownersReport: 'runs/r-1/owners-report.md',
      loadChunk: 'runs/r-1/load/02-people/patients/00003.ndjson',
      loadChunkPrefix: 'runs/r-1/load/02-people/patients/',
      phaseManifest: 'runs/r-1/load/02-people.json',
      waveManifest: 'runs/r-1/load/02-people.w2.json',
      prepareStats: 'runs/r-1/prepare.json',
      prepareRejects: 'runs/r-1/rejects/prepare.ndjson',
      sampleCandidates: 'runs/r-1/sample-candidates.ndjson',
      workflows: 'runs/r-1/workflows.json',
      intent: 'runs/r-1/load-intent/02-people/patients/00003@200.json',
      progress: 'runs/r-1/load-progress/02-people/patients/00003.json',
      stats: 'runs/r-1/load-stats/02-people/patients/00003.json',
      statsPrefix: 'runs/r-1/load-stats/',
      loadRejects: 'runs/r-1/rejects/load/02-people/patients/00003.ndjson',
      loadRejectsPrefix: 'runs/r-1/rejects/load/',
      beforeImage: 'runs/r-1/audit/before-images/02-people%23patients%23P1%23updated.json',
      approval: 'runs/r-1/approvals/sample.json',
      reconciliation: 'runs/r-1/reconciliation.json',
      readBack: 'runs/r-1/reconcile/read-back.json',
      rejectsCsv: 'runs/r-1/rejects.csv',
      reportHtml: 'runs/r-1/report.html',
      rollbackReport: 'runs/r-1/rollback.json',
      rollbackCursor: 'runs/r-1/rollback/cursor.json',
      deletesPlan: 'runs/r-1/deletes/plan.json',
      deletesCursor: 'runs/r-1/deletes/cursor.json',
      summary: 'runs/r-1/summary.json',
      checkpoints: 'runs/r-1/checkpoints/',
      executionInput: 'runs/r-1/checkpoints/input.json',
    });
    expect(layout.isSummaryKey('runs/r-1/summary.json')).toBe(true);
    expect(layout.isSummaryKey('runs/r-1/sub/summary.json')).toBe(false);
  });
});

describe('readArtifact', () => {
  const Schema = z.object({ runId: z.string(), count: z.number() });

  async function failure(read: Promise<unknown>): Promise<ValidationError> {
    const error = await read.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ValidationError);
    return error as ValidationError;
  }

  it('parses an artefact with its schema', async () => {
    const work = new MemoryObjectStore('work');
    await work.put(layout.prepareStatsKey(run), JSON.stringify({ runId: run, count: 2, extra: 'x' }));
    await expect(layout.readArtifact(work, layout.prepareStatsKey(run), Schema)).resolves.toEqual({
      runId: run,
      count: 2,
    });
  });

  it('fails with one error code when the artefact is missing, not JSON or invalid, naming no value', async () => {
    const work = new MemoryObjectStore('work');
    const missing = await failure(layout.readArtifact(work, layout.planKeyFor(run), Schema));
    expect(missing.code).toBe(layout.RUN_ARTEFACT_ERROR);
    expect(missing.message).toBe('plan runs/r-1/plan.json is missing');

    await work.put(layout.planKeyFor(run), '{"runId":');
    const broken = await failure(layout.readArtifact(work, layout.planKeyFor(run), Schema));
    expect(broken.code).toBe(layout.RUN_ARTEFACT_ERROR);
    expect(broken.message).toBe('plan runs/r-1/plan.json is not valid JSON');

    await work.put(layout.planKeyFor(run), JSON.stringify({ runId: 'secret-value', count: 'many' }));
    const invalid = await failure(layout.readArtifact(work, layout.planKeyFor(run), Schema));
    expect(invalid.code).toBe(layout.RUN_ARTEFACT_ERROR);
    expect(invalid.message).toBe('plan runs/r-1/plan.json is invalid: count (invalid_type)');
    expect(invalid.message).not.toContain('secret-value');
  });

  it('reads an optional artefact as undefined when it is missing, and fails the same way when invalid', async () => {
    const work = new MemoryObjectStore('work');
    await expect(layout.readArtifactIfPresent(work, layout.rollbackCursorKey(run), Schema)).resolves.toBe(
      undefined,
    );
    await work.put(layout.rollbackCursorKey(run), '[]');
    const invalid = await failure(layout.readArtifactIfPresent(work, layout.rollbackCursorKey(run), Schema));
    expect(invalid.code).toBe(layout.RUN_ARTEFACT_ERROR);
    expect(invalid.message).toMatch(/^rollback cursor runs\/r-1\/rollback\/cursor\.json is invalid/);
  });
});
