import { describe, expect, it } from 'vitest';
import { TransientError, ValidationError } from '../../../lambdas/core/errors.ts';
import type { LedgerEntry } from '../../../lambdas/core/ledger/entry.ts';
import {
  ChunkLoadStatsSchema,
  LOAD_PHASES,
  type LoadPhase,
  loadChunkKey,
  loadStatsKey,
  type MappedLineInput,
  RejectLineSchema,
} from '../../../lambdas/core/load/format.ts';
import { loadProgressKey } from '../../../lambdas/core/run-layout.ts';
import { loadChunk } from '../../../lambdas/tasks/load-chunk/load-chunk.ts';
import { LoadChunkInputSchema } from '../../../lambdas/tasks/load-chunk/schema.ts';
import { type LoadTestDeps, loadDeps, uid } from './fake-twenty.ts';

const sourceInstance = 'clinic';

function person(n: number, extra: Partial<MappedLineInput> = {}): MappedLineInput {
  return {
    sourceId: `P${n}`,
    line: n + 1,
    id: uid(1, n),
    object: 'people',
    data: {
      name: { firstName: `Given${n}`, lastName: 'Family' },
      emails: { primaryEmail: `p${n}@example.test`, additionalEmails: [] },
    },
    contentHash: `h${n}`,
    ...extra,
  };
}

async function putChunk(
  deps: LoadTestDeps,
  runId: string,
  phase: LoadPhase,
  entity: string,
  lines: readonly MappedLineInput[],
  index = 1,
) {
  await deps.runStore.createRun({ runId, folder: 'drop/clinic/', source: 'apms', startedAt: 'x' });
  const key = loadChunkKey(runId, phase, entity, index);
  await deps.work.put(key, `${lines.map((line) => JSON.stringify(line)).join('\n')}\n`);
  return LoadChunkInputSchema.parse({ runId, phase, entity, key, records: lines.length, sourceInstance });
}

async function ledgerOf(deps: LoadTestDeps, runId: string): Promise<LedgerEntry[]> {
  const out: LedgerEntry[] = [];
  for await (const entry of deps.ledger.entriesForRun(runId)) out.push(entry);
  return out;
}

async function rejectsOf(deps: LoadTestDeps, prefix: string): Promise<string> {
  let text = '';
  for await (const object of deps.work.list(prefix)) text += await deps.work.getText(object.key);
  return text;
}

