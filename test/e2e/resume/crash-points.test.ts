import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Reconciliation } from '../../../lambdas/core/reconcile/report.ts';
import { type ExpectedExport, generateExport } from '../../../lib/generate/index.ts';
import { type RunningSandbox, type SandboxStats, startSandbox } from '../../../lib/sandbox/index.ts';
import { expectCountsAsPredicted } from '../support/expected-counts.ts';
import { ferry, startFerry, until } from '../support/ferry-cli.ts';
import { comparable, duplicateIds } from '../support/sandbox-state.ts';

/**
 * SIGKILL at two more crash points than kill-resume.test.ts (which kills mid-LoadPhases): during
 * Segment, and during Reconcile's read-back. The kill point is found by watching what the run really
 * writes — Segment's chunk objects in the embedded S3 server's directory, the `Reconcile…` stage line
 * on stderr and the read-back requests reaching Twenty — and proven afterwards from the run's
 * checkpoints (the stage killed has none, the one before it has). A resume is refused while the run's
 * copy of the export differs from what it planned.
 */

/** The same chunk size for every run: ~70 chunks, so Segment is under way long enough to be killed in. */
const CHUNK = '50';

function targetArgs(sandbox: RunningSandbox, rate: string): string[] {
  return ['--twenty-url', sandbox.url, '--api-key', sandbox.apiKey, '--rate', rate, '--tick-seconds', '1'];
}

function runArgs(dir: string, stateDir: string, sandbox: RunningSandbox, rate: string): string[] {
  return ['run', dir, '--yes', '--chunk-size', CHUNK, '--state-dir', stateDir, ...targetArgs(sandbox, rate)];
}

/** The run id the process holding the state dir is executing (its lock file). */
function runIdIn(stateDir: string): string | undefined {
  const path = join(stateDir, 'in-use.json');
  if (!existsSync(path)) return undefined;
  try {
    return (JSON.parse(readFileSync(path, 'utf8')) as { runId?: string }).runId;
  } catch {
    return undefined;
  }
}

/** The run's folder in the embedded S3 server's directory (s3rver keeps one file per object). */
function runObjects(stateDir: string, runId: string, under: string): string[] {
  const dir = join(stateDir, 's3', 'ferry-work', 'runs', runId, under);
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('._S3rver_object'));
}

/** The top-level stages whose output the local runner checkpointed (finished stages). */
function checkpointed(stateDir: string, runId: string): string[] {
  return runObjects(stateDir, runId, 'checkpoints')
    .map((f) => f.replace(/\.json\._S3rver_object$/, ''))
    .filter((name) => name !== 'input');
}

/** Write requests (batch creates, single creates and updates) the sandbox answered so far. */
function writes(stats: SandboxStats): number {
  return Object.entries(stats.requests)
    .filter(([route]) => /^(POST|PATCH) \/rest\/(?!metadata)/.test(route))
    .reduce((n, [, byStatus]) => n + Object.values(byStatus).reduce((a, b) => a + b, 0), 0);
}

function reads(stats: SandboxStats): number {
  return Object.entries(stats.requests)
    .filter(([route]) => /^GET \/rest\/(?!metadata)/.test(route))
    .reduce((n, [, byStatus]) => n + Object.values(byStatus).reduce((a, b) => a + b, 0), 0);
}

interface ResumeJson {
  runId: string;
  resumed: boolean;
  status: string;
  reconciliation: Reconciliation | null;
}

