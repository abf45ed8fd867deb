import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ExpectedExport, generateExport } from '../../../lib/generate/index.ts';
import { type RunningSandbox, startSandbox } from '../../../lib/sandbox/index.ts';
import { ferry, repoRoot } from '../support/ferry-cli.ts';
import { comparable } from '../support/sandbox-state.ts';

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
    const writtenAtKill = Object.values(atKill.records).reduce((n, r) => n + r.active, 0);
    const referenceDump = await reference.dump();
    const total = Object.values(comparable(referenceDump)).reduce(
      (n, byId) => n + Object.keys(byId).length,
      0,
    );
    expect(writtenAtKill).toBeLessThan(total);

    const status = await ferry(['status', '--json', '--state-dir', killedState]);
    expect(status.code, status.stderr).toBe(0);
    const runId = (JSON.parse(status.stdout) as { runId: string }[])[0]?.runId ?? '';
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

    // Only what was left went out: batch writes ≈ remaining records / 200.
    const after = await target.stats();
    const writes = (stats: typeof after) =>
      Object.entries(stats.requests)
        .filter(([route]) => /batch/.test(route))
        .reduce((n, [, byStatus]) => n + Object.values(byStatus).reduce((a, b) => a + b, 0), 0);
    const resumedWrites = writes(after) - writes(atKill);
    const remaining = total - writtenAtKill;
    // A batch holds one object's records: the least any batcher could send is a ceiling per object.
    const perObject = Object.entries(comparable(referenceDump)).map(
      ([object, byId]) => Object.keys(byId).length - (atKill.records[object]?.active ?? 0),
    );
    const floor = perObject.reduce((n, left) => n + Math.ceil(Math.max(0, left) / 200), 0);
    console.log(
      `resume: ${remaining} records left at the kill, ${resumedWrites} batch writes to finish (per-object floor ${floor})`,
      Object.keys(after.requests),
    );
    // Within a few requests of that floor: task/note targets wait for full batches across slices, so
    // what is left is the slice in flight at the kill (re-sent as upserts) and a partial batch per chunk.
    expect(resumedWrites).toBeGreaterThanOrEqual(floor);
    expect(resumedWrites).toBeLessThanOrEqual(Math.ceil(floor * 1.05) + 4);
    expect(resumedWrites).toBeLessThanOrEqual(Math.ceil((remaining / 200) * 1.05) + 8);
  }, 600_000);
});
