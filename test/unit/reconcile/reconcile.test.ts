import { describe, expect, it } from 'vitest';
import { segmentRejectsKeyFor } from '../../../lambdas/core/inventory/manifest.ts';
import {
  type LoadPhase,
  loadChunkKey,
  type MappedLineInput,
  type PrepareStats,
  prepareRejectsKey,
  prepareStatsKey,
  reconciliationKey,
  rejectsCsvKey,
  workflowsKey,
} from '../../../lambdas/core/load/format.ts';
import { READ_BACK_PAGE } from '../../../lambdas/core/reconcile/read-back.ts';
import { csvCell, normalizeReject } from '../../../lambdas/core/reconcile/rejects-csv.ts';
import { ReconciliationSchema, reconcileEntities } from '../../../lambdas/core/reconcile/report.ts';
import { readBackProgressKey } from '../../../lambdas/core/run-layout.ts';
import { failRun, safeErrorName } from '../../../lambdas/tasks/fail-run/fail-run.ts';
import { FailRunInputSchema } from '../../../lambdas/tasks/fail-run/schema.ts';
import { loadChunk } from '../../../lambdas/tasks/load-chunk/load-chunk.ts';
import { LoadChunkInputSchema } from '../../../lambdas/tasks/load-chunk/schema.ts';
import { reconcile } from '../../../lambdas/tasks/reconcile/reconcile.ts';
import { type LoadTestDeps, loadDeps, uid } from '../load/fake-twenty.ts';

/** Reconcile ticks until done (a test's deps have no deadline, so the first tick finishes). */
async function reconciled(...args: Parameters<typeof reconcile>) {
  const out = await reconcile(...args);
  if (!out.done) throw new Error('Reconcile handed back a continuation');
  return out;
}

const runId = 'r1';
const folder = 'drop/clinic/';

function person(n: number): MappedLineInput {
  return {
    sourceId: `P${n}`,
    line: n + 1,
    id: uid(1, n),
    object: 'people',
    data: { emails: { primaryEmail: `p${n}@example.test`, additionalEmails: [] } },
    contentHash: `h${n}`,
  };
}

async function load(deps: LoadTestDeps, phase: LoadPhase, entity: string, lines: MappedLineInput[]) {
  const key = loadChunkKey(runId, phase, entity, 1);
  await deps.work.put(key, `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`);
  return loadChunk(
    LoadChunkInputSchema.parse({
      runId,
      phase,
      entity,
      key,
      records: lines.length,
      sourceInstance: 'clinic',
    }),
    deps,
  );
}

/**
 * A synthetic run: patients.csv has 6 rows → 1 unreadable (segment), 1 invalid email (prepare),
 * 1 skipped, 3 mapped, of which Twenty refuses 1 → 2 created. 2 + 3 rejected + 1 skipped = 6.
 */
/** Custom-property rows per patient in the pivot variant (P3, refused by Twenty, carries 3). */
const MERGED: Record<string, number> = { P1: 2, P2: 1, P3: 3 };

