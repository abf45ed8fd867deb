import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryObjectStore } from '../../../lambdas/adapters/memory-object-store.ts';
import { MemoryLedger } from '../../../lambdas/core/ledger/memory-ledger.ts';
import { MemoryRunStore } from '../../../lambdas/core/ledger/memory-run-store.ts';
import {
  type LoadPhase,
  loadChunkKey,
  type MappedLineInput,
  type PrepareStats,
  prepareStatsKey,
} from '../../../lambdas/core/load/format.ts';
import { silentLog } from '../../../lambdas/ports/log.ts';
import type { TwentyModel } from '../../../lambdas/ports/twenty-model.ts';
import type { TaskDeps } from '../../../lambdas/tasks/deps.ts';
import { loadChunk } from '../../../lambdas/tasks/load-chunk/load-chunk.ts';
import { LoadChunkInputSchema, type LoadChunkOutput } from '../../../lambdas/tasks/load-chunk/schema.ts';
import { reconcile } from '../../../lambdas/tasks/reconcile/reconcile.ts';
import type { TwentyClient } from '../../../lambdas/twenty/client.ts';
import { type RunningSandbox, sandboxAndClient, testId } from '../twenty-client/helpers.ts';

/** Reconcile ticks until done (a test's deps have no deadline, so the first tick finishes). */
async function reconciled(...args: Parameters<typeof reconcile>) {
  const out = await reconcile(...args);
  if (!out.done) throw new Error('Reconcile handed back a continuation');
  return out;
}

const folder = 'drop/clinic/';
const sourceInstance = 'clinic';
const scanBytes = new Uint8Array(50_000).map((_, i) => (i * 17 + 3) % 251);

interface Chunk {
  readonly phase: LoadPhase;
  readonly entity: string;
  readonly lines: MappedLineInput[];
}

/** Hand-made mapped chunks, as Prepare would write them, for one synthetic practice. */
function practiceChunks(model: TwentyModel): Chunk[] {
  const company = testId(0x10, 1);
  const people = [testId(0x20, 1), testId(0x20, 2)];
  const existing = testId(0x99, 1);
  const task = testId(0x30, 1);
  const note = testId(0x40, 1);
  return [
    {
      phase: '01-companies',
      entity: 'practice',
      lines: [
        {
          sourceId: 'C1',
          line: 2,
          id: company,
          object: 'companies',
          data: { name: 'Synthetic Smiles', domainName: { primaryLinkUrl: 'https://smiles.example.test' } },
          contentHash: 'c1',
        },
      ],
    },
    {
      phase: '02-people',
      entity: 'patient',
      lines: [
        ...people.map((id, i) => ({
          sourceId: `P${i + 1}`,
          line: i + 2,
          id,
          object: 'people',
          data: {
            name: { firstName: `Given${i + 1}`, lastName: 'Synthetic' },
            emails: { primaryEmail: `patient${i + 1}@example.test`, additionalEmails: [] },
            companyId: company,
          },
          contentHash: `p${i + 1}`,
        })),
        {
          sourceId: 'P3',
          line: 4,
          id: existing,
          object: 'people',
          data: {
            name: { firstName: 'Imported', lastName: 'Synthetic' },
            emails: { primaryEmail: 'already.there@example.test', additionalEmails: [] },
          },
          contentHash: 'p3',
          mergeTarget: true,
        },
      ],
    },
    {
      phase: '04-activities',
      entity: 'recall',
      lines: [
        {
          sourceId: 'T1',
          line: 2,
          id: task,
          object: 'tasks',
          data: { title: 'Six-month recall' },
          targets: [
            {
              object: 'taskTargets',
              data: {
                id: testId(0x31, 1),
                taskId: task,
                [model.joinColumn('person', 'taskTarget')]: people[0],
              },
            },
          ],
          contentHash: 't1',
        },
      ],
    },
    {
      phase: '04-activities',
      entity: 'chartNote',
      lines: [
        {
          sourceId: 'N1',
          line: 2,
          id: note,
          object: 'notes',
          data: { title: 'Synthetic chart note' },
          targets: [
            {
              object: 'noteTargets',
              data: {
                id: testId(0x41, 1),
                noteId: note,
                [model.joinColumn('person', 'noteTarget')]: people[1],
              },
            },
          ],
          contentHash: 'n1',
        },
      ],
    },
    {
      phase: '06-attachments',
      entity: 'document',
      lines: [
        {
          sourceId: 'D1',
          line: 2,
          id: testId(0x50, 1),
          object: 'attachments',
          data: { name: 'xray-synthetic.png', [model.joinColumn('person', 'attachment')]: people[0] },
          contentHash: 'd1',
          file: {
            key: `${folder}documents/xray-synthetic.png`,
            name: 'xray-synthetic.png',
            mime: 'image/png',
          },
        },
      ],
    },
  ];
}

