import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LedgerEntry } from '../../../lambdas/ports/ledger.ts';
import type { TaskDeps } from '../../../lambdas/tasks/deps.ts';
import { taskRunner } from '../../../lambdas/tasks/handler-kit.ts';
import { taskRegistry } from '../../../lambdas/tasks/registry.ts';
import { rollback } from '../../../lambdas/tasks/rollback/rollback.ts';
import {
  RollbackInputSchema,
  type RollbackReport,
  RollbackReportSchema,
} from '../../../lambdas/tasks/rollback/schema.ts';
import { TwentyClient } from '../../../lambdas/twenty/client.ts';
import { uploadExportFolder } from '../../../lib/cli/drop-folder.ts';
import { generateExport } from '../../../lib/generate/index.ts';
import { autoApprover } from '../../../lib/local/approvals.ts';
import { type LocalRuntime, startLocalRuntime } from '../../../lib/local/runtime.ts';
import { type RunningSandbox, type SandboxDump, startSandbox } from '../../../lib/sandbox/index.ts';
import { uniqueEmails } from '../support/export-emails.ts';
import { records } from '../support/sandbox-dump.ts';

/** Where the simulated SIGKILL strikes; after it every store and Twenty call of the process fails. */
type KillPoint =
  | { readonly at: 'delete applied'; readonly n: number }
  | { readonly at: 'before ledger'; readonly n: number };

class Killed extends Error {
  override name = 'Killed';
}

/** Wraps one object so every method throws once the process is dead. */
function mortal<T extends object>(
  target: T,
  dead: () => boolean,
  hook?: (name: string, args: unknown[]) => void,
): T {
  return new Proxy(target, {
    get(obj, prop, receiver) {
      const value = Reflect.get(obj, prop, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (dead()) throw new Killed();
        hook?.(String(prop), args);
        return value.apply(obj, args);
      };
    },
  });
}

/**
 * Issue 11: a rollback killed in the middle and run again reports in `rollback.json` exactly the counts
 * of an uninterrupted rollback of the same migration — whether it dies before its first cursor save
 * would have happened, after Twenty applied a delete-many whose outcome it never recorded, or between
 * counting a page and ledgering it — and leaves the workspace as it was.
 */
