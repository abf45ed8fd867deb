import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type BrowserContext, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AppError } from '../../../lambdas/core/errors.ts';
import { PlanSchema } from '../../../lambdas/core/inventory/plan.ts';
import { type Reconciliation, ReconciliationSchema } from '../../../lambdas/core/reconcile/report.ts';
import {
  planKeyFor,
  readArtifactIfPresent,
  reconciliationKey,
  sampleDiffHtmlKey,
} from '../../../lambdas/core/run-layout.ts';
import type { Log, LogFields } from '../../../lambdas/ports/log.ts';
import { exitCodeOf } from '../../../lib/cli/common.ts';
import { uploadExportFolder } from '../../../lib/cli/drop-folder.ts';
import { mappingInventoryOptions, uploadOperatorMapping } from '../../../lib/cli/mapping-options.ts';
import { gated, runFailure } from '../../../lib/cli/run.ts';
import { autoApprover } from '../../../lib/local/approvals.ts';
import { type LocalExecution, type LocalRuntime, startLocalRuntime } from '../../../lib/local/runtime.ts';
import { type RunningSandbox, startSandbox } from '../../../lib/sandbox/index.ts';
import { ferry } from '../support/ferry-cli.ts';
import { type HostileCase, loadCorpus, mappingOf, materialize, sensitiveValues } from './corpus.ts';

/** Debian's chromium, as in test/e2e/report (CI installs it; the test fails loudly without it). */
const CHROMIUM = '/usr/bin/chromium';

/** Error names that mean Ferry crashed instead of refusing the input with a reason. */
const CRASHES = /^(Error|TypeError|RangeError|SyntaxError|ReferenceError|AggregateError|States\..*)$/;

const cases = loadCorpus();

/** What `ferry run --yes` would end with for one case: exit code, its one line, and the run's artefacts. */
interface Outcome {
  readonly exit: number;
  readonly errorName?: string;
  readonly message?: string;
  readonly execution?: LocalExecution;
  readonly reconciliation?: Reconciliation;
}