async function loadAll(deps: TaskDeps, runId: string, chunks: readonly Chunk[]): Promise<LoadChunkOutput[]> {
  const outputs: LoadChunkOutput[] = [];
  for (const chunk of chunks) {
    const key = loadChunkKey(runId, chunk.phase, chunk.entity, 1);
    await deps.work.put(key, `${chunk.lines.map((line) => JSON.stringify(line)).join('\n')}\n`);
    const input = LoadChunkInputSchema.parse({
      runId,
      phase: chunk.phase,
      entity: chunk.entity,
      key,
      records: chunk.lines.length,
      sourceInstance,
    });
    outputs.push(await loadChunk(input, deps));
  }
  return outputs;
}

async function startRun(
  deps: TaskDeps & { runStore: MemoryRunStore },
  runId: string,
  chunks: readonly Chunk[],
) {
  await deps.runStore.createRun({ runId, folder, source: 'apms', startedAt: new Date().toISOString() });
  await deps.runStore.acquireLock(folder, runId, 600_000);
  const prepare: PrepareStats = { runId, entities: {} };
  for (const chunk of chunks) {
    prepare.entities[chunk.entity] = {
      sourceRows: chunk.lines.length,
      mapped: chunk.lines.length,
      rejected: {},
      skipped: {},
      warnings: {},
      file: `${chunk.entity}.csv`,
      object: chunk.lines[0]?.object ?? '',
    };
  }
  await deps.work.put(prepareStatsKey(runId), JSON.stringify(prepare));
}