async function runToReconcile(prepareCountsSegment = false, withPivot = false) {
  const deps = loadDeps();
  await deps.runStore.createRun({ runId, folder, source: 'apms', startedAt: '2026-02-03T00:00:00.000Z' });
  await deps.runStore.acquireLock(folder, runId, 60_000);
  await deps.work.put(
    segmentRejectsKeyFor(runId),
    `${JSON.stringify({ file: 'patients.csv', line: 4, reason: 'MALFORMED_ROW', detail: 'expected 5 columns, found 7' })}\n`,
  );
  await deps.work.put(
    prepareRejectsKey(runId),
    `${JSON.stringify({ file: 'patients.csv', line: 5, entity: 'patient', sourceId: 'P9', field: 'email', reason: 'INVALID_EMAIL', rule: 'not an email address' })}\n`,
  );
  const prepare: PrepareStats = {
    runId,
    entities: {
      patient: {
        sourceRows: 6,
        mapped: 3,
        rejected: { INVALID_EMAIL: 1, ...(prepareCountsSegment ? { MALFORMED_ROW: 1 } : {}) },
        skipped: { EMPTY_ROW: 1 },
        warnings: { SHARED_EMAIL: 1 },
        file: 'patients.csv',
        object: 'people',
        phase: '02-people',
      },
      // 9 property rows: 1 refused by Prepare, 2 of patients that never loaded, 6 merged.
      ...(withPivot
        ? {
            patientProperties: {
              sourceRows: 9,
              mapped: 6,
              rejected: { MISSING_REQUIRED: 1 },
              skipped: { PIVOTED: 2 },
              warnings: {},
              file: 'properties.csv',
              object: 'people',
              mergedInto: 'patient',
            },
          }
        : {}),
    },
  };
  await deps.work.put(prepareStatsKey(runId), JSON.stringify(prepare));
  deps.fake.refuse = (_plural, record) =>
    record.id === uid(1, 3) ? 'emails.primaryEmail: duplicate entry «…»' : undefined;
  const merged = (line: MappedLineInput): MappedLineInput =>
    withPivot ? { ...line, merged: MERGED[line.sourceId] } : line;
  await load(deps, '02-people', 'patient', [person(1), person(2), person(3)].map(merged));
  return deps;
}

describe('reconcile in time-boxed ticks', () => {
  /** The synthetic run plus a second chunk of people filling three read-back pages. */
  async function bigRun() {
    const deps = await runToReconcile();
    const lines = Array.from({ length: 2 * READ_BACK_PAGE + 10 }, (_, i) => person(1000 + i));
    const key = loadChunkKey(runId, '02-people', 'patient', 2);
    await deps.work.put(key, `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`);
    await loadChunk(
      LoadChunkInputSchema.parse({
        runId,
        phase: '02-people',
        entity: 'patient',
        key,
        records: lines.length,
        sourceInstance: 'clinic',
      }),
      deps,
    );
    return deps;
  }

  it('reads back a page per tick when out of time, continues from the saved position, and ends as one call would', async () => {
    const expected = await reconciled({ runId }, await bigRun());
    const deps = await bigRun();
    const continuations: unknown[] = [];
    let out = await reconcile({ runId }, { ...deps, deadlineAt: deps.clock.now() - 1 });
    while (!out.done) {
      continuations.push(out);
      expect(out).toEqual({ runId, done: false, waitSeconds: 0 });
      // Nothing is concluded until the read-back has seen every record.
      expect(await deps.work.exists(reconciliationKey(runId))).toBe(false);
      if (continuations.length > 20) throw new Error('the read-back never finished');
      out = await reconcile({ runId }, { ...deps, deadlineAt: deps.clock.now() - 1 });
    }
    // Pages: 1 (chunk 1: two loaded people) + 3 (chunk 2) = 4 ticks, so 3 continuations.
    expect(continuations).toHaveLength(3);
    expect(out.verified).toBe(expected.verified);
    expect(out).toEqual(expected);
  });

  it('reads the next page of a chunk while it compares the current one, with the same findings', async () => {
    const expected = await reconciled({ runId }, await bigRun());
    const deps = await bigRun();
    const findMany = deps.fake.findMany.bind(deps.fake);
    let inFlight = 0;
    let most = 0;
    let requests = 0;
    deps.fake.findMany = (plural, options) =>
      (async function* () {
        requests++;
        inFlight++;
        most = Math.max(most, inFlight);
        try {
          yield* findMany(plural, options);
        } finally {
          inFlight--;
        }
      })();
    const out = await reconcile({ runId }, { ...deps, deadlineAt: deps.clock.now() + 3_600_000 });
    expect(out).toEqual(expected);
    // Chunk 2's three pages overlap by one; still one request per page (1 + 3).
    expect(most).toBe(2);
    expect(requests).toBe(4);
  });

  it('reads each load chunk and its rejects in one request each, without asking first whether they exist', async () => {
    const expected = await reconciled({ runId }, await bigRun());
    const deps = await bigRun();
    const asked: string[] = [];
    const read: string[] = [];
    const exists = deps.work.exists.bind(deps.work);
    const getText = deps.work.getText.bind(deps.work);
    deps.work.exists = async (key: string) => {
      asked.push(key);
      return exists(key);
    };
    deps.work.getText = async (key: string) => {
      read.push(key);
      return getText(key);
    };
    expect(await reconcile({ runId }, deps)).toEqual(expected);
    const chunkKeys = [1, 2].map((n) => loadChunkKey(runId, '02-people', 'patient', n));
    expect(asked.filter((k) => chunkKeys.includes(k) || k.includes('/rejects/load/'))).toEqual([]);
    // Each chunk once (the read-back; the missing-from-export search takes its ids from it).
    for (const key of chunkKeys) expect(read.filter((k) => k === key)).toHaveLength(1);
  });

  it('saves the read-back position after each chunk, not each page, and a tick cut short mid-chunk re-reads that chunk without counting it twice', async () => {
    const expected = await reconciled({ runId }, await bigRun());
    const deps = await bigRun();
    const saves: string[] = [];
    const put = deps.work.put.bind(deps.work);
    deps.work.put = async (key: string, body: string | Uint8Array, contentType?: string) => {
      if (key === readBackProgressKey(runId)) saves.push(key);
      return put(key, body, contentType);
    };
    // The tick dies on the second page of chunk 2 (a crash, or a Lambda killed): nothing concluded.
    const findMany = deps.fake.findMany.bind(deps.fake);
    let pages = 0;
    deps.fake.findMany = (plural, options) => {
      pages++;
      if (pages === 3) throw new Error('the process died here');
      return findMany(plural, options);
    };
    const later = deps.clock.now() + 3_600_000;
    await expect(reconcile({ runId }, { ...deps, deadlineAt: later })).rejects.toThrow(
      'the process died here',
    );
    // One save: after chunk 1, the position at chunk 2's start; none for chunk 2's first page.
    expect(saves).toHaveLength(1);
    deps.fake.findMany = findMany;
    const out = await reconcile({ runId }, { ...deps, deadlineAt: later });
    // The next tick re-reads chunk 2 from its start and saves only the final, done position.
    expect(saves).toHaveLength(2);
    expect(out).toEqual(expected);
  });
});