describe('rollback counts across a kill', () => {
  let dir: string;
  let sandbox: RunningSandbox;
  let runtime: LocalRuntime;
  let folder: string;
  let before: SandboxDump;
  let kill: KillPoint | undefined;

  /** The Rollback task, with its Twenty client, work bucket and ledger dying at `kill`. */
  function killable(deps: TaskDeps): TaskDeps {
    let dead = false;
    let deletes = 0;
    let ledgered = 0;
    const isDead = () => dead;
    const point = kill;
    return {
      ...deps,
      work: mortal(deps.work, isDead),
      ledger: mortal(deps.ledger, isDead, (name, args) => {
        if (name !== 'appendMany' || point?.at !== 'before ledger') return;
        if ((args[0] as LedgerEntry[]).some((e) => e.op === 'destroyed') && ++ledgered === point.n) {
          dead = true;
          throw new Killed();
        }
      }),
      twenty: async () => {
        const twenty = await deps.twenty();
        return new Proxy(twenty, {
          get(obj, prop, receiver) {
            const value = Reflect.get(obj, prop, receiver);
            if (typeof value !== 'function') return value;
            return (...args: unknown[]) => {
              if (dead) throw new Killed();
              const out = value.apply(obj, args);
              if (prop !== 'destroyByIds' || point?.at !== 'delete applied') return out;
              return (out as Promise<unknown>).then((ids) => {
                if (++deletes !== point.n) return ids;
                dead = true;
                throw new Killed();
              });
            };
          },
        });
      },
    };
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ferry-e2e-kill-counts-'));
    const expected = generateExport({
      source: 'pbn',
      patients: 30,
      seed: 'kill-counts',
      defects: 0,
      outDir: dir,
    });
    sandbox = await startSandbox({
      flavor: 'v2',
      rateShort: null,
      rateLong: null,
      members: expected.workspaceMembers,
    });
    const client = new TwentyClient({ baseUrl: sandbox.url, apiKey: sandbox.apiKey });
    await client.createMany(
      'people',
      uniqueEmails(dir)
        .slice(0, 2)
        .map((email, i) => ({
          id: `0b6d0c1e-0000-4000-8000-00000000002${i}`,
          name: { firstName: 'Existing', lastName: `Contact${i}` },
          emails: { primaryEmail: email, additionalEmails: [] },
          jobTitle: 'Front desk',
        })),
    );
    before = await sandbox.dump();
    const tasks = taskRegistry.map((task) =>
      task.stateName === 'Rollback'
        ? {
            ...task,
            run: taskRunner('Rollback', RollbackInputSchema, (input, deps) =>
              rollback(input, killable(deps)),
            ),
          }
        : task,
    );
    runtime = await startLocalRuntime({
      inMemory: true,
      retryIntervalMs: 0,
      tasks,
      twenty: { url: sandbox.url, apiKey: sandbox.apiKey, rate: '1000/1s+60000/60s' },
    });
    folder = (await uploadExportFolder(runtime.deps.drop, dir)).folder;
  }, 120_000);
  afterAll(async () => {
    await runtime?.stop();
    await sandbox?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const migrate = async (runId: string) => {
    const run = await runtime.startExecution(
      'migrate',
      { folder, options: { chunkSize: 25, sampleSize: 0 } },
      { runId, approver: autoApprover('e2e') },
    );
    expect(run.error).toBeUndefined();
  };
  const rollbackOf = async (runId: string) =>
    runtime.startExecution('rollback', { runId }, { approver: autoApprover('e2e') });
  const report = async (runId: string) =>
    RollbackReportSchema.parse(JSON.parse(await runtime.deps.work.getText(`runs/${runId}/rollback.json`)));
  const counts = (r: RollbackReport) => {
    // Not counts of the undoing: ticks and requests (a killed tick is one more), the run ids, and the
    // schema left behind (the later migrations found the first one's custom fields in place).
    const { ticks: _t, requests: _r, runId: _id, runs: _runs, leftBehind: _left, ...rest } = r;
    return rest;
  };

  let uninterrupted: ReturnType<typeof counts>;

  it('an uninterrupted rollback: the baseline', async () => {
    await migrate('kc-0');
    kill = undefined;
    const run = await rollbackOf('kc-0');
    expect(run.error).toBeUndefined();
    uninterrupted = counts(await report('kc-0'));
    expect(uninterrupted).toMatchObject({ status: 'rolled-back', verified: true, restored: 2, skipped: 0 });
    expect(uninterrupted.destroyed).toBeGreaterThan(30);
    expect(records(await sandbox.dump(), before)).toEqual(records(before));
  }, 300_000);

  const points: KillPoint[] = [
    { at: 'delete applied', n: 1 },
    { at: 'delete applied', n: 3 },
    { at: 'before ledger', n: 2 },
  ];
  points.forEach((point, i) => {
    it(`killed (${point.at} #${point.n}) and run again: the same counts and the same workspace`, async () => {
      const runId = `kc-${i + 1}`;
      await migrate(runId);
      kill = point;
      const killed = await rollbackOf(runId);
      expect(killed.status).toBe('FAILED');
      expect(records(await sandbox.dump(), before)).not.toEqual(records(before));
      kill = undefined;
      const resumed = await rollbackOf(runId);
      expect(resumed.error).toBeUndefined();
      expect(resumed.status).toBe('SUCCEEDED');
      expect(counts(await report(runId))).toEqual(uninterrupted);
      expect(records(await sandbox.dump(), before)).toEqual(records(before));
    }, 300_000);
  });
});