describe.each(['v1', 'v2'] as const)('LoadChunk and Reconcile against the %s sandbox', (flavor) => {
  let sandbox: RunningSandbox;
  let client: TwentyClient;
  let deps: TaskDeps & { ledger: MemoryLedger; runStore: MemoryRunStore };
  let chunks: Chunk[];

  beforeAll(async () => {
    ({ sandbox, client } = await sandboxAndClient({ flavor }));
    const drop = new MemoryObjectStore('drop');
    await drop.put(`${folder}documents/xray-synthetic.png`, scanBytes);
    deps = {
      drop,
      work: new MemoryObjectStore('work'),
      clock: { now: () => Date.now(), sleep: (ms) => new Promise((r) => setTimeout(r, ms)) },
      log: silentLog,
      ledger: new MemoryLedger(),
      runStore: new MemoryRunStore(),
      twenty: async () => client,
    };
    await client.createMany('people', [
      {
        id: testId(0x99, 1),
        name: { firstName: 'Before', lastName: 'Ferry' },
        emails: { primaryEmail: 'already.there@example.test', additionalEmails: [] },
        jobTitle: 'Hygienist',
      },
    ]);
    chunks = practiceChunks(await client.metadata());
  });
  afterAll(async () => {
    await sandbox?.stop();
  });

  it('loads companies, people, a task and a note with targets, and an attachment, then balances', async () => {
    await startRun(deps, 'run-1', chunks);
    const outputs = await loadAll(deps, 'run-1', chunks);

    expect(outputs.map((o) => [o.created, o.updated, o.unchanged, o.rejected])).toEqual([
      [1, 0, 0, 0],
      [2, 1, 0, 0],
      [1, 0, 0, 0],
      [1, 0, 0, 0],
      [1, 0, 0, 0],
    ]);
    const dump = await sandbox.dump();
    const person = (id: string) => dump.records.person?.find((r) => r.id === id);
    expect(person(testId(0x20, 1))).toMatchObject({ companyId: testId(0x10, 1) });
    expect(person(testId(0x99, 1))).toMatchObject({ name: { firstName: 'Imported' }, jobTitle: 'Hygienist' });
    expect(dump.records.person).toHaveLength(3);
    const join = (await client.metadata()).joinColumn('person', 'taskTarget');
    expect(dump.records.taskTarget).toEqual([
      expect.objectContaining({ id: testId(0x31, 1), taskId: testId(0x30, 1), [join]: testId(0x20, 1) }),
    ]);
    expect(dump.records.noteTarget).toEqual([
      expect.objectContaining({ noteId: testId(0x40, 1), [join]: testId(0x20, 2) }),
    ]);

    const [attachment] = dump.records.attachment ?? [];
    expect(attachment).toMatchObject({ id: testId(0x50, 1), name: 'xray-synthetic.png' });
    const sha = createHash('sha256').update(scanBytes).digest('hex');
    const stored = dump.files.find((file) => file.path === attachment?.fullPath);
    expect(stored?.sha256).toBe(sha);
    const back = await client.downloadFile(String(attachment?.fullPath));
    expect(Buffer.from(back).equals(Buffer.from(scanBytes))).toBe(true);
    if (flavor === 'v2') {
      expect(attachment?.file).toEqual([expect.objectContaining({ fileId: stored?.id })]);
    }

    const out = await reconciled({ runId: 'run-1' }, deps);
    expect(out).toMatchObject({ status: 'succeeded', balanced: true, sourceRows: 7, loaded: 7, missing: 0 });
    expect(out.verified).toBe(7);
  });

  it('keeps the before-image of the pre-existing person it matched by email', async () => {
    const entries = [];
    for await (const entry of deps.ledger.entriesForRun('run-1')) entries.push(entry);
    const merged = entries.find((entry) => entry.sourceId === 'P3');
    expect(merged).toMatchObject({ op: 'updated', twentyId: testId(0x99, 1) });
    expect(merged?.beforeImage).toMatchObject({
      id: testId(0x99, 1),
      name: { firstName: 'Before', lastName: 'Ferry' },
      jobTitle: 'Hygienist',
    });
    expect(entries.filter((entry) => entry.beforeImage !== undefined)).toHaveLength(1);
  });

  it('reports every record unchanged on a second load of the same chunks and writes nothing', async () => {
    const before = await sandbox.dump();
    const requestsBefore = client.stats().requests;
    await startRun(deps, 'run-2', chunks);

    const outputs = await loadAll(deps, 'run-2', chunks);

    expect(outputs.every((o) => o.created === 0 && o.updated === 0 && o.rejected === 0)).toBe(true);
    expect(outputs.reduce((n, o) => n + o.unchanged, 0)).toBe(7);
    expect(client.stats().requests).toBe(requestsBefore);
    const after = await sandbox.dump();
    for (const object of ['company', 'person', 'task', 'note', 'taskTarget', 'noteTarget', 'attachment']) {
      expect(after.records[object]?.length, object).toBe(before.records[object]?.length);
    }
    expect(after.files).toHaveLength(before.files.length);
    const out = await reconciled({ runId: 'run-2' }, deps);
    // Unchanged records are loaded records too: every one is read back and compared field by field.
    expect(out).toMatchObject({
      status: 'succeeded',
      balanced: true,
      unchanged: 7,
      created: 0,
      verified: 7,
      mismatches: 0,
    });
  });
});