describe('reconcile', () => {
  it('balances every row, reads back every written id, marks the run succeeded and releases the lock', async () => {
    const deps = await runToReconcile();

    const out = await reconciled({ runId }, deps);

    expect(out).toMatchObject({
      status: 'succeeded',
      balanced: true,
      entities: 1,
      sourceRows: 6,
      loaded: 2,
      created: 2,
      rejected: 3,
      skipped: 1,
      verified: 2,
      missing: 0,
    });
    const report = ReconciliationSchema.parse(JSON.parse(await deps.work.getText(reconciliationKey(runId))));
    expect(report.entities[0]).toMatchObject({
      entity: 'patient',
      object: 'people',
      rejected: { MALFORMED_ROW: 1, INVALID_EMAIL: 1, TWENTY_REJECTED: 1 },
      skipped: { EMPTY_ROW: 1 },
      warnings: { SHARED_EMAIL: 1 },
      balanced: true,
    });
    expect(report.readBack).toEqual({ people: { verified: 2, missing: 0 } });
    const run = await deps.runStore.getRun(runId);
    expect(run).toMatchObject({ status: 'succeeded', stage: 'Reconcile' });
    // The lock is free: another run can take the folder at once.
    await expect(deps.runStore.acquireLock(folder, 'r2', 60_000)).resolves.toMatchObject({ runId: 'r2' });
  });

  it('writes one redacted rejects.csv row per reject of every stage, with the source file', async () => {
    const deps = await runToReconcile();
    await reconciled({ runId }, deps);

    const csv = await deps.work.getText(rejectsCsvKey(runId));
    const rows = csv.trim().split('\n');
    expect(rows[0]).toBe('file,line,entity,sourceId,field,reason,rule');
    expect(rows.slice(1)).toEqual([
      'patients.csv,4,patient,,,MALFORMED_ROW,"expected 5 columns, found 7"',
      'patients.csv,5,patient,P9,email,INVALID_EMAIL,not an email address',
      'patients.csv,4,patient,P3,emails.primaryEmail,TWENTY_REJECTED,emails.primaryEmail: duplicate entry «…»',
    ]);
    expect(csv).not.toContain('@example.test');
  });

  it('does not count segment rejects twice when Prepare already counted them', async () => {
    const deps = await runToReconcile(true);
    const out = await reconciled({ runId }, deps);
    expect(out).toMatchObject({ balanced: true, rejected: 3 });
  });

  it('fails the run when an id it wrote is missing from Twenty on read-back', async () => {
    const deps = await runToReconcile();
    deps.fake.table('people').delete(uid(1, 2));

    const out = await reconciled({ runId }, deps);

    expect(out).toMatchObject({ status: 'failed', balanced: true, verified: 1, missing: 1 });
    expect(await deps.runStore.getRun(runId)).toMatchObject({ status: 'failed', error: 'READBACK_MISSING' });
  });

  it('fails the run as unbalanced when a prepared chunk was never loaded', async () => {
    const deps = await runToReconcile();
    const prepare = JSON.parse(await deps.work.getText(prepareStatsKey(runId))) as PrepareStats;
    prepare.entities.clinician = { sourceRows: 2, mapped: 2, rejected: {}, skipped: {}, warnings: {} };
    await deps.work.put(prepareStatsKey(runId), JSON.stringify(prepare));

    const out = await reconciled({ runId }, deps);

    expect(out).toMatchObject({ status: 'failed', balanced: false });
    const report = ReconciliationSchema.parse(JSON.parse(await deps.work.getText(reconciliationKey(runId))));
    expect(report.entities.find((e) => e.entity === 'clinician')?.balanced).toBe(false);
    expect(report.problem).toBe('UNBALANCED');
  });

  it('reports unchanged rows of a second run as loaded and still balances', async () => {
    const deps = await runToReconcile();
    await reconciled({ runId }, deps);
    const second = 'r2';
    await deps.runStore.createRun({ runId: second, folder, source: 'apms', startedAt: 'x' });
    const prepare = JSON.parse(await deps.work.getText(prepareStatsKey(runId))) as PrepareStats;
    await deps.work.put(prepareStatsKey(second), JSON.stringify({ ...prepare, runId: second }));
    const key = loadChunkKey(second, '02-people', 'patient', 1);
    await deps.work.put(
      key,
      `${[person(1), person(2), person(3)].map((l) => JSON.stringify(l)).join('\n')}\n`,
    );
    await deps.work.put(segmentRejectsKeyFor(second), await deps.work.getText(segmentRejectsKeyFor(runId)));
    await loadChunk(
      LoadChunkInputSchema.parse({
        runId: second,
        phase: '02-people',
        entity: 'patient',
        key,
        records: 3,
        sourceInstance: 'clinic',
      }),
      deps,
    );

    const out = await reconciled({ runId: second }, deps);

    expect(out).toMatchObject({ created: 0, unchanged: 2, rejected: 3, balanced: true, status: 'succeeded' });
  });

  it('passes the workflows reference through when an earlier stage wrote it', async () => {
    const deps = await runToReconcile();
    await deps.work.put(workflowsKey(runId), '[]');
    const out = await reconciled({ runId }, deps);
    expect(out.workflowsKey).toBe(workflowsKey(runId));
  });

  it('counts pivot rows merged into loaded records as loaded and moves those of refused records to skipped', async () => {
    const deps = await runToReconcile(false, true);

    const out = await reconciled({ runId }, deps);

    expect(out).toMatchObject({ status: 'succeeded', balanced: true, sourceRows: 15, loaded: 5 });
    const report = ReconciliationSchema.parse(JSON.parse(await deps.work.getText(reconciliationKey(runId))));
    expect(report.entities.find((e) => e.entity === 'patientProperties')).toMatchObject({
      mergedInto: 'patient',
      loaded: { created: 3, updated: 0, unchanged: 0 },
      rejected: { MISSING_REQUIRED: 1 },
      skipped: { PIVOTED: 5 },
      balanced: true,
    });
  });

  it('fails naming the file when prepare.json is missing', async () => {
    const deps = loadDeps();
    await expect(reconcile({ runId }, deps)).rejects.toThrow(/prepare\.json is missing/);
  });
});

