import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { READ_BACK_PAGE } from '../../lambdas/core/reconcile/read-back.ts';
import { ferry, repoRoot } from './support/ferry-cli.ts';

const pbn = join(repoRoot, 'examples', 'pbn');
const stateDir = mkdtempSync(join(tmpdir(), 'ferry-cli-estimate-'));

describe('ferry estimate', () => {
  afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

  it('predicts the load and read-back requests and the minutes at the rate, loading nothing', async () => {
    const result = await ferry(['estimate', pbn, '--rate', '60/60s', '--json', '--state-dir', stateDir]);
    expect(result.code, result.stderr).toBe(0);
    const estimate = JSON.parse(result.stdout) as Record<string, number>;
    expect(estimate.requestsPerMinute).toBe(60);
    expect(estimate.batchMax).toBe(200);
    // At least one batch per 200 source rows that load; the read-back reads a page of ids a request.
    expect(estimate.writeRequests).toBeGreaterThanOrEqual(Math.ceil((estimate.rows ?? 0) / 200) / 2);
    expect(estimate.readBackRequests).toBe(Math.ceil((estimate.rows ?? 0) / READ_BACK_PAGE));
    expect(estimate.totalMinutes).toBeCloseTo(
      ((estimate.writeRequests ?? 0) + (estimate.readBackRequests ?? 0)) / 60,
      1,
    );
    // Smaller batches cost more requests.
    const small = await ferry([
      'estimate',
      pbn,
      '--rate',
      '60/60s',
      '--batch-max',
      '20',
      '--json',
      '--state-dir',
      stateDir,
    ]);
    expect((JSON.parse(small.stdout) as Record<string, number>).writeRequests).toBeGreaterThan(
      estimate.writeRequests ?? 0,
    );
    // Nothing ran: status lists only cancelled plan records.
    const status = await ferry(['status', '--json', '--state-dir', stateDir]);
    const runs = JSON.parse(status.stdout) as { status: string }[];
    expect(runs.every((r) => r.status === 'cancelled')).toBe(true);
  });
});