describe('a local run killed with SIGKILL during Segment or during Reconcile, then resumed', () => {
  let dir: string;
  const temps: string[] = [];
  const sandboxes: RunningSandbox[] = [];
  let expected: ExpectedExport;
  let reference: Record<string, Record<string, unknown>>;

  const temp = (prefix: string) => {
    const path = mkdtempSync(join(tmpdir(), prefix));
    temps.push(path);
    return path;
  };
  const sandbox = async (rateLong: { limit: number; windowMs: number } | null) => {
    const started = await startSandbox({ rateShort: null, rateLong, members: expected.workspaceMembers });
    sandboxes.push(started);
    return started;
  };
  const resume = async (runId: string, stateDir: string, target: RunningSandbox, rate: string) => {
    const resumed = await ferry([
      'resume',
      runId,
      '--json',
      '--state-dir',
      stateDir,
      ...targetArgs(target, rate),
    ]);
    expect(resumed.code, resumed.stderr.slice(-1500)).toBe(0);
    const out = JSON.parse(resumed.stdout) as ResumeJson;
    expect(out).toMatchObject({ runId, resumed: true, status: 'SUCCEEDED' });
    expect(out.reconciliation?.status).toBe('succeeded');
    if (out.reconciliation) expectCountsAsPredicted(out.reconciliation, expected);
    return out;
  };

  beforeAll(async () => {
    dir = temp('ferry-e2e-crash-');
    expected = generateExport({
      source: 'pbn',
      patients: 400,
      seed: 'crash-points',
      defects: 0.02,
      outDir: dir,
    });
    const clean = await sandbox(null);
    const uninterrupted = await ferry([
      ...runArgs(dir, temp('ferry-e2e-crash-ref-'), clean, '1000/1s'),
      '--json',
    ]);
    expect(uninterrupted.code, uninterrupted.stderr.slice(-1500)).toBe(0);
    reference = comparable(await clean.dump());
  }, 240_000);
  afterAll(async () => {
    for (const started of sandboxes) await started.stop();
    for (const path of temps) rmSync(path, { recursive: true, force: true });
  });

  it('killed during Segment: resumes from the plan, segments again and ends in the uninterrupted state', async () => {
    const stateDir = temp('ferry-e2e-crash-seg-');
    const target = await sandbox(null);
    const child = startFerry(runArgs(dir, stateDir, target, '1000/1s'));
    const runId = await until('the run to start', () => runIdIn(stateDir), { everyMs: 20 });
    // The first chunk objects are on disk and the manifest is not: Segment is writing.
    await until(
      'Segment to write its first chunks',
      () => (runObjects(stateDir, runId, 'chunks').length > 2 ? true : undefined),
      {
        everyMs: 10,
      },
    );
    child.child.kill('SIGKILL');
    await child.done;
    expect(runObjects(stateDir, runId, 'chunks')).not.toContain('manifest.json._S3rver_object');
    expect(checkpointed(stateDir, runId)).toContain('Inventory');
    expect(checkpointed(stateDir, runId)).not.toContain('Segment');
    // Inventory read the workspace's metadata; no record was written yet.
    expect(writes(await target.stats())).toBe(0);

    // The run's copy of the export changed after it was planned (a file re-uploaded to its drop folder,
    // same size): `ferry resume` checks the plan's sha256 and refuses, naming the file, writing nothing.
    const { folder } = JSON.parse(readFileSync(join(stateDir, 'in-use.json'), 'utf8')) as { folder: string };
    const dropCopy = join(stateDir, 's3', 'ferry-drop', folder, 'clinical_notes.csv._S3rver_object');
    const original = readFileSync(dropCopy);
    const tampered = Buffer.from(original);
    const at = tampered.length - 2;
    tampered[at] = (tampered[at] ?? 0) === 0x41 ? 0x42 : 0x41;
    writeFileSync(dropCopy, tampered);
    const refused = await ferry([
      'resume',
      runId,
      '--json',
      '--state-dir',
      stateDir,
      ...targetArgs(target, '1000/1s'),
    ]);
    writeFileSync(dropCopy, original);
    expect(refused.code, refused.stderr).toBe(2);
    expect(refused.stderr).toMatch(
      new RegExp(
        `run ${runId} cannot be resumed: its input files changed .*clinical_notes\\.csv \\(sha256 differs\\)`,
      ),
    );
    expect(writes(await target.stats())).toBe(0);

    await resume(runId, stateDir, target, '1000/1s');
    const dump = await target.dump();
    expect(duplicateIds(dump)).toEqual([]);
    expect(comparable(dump)).toEqual(reference);
  });

  it('killed during Reconcile: resumes the read-back without writing a record again, and ends in the uninterrupted state', async () => {
    const stateDir = temp('ferry-e2e-crash-rec-');
    // A binding rate (8 requests/s): the read-back takes long enough to be killed in.
    const target = await sandbox({ limit: 480, windowMs: 60_000 });
    const child = startFerry(runArgs(dir, stateDir, target, '480/60s'));
    await until(
      'the Reconcile stage',
      () => (child.stderr().includes('ferry: Reconcile…') ? true : undefined),
      {
        timeoutMs: 240_000,
      },
    );
    const readsAtStart = reads(await target.stats());
    await until(
      'the read-back to reach Twenty',
      async () => (reads(await target.stats()) >= readsAtStart + 3 ? true : undefined),
      { everyMs: 20 },
    );
    child.child.kill('SIGKILL');
    await child.done;
    const runId = runIdIn(stateDir) ?? '';
    expect(runId).not.toBe('');
    // The last checkpointed Task before the load is the sample gate (LoadPhases is a Map, not checkpointed).
    expect(checkpointed(stateDir, runId)).toContain('AwaitSampleApproval');
    expect(checkpointed(stateDir, runId)).not.toContain('Reconcile');

    const atKill = await target.stats();
    const before = await target.dump();
    await resume(runId, stateDir, target, '480/60s');
    const after = await target.stats();
    // Every record was written before the kill: the resumed run reads, it never writes one again.
    expect(writes(after) - writes(atKill)).toBe(0);
    expect(reads(after)).toBeGreaterThan(reads(atKill));
    const dump = await target.dump();
    expect(dump.records).toEqual(before.records);
    expect(duplicateIds(dump)).toEqual([]);
    expect(comparable(dump)).toEqual(reference);
  });
});