describe('reconcileEntities', () => {
  it('adds segment rejects of the entity file to every entity read from that file', () => {
    const entities = reconcileEntities(
      {
        runId,
        entities: {
          patient: {
            sourceRows: 3,
            mapped: 0,
            rejected: {},
            skipped: { NO_NAME: 2 },
            warnings: {},
            file: 'a.csv',
          },
          account: {
            sourceRows: 3,
            mapped: 0,
            rejected: {},
            skipped: { NOT_A_COMPANY: 2 },
            warnings: {},
            file: 'a.csv',
          },
        },
      },
      new Map([['a.csv', { ENCODING_ERROR: 1 }]]),
      [],
    );
    expect(entities.map((e) => [e.entity, e.rejected, e.balanced])).toEqual([
      ['patient', { ENCODING_ERROR: 1 }, true],
      ['account', { ENCODING_ERROR: 1 }, true],
    ]);
  });

  it('splits merged pivot rows over created/updated/unchanged like the records they joined', () => {
    const chunk = (created: number, updated: number, unchanged: number) => ({
      runId,
      phase: '02-people' as const,
      entity: 'patient',
      object: 'people',
      key: 'k',
      records: created + updated + unchanged,
      created,
      updated,
      unchanged,
      rejected: {},
      targets: { written: 0, rejected: 0 },
      requests: 1,
      throttled: 0,
      writtenIds: [],
    });
    const prepare = (mapped: number) => ({
      runId,
      entities: {
        patient: { sourceRows: 4, mapped: 4, rejected: {}, skipped: {}, warnings: {} },
        props: { sourceRows: mapped, mapped, rejected: {}, skipped: {}, warnings: {}, mergedInto: 'patient' },
      },
    });
    const props = (mapped: number, chunks: ReturnType<typeof chunk>[], refused = 0) =>
      reconcileEntities(prepare(mapped), new Map(), chunks, new Map([['patient', refused]])).find(
        (e) => e.entity === 'props',
      );

    expect(props(7, [chunk(0, 0, 4)])).toMatchObject({
      loaded: { created: 0, updated: 0, unchanged: 7 },
      balanced: true,
    });
    expect(props(7, [chunk(2, 1, 1)])).toMatchObject({
      loaded: { created: 3, updated: 2, unchanged: 2 },
      balanced: true,
    });
    expect(props(7, [chunk(3, 0, 0)], 2)).toMatchObject({
      loaded: { created: 5, updated: 0, unchanged: 0 },
      skipped: { PIVOTED: 2 },
      balanced: true,
    });
    // Nothing of the entity they were merged into loaded: the rows are not guessed into a bucket.
    expect(props(7, [])).toMatchObject({ loaded: { created: 0, updated: 0, unchanged: 0 }, balanced: false });
  });
});