describe('loadChunk', () => {
  it('creates every record of a new chunk and records ledger, id map, stats and counters', async () => {
    const deps = loadDeps();
    const input = await putChunk(deps, 'r1', '02-people', 'patient', [person(1), person(2), person(3)]);

    const out = await loadChunk(input, deps);

    expect(out).toEqual({
      key: input.key,
      done: true,
      cursor: 3,
      waitSeconds: 0,
      created: 3,
      updated: 0,
      unchanged: 0,
      rejected: 0,
    });
    expect([...deps.fake.table('people').keys()]).toEqual([uid(1, 1), uid(1, 2), uid(1, 3)]);
    const entries = await ledgerOf(deps, 'r1');
    expect(entries.map((e) => [e.sourceId, e.op, e.twentyId, e.beforeImage])).toEqual([
      ['P1', 'created', uid(1, 1), undefined],
      ['P2', 'created', uid(1, 2), undefined],
      ['P3', 'created', uid(1, 3), undefined],
    ]);
    const map = await deps.ledger.getIdMap(sourceInstance, 'patient', ['P1', 'P2', 'P3']);
    expect([...map.values()].map((row) => [row.contentHash, row.runId])).toEqual([
      ['h1', 'r1'],
      ['h2', 'r1'],
      ['h3', 'r1'],
    ]);
    const stats = ChunkLoadStatsSchema.parse(
      JSON.parse(await deps.work.getText(loadStatsKey('r1', '02-people', 'patient', input.key))),
    );
    expect(stats).toMatchObject({ records: 3, created: 3, object: 'people', requests: 1 });
    expect(stats.writtenIds).toEqual([uid(1, 1), uid(1, 2), uid(1, 3)]);
    expect((await deps.runStore.getRun('r1'))?.counters).toMatchObject({ created: 3, unchanged: 0 });
  });

  it('sends nothing and reports unchanged when a later run finds the same content hashes', async () => {
    const deps = loadDeps();
    const lines = [person(1), person(2)];
    await loadChunk(await putChunk(deps, 'r1', '02-people', 'patient', lines), deps);
    const writes = deps.fake.calls.length;

    const out = await loadChunk(await putChunk(deps, 'r2', '02-people', 'patient', lines), deps);

    expect(out).toMatchObject({ created: 0, updated: 0, unchanged: 2, rejected: 0 });
    expect(deps.fake.calls.length).toBe(writes);
    expect(await ledgerOf(deps, 'r2')).toEqual([]);
  });

  it('keeps the before-image when a changed record is overwritten, read once per batch of ids', async () => {
    const deps = loadDeps();
    await loadChunk(await putChunk(deps, 'r1', '02-people', 'patient', [person(1), person(2)]), deps);
    const changed = person(1, {
      contentHash: 'h1-new',
      data: { name: { firstName: 'Renamed', lastName: 'F' } },
    });

    const out = await loadChunk(
      await putChunk(deps, 'r2', '02-people', 'patient', [changed, person(2)]),
      deps,
    );

    expect(out).toMatchObject({ created: 0, updated: 1, unchanged: 1 });
    expect(deps.fake.reads).toEqual(['people:1']);
    const [entry] = await ledgerOf(deps, 'r2');
    expect(entry).toMatchObject({ sourceId: 'P1', op: 'updated', contentHash: 'h1-new' });
    expect(entry?.beforeImage).toMatchObject({ id: uid(1, 1), name: { firstName: 'Given1' } });
    expect(deps.fake.table('people').get(uid(1, 1))?.name).toEqual({ firstName: 'Renamed', lastName: 'F' });
  });

  it('treats a pre-existing Twenty record matched by email as an update with its before-image', async () => {
    const deps = loadDeps();
    deps.fake.seed('people', {
      id: uid(9, 1),
      name: { firstName: 'Existing', lastName: 'Contact' },
      jobTitle: 'kept',
    });
    const merged = person(1, { id: uid(9, 1), mergeTarget: true });

    const out = await loadChunk(
      await putChunk(deps, 'r1', '02-people', 'patient', [merged, person(2)]),
      deps,
    );

    expect(out).toMatchObject({ created: 1, updated: 1 });
    const entries = await ledgerOf(deps, 'r1');
    expect(entries.find((e) => e.sourceId === 'P1')).toMatchObject({
      op: 'updated',
      twentyId: uid(9, 1),
      beforeImage: { name: { firstName: 'Existing', lastName: 'Contact' }, jobTitle: 'kept' },
    });
    expect(entries.find((e) => e.sourceId === 'P2')?.beforeImage).toBeUndefined();
  });

  it('records a merge target that vanished from Twenty as created (nothing to restore)', async () => {
    const deps = loadDeps();
    const out = await loadChunk(
      await putChunk(deps, 'r1', '02-people', 'patient', [person(1, { mergeTarget: true })]),
      deps,
    );
    expect(out).toMatchObject({ created: 1, updated: 0 });
  });

  it('writes targets after their parents and never sends a target of a refused parent', async () => {
    const deps = loadDeps();
    const task = (n: number): MappedLineInput => ({
      sourceId: `T${n}`,
      line: n,
      id: uid(2, n),
      object: 'tasks',
      data: { title: `Recall ${n}` },
      targets: [
        { object: 'taskTargets', data: { id: uid(3, n), taskId: uid(2, n), targetPersonId: uid(1, n) } },
      ],
      contentHash: `t${n}`,
    });
    deps.fake.refuse = (plural, record) =>
      plural === 'tasks' && record.id === uid(2, 2) ? 'title: too long (max 255)' : undefined;

    const out = await loadChunk(
      await putChunk(deps, 'r1', '04-activities', 'task', [task(1), task(2)]),
      deps,
    );

    expect(out).toMatchObject({ created: 1, rejected: 1 });
    expect(deps.fake.calls).toEqual(['tasks:2', 'taskTargets:1']);
    expect([...deps.fake.table('taskTargets').keys()]).toEqual([uid(3, 1)]);
    const rejects = (await rejectsOf(deps, 'runs/r1/rejects/load/04-activities/task/'))
      .trim()
      .split('\n')
      .map((line) => RejectLineSchema.parse(JSON.parse(line)));
    expect(rejects).toEqual([
      {
        file: expect.stringContaining('00001.ndjson'),
        line: 2,
        entity: 'task',
        sourceId: 'T2',
        field: 'title',
        reason: 'TWENTY_REJECTED',
        rule: 'title: too long (max 255)',
      },
    ]);
    expect(await deps.ledger.getIdMap(sourceInstance, 'task', ['T1', 'T2'])).toHaveProperty('size', 1);
  });

  it('keeps refused records out of the ledger and id map and never writes their values to rejects', async () => {
    const deps = loadDeps();
    deps.fake.refuse = (_plural, record) =>
      record.id === uid(1, 2) ? 'emails.primaryEmail: duplicate entry «…»' : undefined;

    const out = await loadChunk(
      await putChunk(deps, 'r1', '02-people', 'patient', [person(1), person(2)]),
      deps,
    );

    expect(out.created + out.updated + out.unchanged + out.rejected).toBe(2);
    expect((await ledgerOf(deps, 'r1')).map((e) => e.sourceId)).toEqual(['P1']);
    const rejects = await rejectsOf(deps, 'runs/r1/rejects/load/');
    expect(rejects).toContain('"field":"emails.primaryEmail"');
    expect(rejects).not.toContain('p2@example.test');
    expect(rejects).not.toContain('Given2');
  });

  describe.each(['v1', 'v2'] as const)('attachments (%s workspace)', (flavor) => {
    const attachment = (n: number, key: string): MappedLineInput => ({
      sourceId: `D${n}`,
      line: n,
      id: uid(4, n),
      object: 'attachments',
      data: { name: `scan-${n}.pdf`, [flavor === 'v2' ? 'targetPersonId' : 'personId']: uid(1, 1) },
      contentHash: `d${n}`,
      file: { key, name: `scan-${n}.pdf`, mime: 'application/pdf' },
    });

    it('uploads the file and links it, rejects missing and oversized files', async () => {
      const deps = loadDeps(flavor);
      const bytes = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
      await deps.drop.put('drop/clinic/documents/a.pdf', bytes);
      await deps.drop.put('drop/clinic/documents/big.pdf', new Uint8Array(64));
      const input = await putChunk(deps, 'r1', '06-attachments', 'document', [
        attachment(1, 'drop/clinic/documents/a.pdf'),
        attachment(2, 'drop/clinic/documents/missing.pdf'),
        attachment(3, 'drop/clinic/documents/big.pdf'),
      ]);

      const out = await loadChunk({ ...input, maxFileBytes: 32 }, deps);

      expect(out).toMatchObject({ created: 1, rejected: 2 });
      const stored = deps.fake.table('attachments').get(uid(4, 1));
      expect(typeof stored?.fullPath).toBe('string');
      expect(
        Buffer.from(deps.fake.files.get(stored?.fullPath as string) ?? []).equals(Buffer.from(bytes)),
      ).toBe(true);
      if (flavor === 'v2') {
        expect(stored?.file).toEqual([{ fileId: expect.any(String), label: 'scan-1.pdf', extension: 'pdf' }]);
      } else {
        expect(stored?.file).toBeUndefined();
      }
      const stats = ChunkLoadStatsSchema.parse(
        JSON.parse(await deps.work.getText(loadStatsKey('r1', '06-attachments', 'document', input.key))),
      );
      expect(stats.rejected).toEqual({ MISSING_FILE: 1, FILE_TOO_LARGE: 1 });
    });

    it('rejects a file the workspace refuses as too large (413) as FILE_TOO_LARGE', async () => {
      const deps = loadDeps(flavor);
      deps.fake.uploadLimit = 4;
      await deps.drop.put('drop/clinic/documents/a.pdf', new Uint8Array(10));
      const out = await loadChunk(
        await putChunk(deps, 'r1', '06-attachments', 'document', [
          attachment(1, 'drop/clinic/documents/a.pdf'),
        ]),
        deps,
      );
      expect(out).toMatchObject({ created: 0, rejected: 1 });
      expect(deps.fake.table('attachments').size).toBe(0);
    });

    it('uploads each file once when a chunk that failed mid-way is retried, linking the first upload', async () => {
      const deps = loadDeps(flavor);
      await deps.drop.put('drop/clinic/documents/a.pdf', new Uint8Array([1, 2, 3]));
      await deps.drop.put('drop/clinic/documents/b.pdf', new Uint8Array([4, 5, 6]));
      await deps.drop.put('drop/clinic/documents/c.pdf', new Uint8Array([7, 8, 9]));
      const input = await putChunk(deps, 'r1', '06-attachments', 'document', [
        attachment(1, 'drop/clinic/documents/a.pdf'),
        attachment(2, 'drop/clinic/documents/b.pdf'),
        attachment(3, 'drop/clinic/documents/c.pdf'),
      ]);
      const upload = deps.fake.uploadFile.bind(deps.fake);
      let uploadCalls = 0;
      // Attempt 1: the second upload fails (network), after the first reached Twenty.
      deps.fake.uploadFile = async (bytes, name) => {
        uploadCalls++;
        if (uploadCalls === 2) throw new TransientError('connection reset');
        return upload(bytes, name);
      };
      await expect(loadChunk(input, deps)).rejects.toThrow('connection reset');
      expect(deps.fake.files.size).toBe(1);

      // Attempt 2: every file goes up, then Twenty fails the attachment records.
      const createMany = deps.fake.createMany.bind(deps.fake);
      deps.fake.createMany = async () => {
        throw new TransientError('gateway timeout');
      };
      await expect(loadChunk(input, deps)).rejects.toThrow('gateway timeout');
      expect(deps.fake.files.size).toBe(3);
      deps.fake.createMany = createMany;

      // Attempt 3 succeeds without uploading anything again.
      const out = await loadChunk(input, deps);

      expect(out).toMatchObject({ created: 3, rejected: 0 });
      expect(uploadCalls).toBe(4);
      expect(deps.fake.files.size).toBe(3);
      const linked = [...deps.fake.table('attachments').values()].map((r) => r.fullPath as string);
      expect(new Set(linked)).toEqual(new Set(deps.fake.files.keys()));
      const first = deps.fake.table('attachments').get(uid(4, 1));
      expect([...(deps.fake.files.get(first?.fullPath as string) ?? [])]).toEqual([1, 2, 3]);
      if (flavor === 'v2') {
        const fileId = ((first?.file ?? []) as Array<{ fileId: string }>)[0]?.fileId;
        expect(first?.fullPath).toContain(fileId);
      }
    });
  });

  it('returns the same counts without writing again when the same chunk is retried after success', async () => {
    const deps = loadDeps();
    const input = await putChunk(deps, 'r1', '02-people', 'patient', [person(1), person(2)]);
    const first = await loadChunk(input, deps);
    const writes = deps.fake.calls.length;

    const second = await loadChunk(input, deps);

    expect(second).toEqual(first);
    expect(deps.fake.calls.length).toBe(writes);
    expect((await deps.runStore.getRun('r1'))?.counters.created).toBe(2);
  });

  it('reports what an interrupted attempt did and keeps its before-images when the chunk is retried', async () => {
    const deps = loadDeps();
    deps.fake.seed('people', { id: uid(9, 1), name: { firstName: 'Existing', lastName: 'Contact' } });
    const lines = [person(1, { id: uid(9, 1), mergeTarget: true }), person(2)];
    const input = await putChunk(deps, 'r1', '02-people', 'patient', lines);
    await loadChunk(input, deps);
    // The first attempt died after the id map was written, before its stats file.
    await deps.work.delete(loadStatsKey('r1', '02-people', 'patient', input.key));

    const retried = await loadChunk(input, deps);

    expect(retried).toMatchObject({ created: 1, updated: 1, unchanged: 0 });
    const merged = (await ledgerOf(deps, 'r1')).find((e) => e.sourceId === 'P1');
    expect(merged?.beforeImage).toMatchObject({ name: { firstName: 'Existing', lastName: 'Contact' } });
  });

  it('keeps the original before-image when a retry finds its own earlier write in Twenty', async () => {
    const deps = loadDeps();
    deps.fake.seed('people', { id: uid(9, 1), name: { firstName: 'Existing', lastName: 'Contact' } });
    const input = await putChunk(deps, 'r1', '02-people', 'patient', [
      person(1, { id: uid(9, 1), mergeTarget: true }),
    ]);
    // First attempt: Twenty took the write, then the ledger was unreachable.
    const appendMany = deps.ledger.appendMany.bind(deps.ledger);
    deps.ledger.appendMany = async () => {
      throw new Error('ledger unavailable');
    };
    await expect(loadChunk(input, deps)).rejects.toThrow('ledger unavailable');
    deps.ledger.appendMany = appendMany;
    expect(deps.fake.table('people').get(uid(9, 1))?.name).toMatchObject({ firstName: 'Given1' });

    await loadChunk(input, deps);

    const [entry] = await ledgerOf(deps, 'r1');
    expect(entry).toMatchObject({ op: 'updated' });
    expect(entry?.beforeImage).toMatchObject({ name: { firstName: 'Existing', lastName: 'Contact' } });
  });

  it('fails naming the record position, never its content, when a line breaks the format', async () => {
    const deps = loadDeps();
    const bad = { ...person(1), id: '' };
    const input = await putChunk(deps, 'r1', '02-people', 'patient', [person(2), bad]);
    const error = await loadChunk(input, deps).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as Error).message).toMatch(/record 2: invalid id/);
    expect((error as Error).message).not.toContain('Given1');
  });

  it('fails when the chunk holds another number of records than its manifest item', async () => {
    const deps = loadDeps();
    const input = await putChunk(deps, 'r1', '02-people', 'patient', [person(1)]);
    await expect(loadChunk({ ...input, records: 2 }, deps)).rejects.toThrow(/manifest says 2/);
  });

  describe('targets across slices', () => {
    /** Task n with one target when n is odd, two when even: 6 targets per slice of 4 tasks. */
    const task = (n: number): MappedLineInput => ({
      sourceId: `T${n}`,
      line: n,
      id: uid(2, n),
      object: 'tasks',
      data: { title: `Recall ${n}` },
      targets: Array.from({ length: n % 2 === 1 ? 1 : 2 }, (_, k) => ({
        object: 'taskTargets' as const,
        data: { id: uid(3, n * 10 + k), taskId: uid(2, n), targetPersonId: uid(1, n) },
      })),
      contentHash: `t${n}`,
    });
    const tasks = Array.from({ length: 8 }, (_, i) => task(i + 1));

    it('waits for full batches, so a chunk pays one partial target batch, not one per slice', async () => {
      const deps = loadDeps();
      const input = await putChunk(deps, 'r1', '04-activities', 'task', tasks);
      const expired = { ...deps, deadlineAt: deps.clock.now() - 1 };
      // One slice per tick: the two targets left over by the first slice wait in the progress.
      expect(await loadChunk({ ...input, batchMax: 4 }, expired)).toMatchObject({ done: false });
      expect(await loadChunk({ ...input, batchMax: 4 }, expired)).toMatchObject({ done: true });
      expect(deps.fake.calls).toEqual([
        'tasks:4',
        'taskTargets:4',
        'tasks:4',
        'taskTargets:4',
        'taskTargets:4',
      ]);
      expect(deps.fake.table('taskTargets').size).toBe(12);
      const stats = ChunkLoadStatsSchema.parse(
        JSON.parse(await deps.work.getText(loadStatsKey('r1', '04-activities', 'task', input.key))),
      );
      expect(stats.targets).toEqual({ written: 12, rejected: 0 });
    });

    it('re-sends no parent when a tick dies while its targets are on the way', async () => {
      const deps = loadDeps();
      const input = await putChunk(deps, 'r1', '04-activities', 'task', tasks);
      const createMany = deps.fake.createMany.bind(deps.fake);
      deps.fake.createMany = async (plural, records, options) => {
        if (plural === 'taskTargets') throw new Error('killed');
        return createMany(plural, records, options);
      };
      await expect(loadChunk({ ...input, batchMax: 4 }, deps)).rejects.toThrow('killed');
      deps.fake.createMany = createMany;
      // The first slice's tasks are in the ledger and its progress (with their six targets waiting).
      const out = await loadChunk({ ...input, batchMax: 4 }, deps);
      expect(out).toMatchObject({ done: true, created: 8 });
      // The refused call never reached Twenty: the first tasks once, then the rest and 12 targets.
      expect(deps.fake.calls).toEqual([
        'tasks:4',
        'tasks:4',
        'taskTargets:4',
        'taskTargets:4',
        'taskTargets:4',
      ]);
      expect(deps.fake.table('taskTargets').size).toBe(12);
    });

    it('still sends the waiting targets when a tick dies after they went out, before its progress', async () => {
      const deps = loadDeps();
      const input = await putChunk(deps, 'r1', '04-activities', 'task', tasks);
      const put = deps.work.put.bind(deps.work);
      let progressSaves = 0;
      deps.work.put = async (key: string, body: string | Uint8Array, type?: string) => {
        if (key.includes('/load-progress/') && ++progressSaves === 2) throw new Error('connection lost');
        return put(key, body, type);
      };
      await expect(loadChunk({ ...input, batchMax: 4 }, deps)).rejects.toThrow('connection lost');
      // The first slice's tasks and a batch of their targets are in Twenty; the saved progress still
      // has all six targets waiting, so the batch in flight goes again (an upsert on the same ids).
      expect(deps.fake.table('taskTargets').size).toBe(4);
      const out = await loadChunk({ ...input, batchMax: 4 }, deps);
      expect(out).toMatchObject({ done: true, created: 8 });
      expect(deps.fake.calls).toEqual([
        'tasks:4',
        'taskTargets:4',
        'tasks:4',
        'taskTargets:4',
        'taskTargets:4',
        'taskTargets:4',
      ]);
      expect(deps.fake.table('taskTargets').size).toBe(12);
      expect(deps.fake.table('tasks').size).toBe(8);
      const stats = ChunkLoadStatsSchema.parse(
        JSON.parse(await deps.work.getText(loadStatsKey('r1', '04-activities', 'task', input.key))),
      );
      expect(stats.targets).toEqual({ written: 12, rejected: 0 });
    });
  });

  it('splits the writes to the batchMax it is given', async () => {
    const deps = loadDeps();
    const lines = Array.from({ length: 7 }, (_, i) => person(i + 1));
    const input = await putChunk(deps, 'r1', '02-people', 'patient', lines);
    await loadChunk({ ...input, batchMax: 3 }, deps);
    expect(deps.fake.calls).toEqual(['people:3', 'people:3', 'people:1']);
  });

  describe('slices among records already written', () => {
    const lines = Array.from({ length: 7 }, (_, i) => person(i + 1));
    /** P2 and P4 written with this content before (the sample load, an earlier run): 5 left to send. */
    async function withTwoWritten(deps: LoadTestDeps) {
      await loadChunk(await putChunk(deps, 'r0', '02-people', 'patient', [person(2), person(4)], 9), deps);
      deps.fake.calls.length = 0;
      return putChunk(deps, 'r1', '02-people', 'patient', lines);
    }

    it('fills every batch with records to send, not with lines', async () => {
      const deps = loadDeps();
      const input = await withTwoWritten(deps);
      const expired = { ...deps, deadlineAt: deps.clock.now() - 1 };
      const cursors = [];
      for (let tick = 0; tick < 5; tick++) {
        const out = await loadChunk({ ...input, batchMax: 2 }, expired);
        cursors.push(out.cursor);
        if (out.done) break;
      }
      // Slices P1–P3, P4–P6 (the written P2 and P4 ride along), then P7: 3 batches where 4 were sent
      // by slices of 2 lines.
      expect(cursors).toEqual([3, 6, 7]);
      expect(deps.fake.calls).toEqual(['people:2', 'people:2', 'people:1']);
      const stats = ChunkLoadStatsSchema.parse(
        JSON.parse(await deps.work.getText(loadStatsKey('r1', '02-people', 'patient', input.key))),
      );
      expect(stats).toMatchObject({ records: 7, created: 5, unchanged: 2, requests: 3 });
    });

    it('spans at most ten batches of lines, so a chunk written already still saves its progress', async () => {
      const deps = loadDeps();
      const same = Array.from({ length: 25 }, (_, i) => person(i + 1));
      await loadChunk(await putChunk(deps, 'r0', '02-people', 'patient', same, 9), deps);
      const calls = deps.fake.calls.length;
      const input = await putChunk(deps, 'r1', '02-people', 'patient', same);
      const expired = { ...deps, deadlineAt: deps.clock.now() - 1 };
      const cursors = [];
      for (let tick = 0; tick < 5; tick++) {
        const out = await loadChunk({ ...input, batchMax: 2 }, expired);
        cursors.push(out.cursor);
        if (out.done) break;
      }
      expect(cursors).toEqual([20, 25]);
      expect(deps.fake.calls).toHaveLength(calls);
    });

    it('cuts a retried slice where its interrupted attempt cut it, counting each record once', async () => {
      const deps = loadDeps();
      const input = await withTwoWritten(deps);
      const put = deps.work.put.bind(deps.work);
      let progressSaves = 0;
      deps.work.put = async (key: string, body: string | Uint8Array, type?: string) => {
        if (key.includes('/load-progress/') && ++progressSaves === 2) throw new Error('connection lost');
        return put(key, body, type);
      };
      // The second slice (P4–P6) reaches Twenty and the ledger; its progress is never saved.
      await expect(loadChunk({ ...input, batchMax: 2 }, deps)).rejects.toThrow('connection lost');
      expect(deps.fake.calls).toEqual(['people:2', 'people:2']);
      const out = await loadChunk({ ...input, batchMax: 2 }, deps);
      expect(out).toMatchObject({ done: true, cursor: 7, created: 5, unchanged: 2 });
      // The retried slice is P4–P6 again: P5 and P6 already written (reported, not re-sent), P7 next.
      expect(deps.fake.calls).toEqual(['people:2', 'people:2', 'people:1']);
      expect((await ledgerOf(deps, 'r1')).map((e) => [e.sourceId, e.op])).toEqual([
        ['P1', 'created'],
        ['P3', 'created'],
        ['P5', 'created'],
        ['P6', 'created'],
        ['P7', 'created'],
      ]);
    });
  });

  it('hands back a continuation each time its deadline passes and finishes the chunk across ticks', async () => {
    const deps = loadDeps();
    const lines = Array.from({ length: 7 }, (_, i) => person(i + 1));
    const input = await putChunk(deps, 'r1', '02-people', 'patient', lines);
    // A deadline already past: every tick writes exactly one slice (one batch) and stops.
    const expired = { ...deps, deadlineAt: deps.clock.now() - 1 };
    const ticks = [];
    for (let tick = 0; tick < 10; tick++) {
      const out = await loadChunk({ ...input, batchMax: 2 }, expired);
      ticks.push([out.done, out.cursor]);
      expect(await deps.work.exists(loadStatsKey('r1', '02-people', 'patient', input.key))).toBe(out.done);
      if (out.done) break;
      expect(out.waitSeconds).toBe(0);
    }
    expect(ticks).toEqual([
      [false, 2],
      [false, 4],
      [false, 6],
      [true, 7],
    ]);
    expect(deps.fake.calls).toEqual(['people:2', 'people:2', 'people:2', 'people:1']);
    expect((await ledgerOf(deps, 'r1')).map((e) => e.sourceId)).toEqual([
      'P1',
      'P2',
      'P3',
      'P4',
      'P5',
      'P6',
      'P7',
    ]);
    const counters = (await deps.runStore.getRun('r1'))?.counters;
    expect(counters).toMatchObject({
      created: 7,
      'phase_02-people_records': 7,
      'phase_02-people_requests': 4,
      'phase_02-people_ticks': 4,
    });
    const stats = ChunkLoadStatsSchema.parse(
      JSON.parse(await deps.work.getText(loadStatsKey('r1', '02-people', 'patient', input.key))),
    );
    expect(stats).toMatchObject({ records: 7, created: 7, requests: 4 });
    expect(stats.writtenIds).toEqual(lines.map((line) => line.id));
    // A tick after the end (a retried last tick, a resumed run) writes nothing and reports the same.
    const again = await loadChunk({ ...input, batchMax: 2 }, expired);
    expect(again).toMatchObject({ done: true, created: 7 });
    expect(deps.fake.calls).toHaveLength(4);
  });

  it('works through the whole chunk in one tick while its deadline is ahead', async () => {
    const deps = loadDeps();
    const lines = Array.from({ length: 5 }, (_, i) => person(i + 1));
    const input = await putChunk(deps, 'r1', '02-people', 'patient', lines);
    const out = await loadChunk(
      { ...input, batchMax: 2 },
      { ...deps, deadlineAt: deps.clock.now() + 60_000 },
    );
    expect(out).toMatchObject({ done: true, cursor: 5, created: 5 });
    expect((await deps.runStore.getRun('r1'))?.counters).toMatchObject({ 'phase_02-people_ticks': 1 });
  });

  it("reads a slice's saved intent only at the tick's first slice, where an attempt that died left it, and keeps that slice's before-image", async () => {
    const deps = loadDeps();
    deps.fake.seed('people', { id: uid(9, 1), name: { firstName: 'Existing', lastName: 'Contact' } });
    const lines = Array.from({ length: 6 }, (_, i) =>
      i === 2 ? person(3, { id: uid(9, 1), mergeTarget: true }) : person(i + 1),
    );
    const input = await putChunk(deps, 'r1', '02-people', 'patient', lines);
    const intentReads: string[] = [];
    const getText = deps.work.getText.bind(deps.work);
    deps.work.getText = async (key: string) => {
      if (key.includes('/load-intent/')) intentReads.push(key.slice(key.lastIndexOf('@')));
      return getText(key);
    };
    const later = { ...deps, deadlineAt: deps.clock.now() + 60_000 };
    // Attempt 1 dies in its second slice (P3, P4) after Twenty took the write, before the ledger.
    const appendMany = deps.ledger.appendMany.bind(deps.ledger);
    let appends = 0;
    deps.ledger.appendMany = async (entries) => {
      if (++appends === 2) throw new Error('ledger unavailable');
      return appendMany(entries);
    };
    await expect(loadChunk({ ...input, batchMax: 2 }, later)).rejects.toThrow('ledger unavailable');
    deps.ledger.appendMany = appendMany;
    expect(intentReads).toEqual(['@0.json']);

    const out = await loadChunk({ ...input, batchMax: 2 }, later);

    // The retry starts at the saved cursor (2), reads the intent there and no other.
    expect(intentReads).toEqual(['@0.json', '@2.json']);
    expect(out).toMatchObject({ done: true, created: 5, updated: 1 });
    const merged = (await ledgerOf(deps, 'r1')).find((e) => e.sourceId === 'P3');
    expect(merged).toMatchObject({ op: 'updated' });
    expect(merged?.beforeImage).toMatchObject({ name: { firstName: 'Existing', lastName: 'Contact' } });
  });

  it('saves no intent before sending a slice of records decided created from the id map alone', async () => {
    const deps = loadDeps();
    const lines = Array.from({ length: 4 }, (_, i) => person(i + 1));
    const input = await putChunk(deps, 'r1', '02-people', 'patient', lines);
    const puts: string[] = [];
    const put = deps.work.put.bind(deps.work);
    deps.work.put = async (key: string, body: string | Uint8Array, type?: string) => {
      if (key.includes('/load-intent/'))
        puts.push(`${key.slice(key.lastIndexOf('@'))}:${deps.fake.calls.length}`);
      return put(key, body, type);
    };
    await loadChunk({ ...input, batchMax: 2 }, deps);
    // One intent per slice, after Twenty's answer (one call made), none before the write.
    expect(puts).toEqual(['@0.json:1', '@2.json:2']);
  });

  it('a pure-created slice killed between Twenty and its intent is sent again on resume, counted once', async () => {
    const deps = loadDeps();
    const lines = Array.from({ length: 4 }, (_, i) => person(i + 1));
    const input = await putChunk(deps, 'r1', '02-people', 'patient', lines);
    const put = deps.work.put.bind(deps.work);
    deps.work.put = async (key: string, body: string | Uint8Array, type?: string) => {
      if (key.includes('/load-intent/') && key.endsWith('@2.json')) throw new Error('killed');
      return put(key, body, type);
    };
    await expect(loadChunk({ ...input, batchMax: 2 }, deps)).rejects.toThrow('killed');
    deps.work.put = put;
    const out = await loadChunk({ ...input, batchMax: 2 }, deps);
    expect(out).toMatchObject({ done: true, created: 4, updated: 0, unchanged: 0 });
    expect((await ledgerOf(deps, 'r1')).map((e) => [e.sourceId, e.op])).toEqual(
      lines.map((line) => [line.sourceId, 'created']),
    );
    expect([...deps.fake.table('people').keys()]).toHaveLength(4);
    // The batch whose answer was lost is sent again (an upsert on the same ids): one request more.
    expect(deps.fake.calls).toEqual(['people:2', 'people:2', 'people:2']);
  });

  it('still saves a merge target’s decision and before-image before sending it: a kill before the answer keeps the image', async () => {
    const deps = loadDeps();
    deps.fake.seed('people', { id: uid(9, 1), name: { firstName: 'Existing', lastName: 'Contact' } });
    const lines = [person(1), person(2, { id: uid(9, 1), mergeTarget: true })];
    const input = await putChunk(deps, 'r1', '02-people', 'patient', lines);
    const put = deps.work.put.bind(deps.work);
    let intents = 0;
    deps.work.put = async (key: string, body: string | Uint8Array, type?: string) => {
      // The second intent put is the one after Twenty's answer: the process dies there.
      if (key.includes('/load-intent/') && ++intents === 2) throw new Error('killed');
      return put(key, body, type);
    };
    await expect(loadChunk(input, deps)).rejects.toThrow('killed');
    deps.work.put = put;
    const out = await loadChunk(input, deps);
    expect(out).toMatchObject({ done: true, created: 1, updated: 1 });
    const merged = (await ledgerOf(deps, 'r1')).find((e) => e.sourceId === 'P2');
    expect(merged).toMatchObject({ op: 'updated' });
    expect(merged?.beforeImage).toMatchObject({ name: { firstName: 'Existing', lastName: 'Contact' } });
  });

  it('keeps the written records as line ranges in the progress, one put a slice, and their ids in the stats', async () => {
    const deps = loadDeps();
    const lines = Array.from({ length: 7 }, (_, i) => person(i + 1));
    const input = await putChunk(deps, 'r1', '02-people', 'patient', lines);
    // P4 was written by an earlier run with this content: unchanged, not among the written.
    await deps.ledger.putIdMap(sourceInstance, 'patient', [
      { sourceId: 'P4', twentyId: uid(1, 4), contentHash: 'h4', runId: 'r0' },
    ]);
    const progressKey = loadProgressKey('r1', '02-people', 'patient', input.key);
    const saved: string[] = [];
    const put = deps.work.put.bind(deps.work);
    deps.work.put = async (key: string, body: string | Uint8Array, type?: string) => {
      if (key === progressKey) saved.push(String(body));
      return put(key, body, type);
    };
    const out = await loadChunk({ ...input, batchMax: 2 }, deps);
    expect(out).toMatchObject({ done: true, created: 6, unchanged: 1 });
    // Slices P1-P2, P3-P5 (P4 rides along), P6-P7: one progress put each, none more for the tick.
    expect(saved).toHaveLength(3);
    const last = JSON.parse(saved.at(-1) as string);
    expect(last).toMatchObject({
      writtenIds: [],
      writtenLines: [
        [0, 3],
        [4, 7],
      ],
      ticks: 1,
    });
    for (const body of saved) for (const line of lines) expect(body).not.toContain(line.id);
    const stats = ChunkLoadStatsSchema.parse(
      JSON.parse(await deps.work.getText(loadStatsKey('r1', '02-people', 'patient', input.key))),
    );
    expect(stats.writtenIds).toEqual(lines.filter((l) => l.sourceId !== 'P4').map((l) => l.id));
  });

  it('continues a progress saved with the written ids (the earlier format), keeping them in the stats', async () => {
    const deps = loadDeps();
    const lines = Array.from({ length: 4 }, (_, i) => person(i + 1));
    const input = await putChunk(deps, 'r1', '02-people', 'patient', lines);
    // An earlier version wrote P1 and P2 (Twenty, ledger, id map) and saved their ids in the progress.
    const first = await loadChunk({ ...input, batchMax: 2 }, { ...deps, deadlineAt: deps.clock.now() - 1 });
    expect(first).toMatchObject({ done: false, cursor: 2 });
    const progressKey = loadProgressKey('r1', '02-people', 'patient', input.key);
    const { writtenLines: _lines, ...old } = JSON.parse(await deps.work.getText(progressKey));
    await deps.work.put(progressKey, JSON.stringify({ ...old, writtenIds: [uid(1, 1), uid(1, 2)] }));
    const out = await loadChunk({ ...input, batchMax: 2 }, deps);
    expect(out).toMatchObject({ done: true, created: 4 });
    const stats = ChunkLoadStatsSchema.parse(
      JSON.parse(await deps.work.getText(loadStatsKey('r1', '02-people', 'patient', input.key))),
    );
    expect(stats.writtenIds).toEqual(lines.map((l) => l.id));
    expect(deps.fake.calls).toEqual(['people:2', 'people:2']);
  });

  it("reads the next slice's id map while this slice's progress is saved, after this slice's id map rows", async () => {
    const deps = loadDeps();
    // P1 twice: the second line must see the row the first slice wrote (an update, not a create).
    const lines = [person(1), person(2), person(1, { line: 9, contentHash: 'h1b' }), person(4)];
    const input = await putChunk(deps, 'r1', '02-people', 'patient', lines);
    const events: string[] = [];
    const getIdMap = deps.ledger.getIdMap.bind(deps.ledger);
    deps.ledger.getIdMap = async (instance, entity, ids) => {
      events.push(`read ${ids.join(',')}`);
      return getIdMap(instance, entity, ids);
    };
    const progressKey = loadProgressKey('r1', '02-people', 'patient', input.key);
    const put = deps.work.put.bind(deps.work);
    deps.work.put = async (key: string, body: string | Uint8Array, type?: string) => {
      await put(key, body, type);
      if (key === progressKey) events.push('progress saved');
    };
    const out = await loadChunk({ ...input, batchMax: 2 }, deps);
    expect(events).toEqual(['read P1,P2', 'read P1,P4', 'progress saved', 'progress saved']);
    expect(out).toMatchObject({ done: true, created: 3, updated: 1 });
    expect((await ledgerOf(deps, 'r1')).map((e) => [e.sourceId, e.op])).toEqual([
      ['P1', 'created'],
      ['P1', 'updated'],
      ['P2', 'created'],
      ['P4', 'created'],
    ]);
  });

  it('a failed read-ahead fails the tick after its slice is saved; the retry continues there', async () => {
    const deps = loadDeps();
    const lines = Array.from({ length: 4 }, (_, i) => person(i + 1));
    const input = await putChunk(deps, 'r1', '02-people', 'patient', lines);
    const getIdMap = deps.ledger.getIdMap.bind(deps.ledger);
    let reads = 0;
    deps.ledger.getIdMap = async (instance, entity, ids) => {
      if (++reads === 2) throw new TransientError('ledger table: DynamoDB BatchGetItem failed');
      return getIdMap(instance, entity, ids);
    };
    await expect(loadChunk({ ...input, batchMax: 2 }, deps)).rejects.toThrow(TransientError);
    const out = await loadChunk({ ...input, batchMax: 2 }, deps);
    expect(out).toMatchObject({ done: true, created: 4 });
    expect(deps.fake.calls).toEqual(['people:2', 'people:2']);
  });

  it('continues from the saved progress when a tick died mid-chunk, writing nothing twice', async () => {
    const deps = loadDeps();
    const lines = Array.from({ length: 6 }, (_, i) => person(i + 1));
    const input = await putChunk(deps, 'r1', '02-people', 'patient', lines);
    const expired = { ...deps, deadlineAt: deps.clock.now() - 1 };
    await loadChunk({ ...input, batchMax: 2 }, expired);
    // The next tick dies after its batch reached Twenty, before the ledger (a kill, a lost connection).
    const appendMany = deps.ledger.appendMany.bind(deps.ledger);
    deps.ledger.appendMany = async () => {
      throw new Error('ledger unavailable');
    };
    await expect(loadChunk({ ...input, batchMax: 2 }, expired)).rejects.toThrow('ledger unavailable');
    deps.ledger.appendMany = appendMany;
    // A new invocation (no cursor in its input) picks up where the saved progress says.
    let out = await loadChunk({ ...input, batchMax: 2 }, deps);
    expect(out).toMatchObject({ done: true, cursor: 6, created: 6, updated: 0 });
    out = await loadChunk({ ...input, batchMax: 2 }, deps);
    expect(out).toMatchObject({ done: true, created: 6 });
    expect((await ledgerOf(deps, 'r1')).map((e) => [e.sourceId, e.op])).toEqual(
      lines.map((line) => [line.sourceId, 'created']),
    );
    expect([...deps.fake.table('people').keys()]).toHaveLength(6);
    // The batch Twenty accepted before the ledger failed is recorded from the intent, not sent again.
    expect(deps.fake.calls).toEqual(['people:2', 'people:2', 'people:2']);
  });
});

describe('load phases', () => {
  it('sort in load order so rollback walks children before parents', () => {
    expect([...LOAD_PHASES].sort()).toEqual([...LOAD_PHASES]);
    expect(LOAD_PHASES[0]).toBe('01-companies');
    expect(LOAD_PHASES.at(-1)).toBe('06-attachments');
  });
});
