import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MappedLineSchema } from '../../../lambdas/core/load/format.ts';
import { loadManifestItems } from '../../../lambdas/core/load/manifests.ts';
import { type ExpectedExport, generateExport } from '../../../lib/generate/index.ts';
import { startLocalRuntime } from '../../../lib/local/runtime.ts';
import {
  type RunningSandbox,
  type SandboxDump,
  type SandboxStats,
  startSandbox,
} from '../../../lib/sandbox/index.ts';
import { ferry, repoRoot } from '../support/ferry-cli.ts';
import { comparable } from '../support/sandbox-state.ts';

/** Records per batch: the sandbox's cap, Twenty's QUERY_MAX_RECORDS. */
const BATCH = 200;

/** Requests the sandbox answered, by kind: batch writes, reads, anything else. */
function requestsByKind(stats: SandboxStats): { writes: number; reads: number; other: number } {
  const out = { writes: 0, reads: 0, other: 0 };
  for (const [route, byStatus] of Object.entries(stats.requests)) {
    const n = Object.values(byStatus).reduce((a, b) => a + b, 0);
    if (/^POST \/rest\/batch\//.test(route)) out.writes += n;
    else if (route.startsWith('GET ')) out.reads += n;
    else out.other += n;
  }
  return out;
}

/** The requests the run's load ticks counted (run record counters, the sample load's excluded). */
function loaderRequests(counters: Readonly<Record<string, number>>): number {
  return Object.entries(counters)
    .filter(([name]) => /^phase_.*_requests$/.test(name))
    .reduce((n, [, value]) => n + value, 0);
}

/**
 * The least a loader that batches per load chunk can send for what was left: per chunk of the full
 * load and per object (its records, its task/note targets), ceil(left / batch), where "left" is what
 * the finished workspace holds and Twenty did not hold at the kill. Read from the killed run's own
 * load chunks through the local runtime on its state dir.
 */
async function perChunkFloor(
  stateDir: string,
  runId: string,
  atKill: ReadonlySet<string>,
  atEnd: ReadonlySet<string>,
): Promise<{ floor: number; chunks: string[] }> {
  const runtime = await startLocalRuntime({ stateDir });
  try {
    let floor = 0;
    const chunks: string[] = [];
    for (const item of await loadManifestItems(runtime.deps.work, runId)) {
      const left = new Map<string, number>();
      const count = (object: string, id: string) => {
        if (atEnd.has(id) && !atKill.has(id)) left.set(object, (left.get(object) ?? 0) + 1);
      };
      for (const raw of (await runtime.deps.work.getText(item.key)).split('\n')) {
        if (raw.trim() === '') continue;
        const line = MappedLineSchema.parse(JSON.parse(raw));
        count(line.object, line.id);
        for (const target of line.targets) count(target.object, target.data.id);
      }
      for (const [object, n] of left) {
        floor += Math.ceil(n / BATCH);
        chunks.push(`${item.entity}/${object} ${n}`);
      }
    }
    return { floor, chunks };
  } finally {
    await runtime.stop();
  }
}

/** Ids of every active record of a dump. */
function idsOf(dump: SandboxDump): Set<string> {
  const ids = new Set<string>();
  for (const records of Object.values(dump.records))
    for (const record of records) if (record.deletedAt == null) ids.add(String(record.id));
  return ids;
}

function runArgs(dir: string, stateDir: string, sandbox: RunningSandbox, rate: string): string[] {
  return [
    'run',
    dir,
    '--yes',
    '--json',
    '--state-dir',
    stateDir,
    '--twenty-url',
    sandbox.url,
    '--api-key',
    sandbox.apiKey,
    '--rate',
    rate,
    '--tick-seconds',
    '1',
  ];
}

describe('a run killed with SIGKILL mid-load, then resumed', () => {
  let dir: string;
  let referenceState: string;
  let killedState: string;
  let expected: ExpectedExport;
  let reference: RunningSandbox;
  let target: RunningSandbox;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ferry-e2e-resume-'));
    referenceState = mkdtempSync(join(tmpdir(), 'ferry-e2e-resume-ref-'));
    killedState = mkdtempSync(join(tmpdir(), 'ferry-e2e-resume-kill-'));
    expected = generateExport({
      source: 'pbn',
      patients: 400,
      seed: 'kill-resume',
      defects: 0.02,
      outDir: dir,
    });
    reference = await startSandbox({ rateShort: null, rateLong: null, members: expected.workspaceMembers });
    // Binding long window (8 requests/s): the run is mid-LoadPhases long enough to be killed there.
    target = await startSandbox({
      rateShort: null,
      rateLong: { limit: 480, windowMs: 60_000 },
      members: expected.workspaceMembers,
    });
  });
  afterAll(async () => {
    await reference?.stop();
    await target?.stop();
    for (const path of [dir, referenceState, killedState]) rmSync(path, { recursive: true, force: true });
  });

  it('ends in the same workspace as an uninterrupted run, sending only what was left', async () => {
    const uninterrupted = await ferry(runArgs(dir, referenceState, reference, '6000/60s'));
    expect(uninterrupted.code, uninterrupted.stderr.slice(-1500)).toBe(0);

    const child = spawn(
      process.execPath,
      [join(repoRoot, 'bin/ferry.ts'), ...runArgs(dir, killedState, target, '480/60s')],
      {
        cwd: repoRoot,
        stdio: ['ignore', 'ignore', 'ignore'],
        env: { ...process.env, NODE_OPTIONS: '' },
      },
    );
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    // Kill once the full load's activities phase is writing (people done, tasks/notes under way) —
    // past the sample load, which writes a few hundred records of every entity first.
    const deadline = Date.now() + 240_000;
    for (;;) {
      const stats = await target.stats();
      if ((stats.records.task?.active ?? 0) > 400) break;
      if (Date.now() > deadline) throw new Error('the run never reached the activities phase');
      await new Promise((r) => setTimeout(r, 200));
    }
    child.kill('SIGKILL');
    await exited;
    const atKill = await target.stats();
    const dumpAtKill = await target.dump();
    const writtenAtKill = Object.values(atKill.records).reduce((n, r) => n + r.active, 0);
    const referenceDump = await reference.dump();
    const total = Object.values(comparable(referenceDump)).reduce(
      (n, byId) => n + Object.keys(byId).length,
      0,
    );
    expect(writtenAtKill).toBeLessThan(total);

    const status = await ferry(['status', '--json', '--state-dir', killedState]);
    expect(status.code, status.stderr).toBe(0);
    type RunStatus = { runId: string; counters: Record<string, number> };
    const killedRun = (JSON.parse(status.stdout) as RunStatus[])[0];
    const runId = killedRun?.runId ?? '';
    expect(runId).not.toBe('');

    // A changed input file is refused before anything is written, naming the file.
    const notes = join(dir, 'clinical_notes.csv');
    const original = readFileSync(notes);
    writeFileSync(notes, Buffer.concat([original, Buffer.from('\n')]));
    const refused = await ferry(runArgs(dir, killedState, target, '480/60s'));
    writeFileSync(notes, original);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(new RegExp(`run ${runId} cannot be resumed.*clinical_notes\\.csv`));
    expect((await target.stats()).records).toEqual(atKill.records);

    const resumed = await ferry([
      'resume',
      runId,
      '--json',
      '--state-dir',
      killedState,
      '--twenty-url',
      target.url,
      '--api-key',
      target.apiKey,
      '--rate',
      '480/60s',
      '--tick-seconds',
      '1',
    ]);
    expect(resumed.code, resumed.stderr.slice(-1500)).toBe(0);
    const out = JSON.parse(resumed.stdout) as { runId: string; resumed: boolean; status: string };
    expect(out).toMatchObject({ runId, resumed: true, status: 'SUCCEEDED' });

    expect(comparable(await target.dump())).toEqual(comparable(referenceDump));

    // Only what was left went out. Every request the resumed part made to Twenty, by kind:
    const after = await target.stats();
    const [now, then] = [requestsByKind(after), requestsByKind(atKill)];
    const resumedPart = {
      writes: now.writes - then.writes,
      reads: now.reads - then.reads,
      other: now.other - then.other,
    };
    // The load ticks' own count (run record): the resumed loader's every request was a batch write,
    // so the reads are Reconcile's read-back, which verifies the whole run, as an uninterrupted run's does.
    const statusAfter = await ferry(['status', runId, '--json', '--state-dir', killedState]);
    const afterRun = JSON.parse(statusAfter.stdout) as RunStatus | RunStatus[];
    const countersAfter = (Array.isArray(afterRun) ? afterRun[0] : afterRun)?.counters ?? {};
    const loaderResumed = loaderRequests(countersAfter) - loaderRequests(killedRun?.counters ?? {});
    const remaining = total - writtenAtKill;
    // The criterion's literal bound, remaining / batch + 5 %, counts records of all objects in one pool;
    // a Twenty batch holds one object's records, so no loader can do better than ceil per object.
    const literal = (remaining / BATCH) * 1.05;
    const objectFloor = Object.entries(comparable(referenceDump))
      .map(([object, byId]) => Object.keys(byId).length - (atKill.records[object]?.active ?? 0))
      .reduce((n, left) => n + Math.ceil(Math.max(0, left) / BATCH), 0);
    // Ferry batches within a load chunk (chunks load in parallel): an object fed by several entities
    // (tasks from appointments and communications) or by several waves (treatment plans, then their
    // line items, which reference them) pays a partial batch per chunk.
    const chunkFloor = await perChunkFloor(killedState, runId, idsOf(dumpAtKill), idsOf(await target.dump()));
    console.log(
      `resume: ${remaining} records left at the kill; the resumed part sent ${resumedPart.writes} batch writes ` +
        `(literal bound ${literal.toFixed(1)}, per-object floor ${objectFloor}, per-chunk floor ${chunkFloor.floor}) ` +
        `and ${resumedPart.reads} reads (Reconcile's read-back); left per chunk: ${chunkFloor.chunks.join(', ')}`,
    );
    expect(resumedPart.other).toBe(0);
    expect(loaderResumed).toBe(resumedPart.writes);
    // Read from the chunks, the per-chunk floor splits the per-object one further, never below it.
    expect(chunkFloor.floor).toBeGreaterThanOrEqual(objectFloor);
    // Full batches all the way and nothing sent twice: a batch Twenty had answered before the kill is
    // recorded from its slice's intent, not sent again, and records already written (the sample's)
    // fill no batch. The 5 % leaves room for a batch killed before its answer was saved (re-sent).
    expect(resumedPart.writes).toBeGreaterThanOrEqual(chunkFloor.floor);
    expect(resumedPart.writes).toBeLessThanOrEqual(Math.ceil(chunkFloor.floor * 1.05));
    // Reconcile's read-back reads at most what the uninterrupted run read in all (sample diff included).
    expect(resumedPart.reads).toBeLessThanOrEqual(requestsByKind(await reference.stats()).reads);
  }, 600_000);
});
