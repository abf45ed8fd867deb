import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RollbackReport, RollbackReportSchema } from '../../../lambdas/tasks/rollback/schema.ts';
import { TwentyClient } from '../../../lambdas/twenty/client.ts';
import { generateExport } from '../../../lib/generate/index.ts';
import { localBucketNames } from '../../../lib/local/embedded-s3.ts';
import {
  type RunningSandbox,
  type SandboxDump,
  type SandboxMember,
  startSandbox,
} from '../../../lib/sandbox/index.ts';
import { uniqueEmails } from '../support/export-emails.ts';
import { ferry } from '../support/ferry-cli.ts';
import { records } from '../support/sandbox-dump.ts';
import { comparable } from '../support/sandbox-state.ts';

/**
 * Issue 8: Rollback is time-boxed like every other long task — its tick ends at the invocation's
 * deadline (locally `--tick-seconds`). The same migration goes into two identical sandboxes; one is
 * rolled back in one tick (the default 30 s box is ample), the other with `ferry rollback
 * --tick-seconds 1` under a rate that makes it last several seconds, so it runs in several ticks of
 * the state machine's loop. Both must end in the same workspace with the same counts.
 */

/** The rate both rollbacks send at: slow enough that the short-tick one outlasts several 1 s ticks. */
const ROLLBACK_RATE = '2/1s';

/** The migrations themselves are not what is tested: they send as fast as the sandbox answers. */
const MIGRATE_RATE = '1000/1s+60000/60s';

/** One Twenty workspace (a sandbox holding records of its own) and the local state dir that migrates into it. */
interface Workspace {
  readonly sandbox: RunningSandbox;
  readonly stateDir: string;
  readonly before: SandboxDump;
  readonly target: readonly string[];
}

async function workspace(dir: string, members: SandboxMember[]): Promise<Workspace> {
  const sandbox = await startSandbox({ flavor: 'v2', rateShort: null, rateLong: null, members });
  const client = new TwentyClient({ baseUrl: sandbox.url, apiKey: sandbox.apiKey });
  await client.createMany('companies', [
    {
      id: '0b6d0c1e-0000-4000-8000-0000000000c1',
      name: 'Existing Lab Partner',
      domainName: { primaryLinkUrl: 'https://lab-partner.example.com', primaryLinkLabel: '' },
    },
  ]);
  // Matched by email, so the run updates them and the rollback restores them from their before-images.
  await client.createMany(
    'people',
    uniqueEmails(dir)
      .slice(0, 2)
      .map((email, i) => ({
        id: `0b6d0c1e-0000-4000-8000-00000000003${i}`,
        name: { firstName: 'Existing', lastName: `Contact${i}` },
        emails: { primaryEmail: email, additionalEmails: [] },
        jobTitle: 'Front desk',
      })),
  );
  const stateDir = mkdtempSync(join(tmpdir(), 'ferry-rb-tick-state-'));
  const before = await sandbox.dump();
  const target = ['--state-dir', stateDir, '--twenty-url', sandbox.url, '--api-key', sandbox.apiKey];
  return { sandbox, stateDir, before, target };
}

/** `runs/<runId>/rollback.json` as the CLI's embedded S3 left it on disk under the state dir. */
function rollbackReport(ws: Workspace, runId: string): RollbackReport {
  const file = join(ws.stateDir, 's3', localBucketNames.work, 'runs', runId, 'rollback.json._S3rver_object');
  return RollbackReportSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
}

/** What two rollbacks of the same migration must agree on: all but the ticks and the run ids. */
function outcome(report: RollbackReport) {
  const { ticks: _ticks, runId: _runId, runs, ...rest } = report;
  return { ...rest, runs: runs.length };
}

describe('ferry rollback --tick-seconds (issue 8: Rollback honours the tick budget)', () => {
  let dir: string;
  let oneTick: Workspace;
  let shortTicks: Workspace;
  let runIds: [string, string];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ferry-rb-tick-'));
    const expected = generateExport({
      source: 'pbn',
      patients: 40,
      seed: 'rb-tick',
      defects: 0,
      outDir: dir,
    });
    oneTick = await workspace(dir, expected.workspaceMembers);
    shortTicks = await workspace(dir, expected.workspaceMembers);
    const migrate = async (ws: Workspace) => {
      const run = await ferry([
        'run',
        dir,
        '--yes',
        '--json',
        '--sample-size',
        '0',
        '--rate',
        MIGRATE_RATE,
        ...ws.target,
      ]);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      return (JSON.parse(run.stdout) as { runId: string }).runId;
    };
    runIds = await Promise.all([migrate(oneTick), migrate(shortTicks)]);
    // The same migration, the same ids: both workspaces hold the same records before the rollbacks.
    expect(comparable(await shortTicks.sandbox.dump())).toEqual(comparable(await oneTick.sandbox.dump()));
  }, 180_000);
  afterAll(async () => {
    for (const ws of [oneTick, shortTicks]) {
      await ws?.sandbox.stop();
      if (ws) rmSync(ws.stateDir, { recursive: true, force: true });
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('runs in several ticks and ends in the same workspace and counts as a one-tick rollback', async () => {
    const rollback = (ws: Workspace, runId: string, extra: readonly string[]) =>
      ferry(['rollback', runId, '--yes', '--json', '--rate', ROLLBACK_RATE, ...ws.target, ...extra]);

    const whole = await rollback(oneTick, runIds[0], []);
    expect(whole.stderr).toBe('');
    expect(whole.code).toBe(0);
    const single = rollbackReport(oneTick, runIds[0]);
    expect(single).toMatchObject({ status: 'rolled-back', verified: true, problems: [], restored: 2 });
    expect(single.destroyed).toBeGreaterThan(100);
    expect(single.ticks).toBe(1);

    const sliced = await rollback(shortTicks, runIds[1], ['--tick-seconds', '1']);
    expect(sliced.stderr).toBe('');
    expect(sliced.code).toBe(0);
    const multi = rollbackReport(shortTicks, runIds[1]);
    // At 2 requests/s the rollback needs several seconds: with 1 s ticks the loop really continues.
    expect(multi.ticks).toBeGreaterThanOrEqual(3);
    expect(JSON.parse(sliced.stdout).rollback).toMatchObject({ done: true, ticks: multi.ticks });
    console.info(
      `rollback of ${multi.destroyed + multi.restored} records: ${single.requests} requests in 1 tick, ` +
        `${multi.requests} requests in ${multi.ticks} ticks of 1 s`,
    );

    expect(outcome(multi)).toEqual(outcome(single));
    const [afterOne, afterShort] = [await oneTick.sandbox.dump(), await shortTicks.sandbox.dump()];
    expect(records(afterOne, oneTick.before)).toEqual(records(oneTick.before));
    expect(records(afterShort, shortTicks.before)).toEqual(records(shortTicks.before));
    expect(comparable(afterShort)).toEqual(comparable(afterOne));
  }, 180_000);
});