describe('rejects.csv cells', () => {
  it('quotes separators and defuses spreadsheet formulas', () => {
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "x"')).toBe('"say ""x"""');
    expect(csvCell('=HYPERLINK(1)')).toBe("'=HYPERLINK(1)");
    expect(csvCell(12)).toBe('12');
  });

  it('normalizes a segment reject (detail becomes the rule, entity from the file)', () => {
    expect(
      normalizeReject(
        { file: 'a.csv', line: 3, reason: 'ENCODING_ERROR', detail: 'invalid UTF-8' },
        () => 'patient',
      ),
    ).toEqual({
      file: 'a.csv',
      line: 3,
      entity: 'patient',
      sourceId: '',
      field: '',
      reason: 'ENCODING_ERROR',
      rule: 'invalid UTF-8',
    });
  });
});

describe('failRun', () => {
  it('marks the run failed with the error name only and releases the folder lock', async () => {
    const deps = loadDeps();
    await deps.runStore.createRun({ runId, folder, source: 'apms', startedAt: 'x' });
    await deps.runStore.acquireLock(folder, runId, 60_000);
    const input = FailRunInputSchema.parse({
      runId,
      folder,
      error: { Error: 'SchemaConflictError', Cause: '{"errorMessage":"value p1@example.test"}' },
    });

    const out = await failRun(input, deps);

    expect(out).toEqual({ runId, status: 'failed', error: 'SchemaConflictError' });
    const run = await deps.runStore.getRun(runId);
    expect(run).toMatchObject({ status: 'failed', error: 'SchemaConflictError', stage: 'FailRun' });
    expect(JSON.stringify(run)).not.toContain('example.test');
    await expect(deps.runStore.acquireLock(folder, 'r2', 60_000)).resolves.toMatchObject({ runId: 'r2' });
  });

  it('releases the lock from the input folder when the run record was never created', async () => {
    const deps = loadDeps();
    await deps.runStore.acquireLock(folder, runId, 60_000);
    const out = await failRun(
      FailRunInputSchema.parse({ runId, folder, error: { Error: 'States.Timeout' } }),
      deps,
    );
    expect(out.error).toBe('States.Timeout');
    await expect(deps.runStore.acquireLock(folder, 'r2', 60_000)).resolves.toMatchObject({ runId: 'r2' });
  });

  it('keeps identifiers and replaces anything message-like with Error', () => {
    expect(safeErrorName('RateLimitedError')).toBe('RateLimitedError');
    expect(safeErrorName('Jane Doe, DOB 1970')).toBe('Error');
    expect(safeErrorName(undefined)).toBe('Error');
  });
});