describe('the hostile input corpus through the real pipeline', () => {
  const root = mkdtempSync(join(tmpdir(), 'ferry-hostile-'));
  const logLines: string[] = [];
  const log: Log = Object.fromEntries(
    (['debug', 'info', 'warn', 'error'] as const).map((level) => [
      level,
      (message: string, fields?: LogFields) =>
        logLines.push(`${level} ${message} ${JSON.stringify(fields ?? {})}`),
    ]),
  ) as unknown as Log;
  let sandbox: RunningSandbox;
  let runtime: LocalRuntime;
  let browser: BrowserContext | undefined;

  beforeAll(async () => {
    sandbox = await startSandbox({ rateShort: null, rateLong: null });
    runtime = await startLocalRuntime({
      inMemory: true,
      retryIntervalMs: 0,
      log,
      twenty: { url: sandbox.url, apiKey: sandbox.apiKey, rate: '1000/1s+60000/60s' },
    });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await runtime?.stop();
    await sandbox?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  /** Runs one case as `ferry run <dir> --yes [--mapping m]` does, on the shared runtime and sandbox. */
  async function runCase(c: HostileCase, dir: string): Promise<Outcome> {
    let folder: string;
    let mappingKey: string | undefined;
    try {
      folder = (await uploadExportFolder(runtime.deps.drop, dir)).folder;
      mappingKey = await uploadOperatorMapping(runtime.deps.drop, folder, mappingOf(c));
    } catch (error) {
      // Refused before any run starts (as the CLI does): the error's own sentence.
      return {
        exit: exitCodeOf(error),
        errorName: error instanceof Error ? error.name : 'unknown',
        message: error instanceof AppError ? error.message : String(error),
      };
    }
    const options = { yes: true, stateDir: root, chunkSize: 50 };
    const execution = await runtime.startExecution(
      'migrate',
      {
        folder,
        options: {
          chunkSize: 50,
          rate: '1000/1s+60000/60s',
          tolerance: 0,
          sampleSize: 0,
          ...mappingInventoryOptions(undefined, mappingKey),
          ...c.options,
        },
      },
      {
        runId: `hostile-${c.name}`,
        approver: gated(autoApprover('hostile corpus'), runtime.deps.work, options),
      },
    );
    const saved = await readArtifactIfPresent(
      runtime.deps.work,
      reconciliationKey(execution.runId),
      z.unknown(),
    );
    const reconciliation = saved === undefined ? undefined : ReconciliationSchema.parse(saved);
    const failure = runFailure(execution, reconciliation);
    return {
      exit: failure === undefined ? 0 : exitCodeOf(failure),
      ...(execution.error === undefined ? {} : { errorName: execution.error.name }),
      ...(failure === undefined ? {} : { message: failure.message }),
      execution,
      ...(reconciliation === undefined ? {} : { reconciliation }),
    };
  }

  /** Opens a page Ferry wrote in Chromium: nothing in it may run. */
  async function expectInert(html: string, file: string): Promise<void> {
    const path = join(root, file);
    writeFileSync(path, html);
    browser ??= await chromium.launchPersistentContext(join(root, 'profile'), {
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        '--disable-background-networking',
      ],
    });
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    const requests: string[] = [];
    page.on('request', (request) => requests.push(request.url()));
    await page.goto(pathToFileURL(path).href);
    expect(await page.evaluate('typeof window.__pwned'), file).toBe('undefined');
    expect(await page.locator('script').count(), file).toBe(0);
    expect(errors, file).toEqual([]);
    expect(requests, file).toEqual([pathToFileURL(path).href]);
    await page.close();
  }

  it('holds at least 30 cases, each with its expected outcome', () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
    for (const c of cases) {
      if (c.expect.exit !== 0) expect(c.expect.error, c.name).toBeDefined();
      else expect(c.expect.entities, c.name).toBeDefined();
    }
  });

  it('the CLI itself refuses hostile input the same way: exit 2, one line naming file and rule, no stack', async () => {
    for (const name of ['04-nul-bytes', '35-announced-2gb-truncated', '44-ssn-in-operator-mapping']) {
      const c = cases.find((k) => k.name === name);
      expect(c, name).toBeDefined();
      if (c === undefined) continue;
      const dir = materialize(c, join(root, 'cli'));
      const mapping = mappingOf(c);
      const result = await ferry([
        'run',
        dir,
        '--yes',
        '--state-dir',
        join(root, 'cli-state'),
        ...(mapping === undefined ? [] : ['--mapping', mapping]),
      ]);
      expect(result.code, result.stderr).toBe(2);
      const last = result.stderr.trimEnd().split('\n').at(-1) ?? '';
      expect(last).toMatch(/^ferry: run \S+ stopped, the input cannot be used as it is: /);
      for (const fragment of c.expect.error?.message ?? []) expect(last).toContain(fragment);
      expect(result.stderr).not.toMatch(/\n\s+at /);
      for (const value of sensitiveValues(dir)) expect(result.stderr + result.stdout).not.toContain(value);
    }
  }, 120_000);

  it.each(cases.map((c) => [c.name, c] as const))(
    '%s',
    async (_name, c) => {
      const dir = materialize(c, join(root, 'exports'));
      const secrets = sensitiveValues(dir);
      logLines.length = 0;
      const before = await sandbox.dump();
      const outcome = await runCase(c, dir);
      const want = c.expect;

      // Never a crash: a refusal is one of Ferry's own errors, one sentence, no stack, no value.
      if (outcome.errorName !== undefined) expect(outcome.errorName, outcome.message).not.toMatch(CRASHES);
      expect(outcome.exit, outcome.message).toBe(want.exit);
      if (want.error) {
        expect(outcome.errorName).toBe(want.error.name);
        for (const fragment of want.error.message) expect(outcome.message).toContain(fragment);
      }
      if (outcome.message !== undefined) {
        expect(outcome.message).not.toMatch(/\n\s+at /);
        for (const value of secrets) expect(outcome.message, 'a value in the error').not.toContain(value);
      }
      for (const line of logLines)
        for (const value of secrets) expect(line, 'a value in a log line').not.toContain(value);
      // The execution's output and transitions are what Step Functions keeps in its history.
      const history = JSON.stringify(outcome.execution ?? {});
      for (const value of secrets) expect(history, 'a value in a state payload').not.toContain(value);

      const runId = outcome.execution?.runId;
      const plan =
        runId === undefined
          ? undefined
          : await readArtifactIfPresent(runtime.deps.work, planKeyFor(runId), PlanSchema);
      if (want.warnings.length > 0) {
        const codes = new Set([...(plan?.warnings ?? []), ...(plan?.errors ?? [])].map((w) => w.code));
        for (const code of want.warnings) expect([...codes], code).toContain(code);
      }

      // Nothing lost: every entity balances, and its counts are the expected ones.
      const reconciliation = outcome.reconciliation;
      if (want.entities !== undefined) {
        expect(reconciliation, 'the run wrote no reconciliation').toBeDefined();
        for (const [entity, counts] of Object.entries(want.entities)) {
          const got = reconciliation?.entities.find((e) => e.entity === entity);
          expect(got, entity).toBeDefined();
          if (got === undefined) continue;
          expect(got.sourceRows, `${entity} rows`).toBe(counts.rows);
          expect(got.loaded.created + got.loaded.updated + got.loaded.unchanged, `${entity} loaded`).toBe(
            counts.loaded,
          );
          expect(got.rejected, `${entity} rejects`).toEqual(counts.rejected);
          expect(got.skipped, `${entity} skips`).toEqual(counts.skipped);
        }
      }
      for (const e of reconciliation?.entities ?? []) {
        const sum = (c: Record<string, number>) => Object.values(c).reduce((a, b) => a + b, 0);
        const accounted =
          e.loaded.created + e.loaded.updated + e.loaded.unchanged + sum(e.rejected) + sum(e.skipped);
        expect(accounted, `${e.entity} balances`).toBe(e.sourceRows);
        expect(e.balanced, e.entity).toBe(true);
      }
      if (reconciliation !== undefined) expect(reconciliation.missing).toBe(0);

      // rejects.csv: the expected lines, no value, and no cell a spreadsheet would run.
      if (reconciliation?.rejectsKey !== undefined) {
        const rejects = await runtime.deps.work.getText(reconciliation.rejectsKey);
        for (const fragment of want.rejects) expect(rejects).toContain(fragment);
        for (const value of secrets) expect(rejects, 'a value in rejects.csv').not.toContain(value);
        for (const line of rejects.trimEnd().split('\n'))
          for (const cell of line.split(','))
            expect(cell.replace(/^"/, ''), line).not.toMatch(/^[=+\-@\t\r]/);
      } else expect(want.rejects).toEqual([]);

      // What Twenty holds: the decoded values, and nothing from outside the folder or never migrated.
      const after = await sandbox.dump();
      // twentyHas looks only at the records this run wrote (its ledger), not at other cases' records.
      const ours = new Set<string>();
      if (runId !== undefined)
        for await (const entry of runtime.deps.ledger?.entriesForRun(runId) ?? []) ours.add(entry.twentyId);
      const written = JSON.stringify(
        Object.values(after.records).flatMap((records) => records.filter((r) => ours.has(r.id as string))),
      );
      for (const value of want.twentyHas) expect(written, 'in the records this run wrote').toContain(value);
      const everything = JSON.stringify(after);
      for (const value of want.twentyLacks) expect(everything, 'never in Twenty').not.toContain(value);
      if (want.exit === 2) expect(after, 'a refused run writes nothing, records or schema').toEqual(before);

      // The pages Ferry wrote run nothing, whatever the export held.
      if (reconciliation?.reportKey !== undefined)
        await expectInert(await runtime.deps.work.getText(reconciliation.reportKey), `${c.name}-report.html`);
      if (runId !== undefined && (await runtime.deps.work.exists(sampleDiffHtmlKey(runId))))
        await expectInert(await runtime.deps.work.getText(sampleDiffHtmlKey(runId)), `${c.name}-sample.html`);
    },
    60_000,
  );
});
