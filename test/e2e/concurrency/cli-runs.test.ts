import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Reconciliation } from '../../../lambdas/core/reconcile/report.ts';
import { dropFolderFor } from '../../../lib/cli/drop-folder.ts';
import { type ExpectedExport, generateExport } from '../../../lib/generate/index.ts';
import { type RunningSandbox, startSandbox } from '../../../lib/sandbox/index.ts';
import { ferry, startFerry as start, until } from '../support/ferry-cli.ts';

/** The run id a `ferry run` holding the state dir has written into its lock file. */
function holdingRun(stateDir: string): string | undefined {
  const path = join(stateDir, 'in-use.json');
  if (!existsSync(path)) return undefined;
  try {
    return (JSON.parse(readFileSync(path, 'utf8')) as { runId?: string }).runId;
  } catch {
    return undefined;
  }
}

interface RunJson {
  runId: string;
  status: string;
  reconciliation: Reconciliation | null;
}

describe('two ferry runs at once', () => {
  const dirs: string[] = [];
  let first: string;
  let second: string;
  let firstExpected: ExpectedExport;
  let secondExpected: ExpectedExport;
  let shared: RunningSandbox | undefined;

  const tempDir = (prefix: string) => {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    dirs.push(dir);
    return dir;
  };

  beforeAll(() => {
    first = tempDir('ferry-conc-first-');
    second = tempDir('ferry-conc-second-');
    firstExpected = generateExport({
      source: 'pbn',
      patients: 120,
      seed: 'conc-a',
      defects: 0.02,
      outDir: first,
    });
    secondExpected = generateExport({
      source: 'apms',
      patients: 120,
      seed: 'conc-b',
      defects: 0.02,
      outDir: second,
    });
  });
  afterAll(async () => {
    await shared?.stop();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a second run of the same folder by the run lock, naming the folder and the holding run', async () => {
    const stateDir = tempDir('ferry-conc-state-');
    // The first run waits at its plan gate for `ferry approve`: it holds the folder for as long as the test needs.
    const holder = start([
      'run',
      first,
      '--wait-for-approval',
      '--sample-size',
      '0',
      '--state-dir',
      stateDir,
    ]);
    try {
      const runId = await until('the first run to take the state dir', () => holdingRun(stateDir));
      await until('the first run to wait at its plan gate', () =>
        holder.stderr().includes('ferry approve') ? true : undefined,
      );

      const refused = await ferry(['run', first, '--yes', '--state-dir', stateDir]);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain(
        `drop folder ${dropFolderFor(first)} (${first}) is locked by run ${runId}`,
      );
      expect(refused.stderr).toContain('ferry status');
      // A resume of the held run is the same run lock.
      const resumed = await ferry(['resume', runId, '--state-dir', stateDir]);
      expect(resumed.code).toBe(2);
      expect(resumed.stderr).toContain(`is locked by run ${runId}`);
      // Another folder in the same state dir is refused too, and told how to run beside it.
      const other = await ferry(['run', second, '--yes', '--state-dir', stateDir]);
      expect(other.code).toBe(2);
      expect(other.stderr).toContain(`state dir ${stateDir} is in use by run ${runId}`);
      expect(other.stderr).toContain('its own --state-dir');

      // `ferry status` from another terminal reads the run in progress through the holder's servers.
      const status = await ferry(['status', '--json', '--state-dir', stateDir]);
      expect(status.code, status.stderr).toBe(0);
      const runs = JSON.parse(status.stdout) as { runId: string; status: string }[];
      expect(runs.map((r) => [r.runId, r.status])).toEqual([[runId, 'awaiting-approval']]);

      const approved = await ferry(['approve', runId, '--state-dir', stateDir]);
      expect(approved.code, approved.stderr).toBe(0);
      const finished = await holder.done;
      expect(finished.code, finished.stderr.slice(-1500)).toBe(0);
      expect(existsSync(join(stateDir, 'in-use.json'))).toBe(false);

      // The refused commands wrote nothing: one run, which succeeded; the folder runs again once free.
      const after = await ferry(['status', '--json', '--state-dir', stateDir]);
      expect((JSON.parse(after.stdout) as { runId: string; status: string }[]).map((r) => r.status)).toEqual([
        'succeeded',
      ]);
      const again = await ferry(['run', first, '--yes', '--json', '--state-dir', stateDir]);
      expect(again.code, again.stderr.slice(-1500)).toBe(0);
    } finally {
      holder.child.kill('SIGKILL');
      await holder.done;
    }
  });

  it('runs two folders side by side into one Twenty, each with its own state dir, without interference', async () => {
    shared = await startSandbox({
      rateShort: null,
      rateLong: null,
      members: [...firstExpected.workspaceMembers, ...secondExpected.workspaceMembers],
    });
    const target = ['--twenty-url', shared.url, '--api-key', shared.apiKey, '--rate', '600/1s'];
    const states = [tempDir('ferry-conc-side-a-'), tempDir('ferry-conc-side-b-')];
    const runs = [first, second].map((dir, i) =>
      start(['run', dir, '--yes', '--json', '--state-dir', states[i] ?? '', ...target]),
    );
    // Both hold their own state dir at the same time: they really ran side by side.
    await until('both runs to be under way', () =>
      states.every((state) => holdingRun(state) !== undefined) ? true : undefined,
    );
    const results = await Promise.all(runs.map((run) => run.done));
    const outs = results.map((result) => {
      expect(result.code, result.stderr.slice(-1500)).toBe(0);
      return JSON.parse(result.stdout) as RunJson;
    });
    const dump = await shared.dump();
    // reconciliation.readBack is keyed by plural name (the REST path), the dump by singular name.
    const singular = new Map(
      (dump.objects as { namePlural: string; nameSingular: string }[]).map((o) => [
        o.namePlural,
        o.nameSingular,
      ]),
    );
    const active = (plural: string) =>
      (dump.records[singular.get(plural) ?? plural] ?? []).filter((r) => r.deletedAt == null);

    for (const out of outs) {
      expect(out.status).toBe('SUCCEEDED');
      expect(out.reconciliation?.balanced).toBe(true);
      expect(out.reconciliation?.status).toBe('succeeded');
      expect(out.reconciliation?.totals.updated).toBe(0);
    }
    // Every record each run verified is in the shared workspace, and the workspace holds nothing else:
    // neither run updated, merged or removed the other's records.
    const objects = new Set(outs.flatMap((out) => Object.keys(out.reconciliation?.readBack ?? {})));
    expect(objects.size).toBeGreaterThan(3);
    for (const object of objects) {
      const verified = outs.map((out) => out.reconciliation?.readBack[object]?.verified ?? 0);
      const ids = active(object).map((r) => String(r.id));
      expect(new Set(ids).size, object).toBe(ids.length);
      expect(ids.length, object).toBe(verified.reduce((a, b) => a + b, 0));
    }
    expect(objects).toContain('people');
    for (const out of outs) expect(out.reconciliation?.readBack.people?.verified ?? 0).toBeGreaterThan(50);
  });
});