describe('reconcile: field-level read-back', () => {
  it('names entity, field and record id of a record changed in Twenty after load, never the value, and fails the run', async () => {
    const deps = await runToReconcile();
    const stored = deps.fake.table('people').get(uid(1, 2));
    if (!stored) throw new Error('P2 was not loaded');
    stored.emails = { primaryEmail: 'changed-secret@example.test', additionalEmails: [] };

    const out = await reconciled({ runId }, deps);

    expect(out).toMatchObject({ status: 'failed', balanced: true, verified: 2, mismatches: 1, tolerance: 0 });
    const text = await deps.work.getText(reconciliationKey(runId));
    expect(text).not.toContain('changed-secret');
    const report = ReconciliationSchema.parse(JSON.parse(text));
    expect(report.problems).toEqual(['MISMATCHES_OVER_TOLERANCE']);
    expect(report.mismatches).toEqual([
      { entity: 'patient', object: 'people', field: 'emails', recordId: uid(1, 2) },
    ]);
    expect(report.entities[0]).toMatchObject({ verified: 1, mismatched: 1, missing: 0 });
    expect(report.fields.patient?.emails).toEqual({
      records: 2,
      populated: 2,
      matched: 1,
      populationRate: 1,
      matchRate: 0.5,
    });
    expect(await deps.runStore.getRun(runId)).toMatchObject({
      status: 'failed',
      error: 'MISMATCHES_OVER_TOLERANCE',
    });
  });

  it('passes when the mismatches stay within the tolerance from the execution options', async () => {
    const deps = await runToReconcile();
    const stored = deps.fake.table('people').get(uid(1, 1));
    if (!stored) throw new Error('P1 was not loaded');
    stored.emails = { primaryEmail: 'other@example.test', additionalEmails: [] };

    const out = await reconciled({ runId, options: { tolerance: 1 } }, deps);

    expect(out).toMatchObject({ status: 'succeeded', mismatches: 1, tolerance: 1 });
  });

  it('counts a loaded record deleted from Twenty as missing', async () => {
    const deps = await runToReconcile();
    deps.fake.table('people').delete(uid(1, 1));

    const out = await reconciled({ runId }, deps);

    expect(out).toMatchObject({ status: 'failed', verified: 1, missing: 1, mismatches: 0 });
  });
});
