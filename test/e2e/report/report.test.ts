import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type BrowserContext, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderReportHtml } from '../../../lambdas/core/reconcile/html.ts';
import { type Reconciliation, ReconciliationSchema } from '../../../lambdas/core/reconcile/report.ts';
import { ferry, repoRoot } from '../support/ferry-cli.ts';

/** Debian's chromium (CI installs it in .ci/run); the test fails loudly when it is missing. */
const CHROMIUM = '/usr/bin/chromium';
const screenshots = join(repoRoot, 'test-output');

describe('report.html in headless Chromium', () => {
  const root = mkdtempSync(join(tmpdir(), 'ferry-report-'));
  let browser: BrowserContext;
  let reconciliation: Reconciliation;
  let reportFile = '';

  beforeAll(async () => {
    // A fresh profile per run (Playwright takes the --user-data-dir as this argument).
    browser = await chromium.launchPersistentContext(join(root, 'profile'), {
      executablePath: CHROMIUM,
      viewport: { width: 1100, height: 900 },
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    const result = await ferry([
      'run',
      join(repoRoot, 'examples', 'pbn'),
      '--yes',
      '--json',
      '--state-dir',
      join(root, 'state'),
    ]);
    expect(result.code, result.stderr).toBe(0);
    const json = JSON.parse(result.stdout);
    reconciliation = ReconciliationSchema.parse(JSON.parse(readFileSync(json.paths.reconciliation, 'utf8')));
    reportFile = json.paths['report (html)'];
  });
  afterAll(async () => {
    await browser?.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('shows the numbers of reconciliation.json, loads nothing from the network, and is saved as a screenshot', async () => {
    const page = await browser.newPage();
    const requests: string[] = [];
    page.on('request', (request) => requests.push(request.url()));
    await page.goto(pathToFileURL(reportFile).href);
    // Self-contained: the only request is the file itself.
    expect(requests).toEqual([pathToFileURL(reportFile).href]);

    const text = async (id: string) => (await page.getByTestId(id).innerText()).trim();
    const n = (value: number) => value.toLocaleString('en-US');
    expect(await text('run-id')).toBe(reconciliation.runId);
    expect(await text('status')).toBe(reconciliation.status === 'succeeded' ? 'PASSED' : 'FAILED');
    expect(await text('total-source')).toBe(n(reconciliation.totals.sourceRows));
    expect(await text('total-loaded')).toBe(n(reconciliation.totals.loaded));
    expect(await text('total-rejected')).toBe(n(reconciliation.totals.rejected));
    expect(await text('total-skipped')).toBe(n(reconciliation.totals.skipped));
    expect(await text('total-verified')).toBe(n(reconciliation.verified));
    expect(await text('total-mismatches')).toBe(n(reconciliation.mismatchCount));

    // Counts by entity: every row of the table equals the entity's numbers.
    const rows = await page.getByTestId('entities').locator('tbody tr').all();
    expect(rows).toHaveLength(reconciliation.entities.length);
    const sum = (c: Record<string, number>) => Object.values(c).reduce((a, b) => a + b, 0);
    for (const [i, e] of reconciliation.entities.entries()) {
      const cells = (await rows[i]?.locator('td').allInnerTexts())?.map((c) => c.trim());
      expect(cells).toEqual([
        e.entity,
        e.object,
        n(e.sourceRows),
        n(e.loaded.created),
        n(e.loaded.updated),
        n(e.loaded.unchanged),
        n(sum(e.rejected)),
        n(sum(e.skipped)),
        n(e.verified),
        n(e.mismatched),
        n(e.missing),
        e.balanced ? 'yes' : 'NO',
      ]);
    }
    // Rejects by reason, each with advice.
    const rejectRows = await page.getByTestId('rejects').locator('tbody tr').all();
    expect(rejectRows).toHaveLength(Object.keys(reconciliation.rejects).length);
    for (const row of rejectRows) {
      const [reason, count, advice] = (await row.locator('td').allInnerTexts()).map((c) => c.trim());
      expect(count).toBe(n(reconciliation.rejects[reason ?? ''] ?? -1));
      expect(advice?.length).toBeGreaterThan(20);
    }
    // Field rates: one row per entity field.
    const fieldCount = Object.values(reconciliation.fields).reduce((t, f) => t + Object.keys(f).length, 0);
    expect(fieldCount).toBeGreaterThan(0);
    await expect(page.getByTestId('fields').locator('tbody tr').count()).resolves.toBe(fieldCount);
    // A fresh workspace: the custom objects the example needs were created and are listed.
    await expect(page.getByTestId('schema').locator('tbody tr').count()).resolves.toBeGreaterThan(0);
    // Charts are inline SVG.
    expect(await page.locator('svg').count()).toBeGreaterThanOrEqual(2);

    mkdirSync(screenshots, { recursive: true });
    const shot = join(screenshots, 'report.png');
    await page.screenshot({ path: shot, fullPage: true });
    expect(readFileSync(shot).subarray(1, 4).toString()).toBe('PNG');
    await page.close();
  });

  it('escapes every text: a <script> in a name or a workflow never runs', async () => {
    const hostile = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">';
    const evil: Reconciliation = {
      ...reconciliation,
      entities: reconciliation.entities.map((e, i) => (i === 0 ? { ...e, entity: hostile } : e)),
    };
    const file = join(root, 'hostile.html');
    writeFileSync(
      file,
      renderReportHtml(evil, {
        owners: [],
        schema: [{ kind: 'field', name: hostile, type: 'TEXT' }],
        workflows: [{ file: 'workflows.csv', name: hostile, trigger: hostile, status: 'active' }],
      }),
    );
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(pathToFileURL(file).href);
    expect(await page.evaluate('typeof window.__pwned')).toBe('undefined');
    expect(await page.locator('script').count()).toBe(0);
    expect(await page.locator('img').count()).toBe(0);
    // The text is shown as text.
    expect(
      await page.getByTestId('entities').locator('tbody tr').first().locator('td').first().innerText(),
    ).toBe(hostile);
    expect(errors).toEqual([]);
    await page.close();
  });
});
