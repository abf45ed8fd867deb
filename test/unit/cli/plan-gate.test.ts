import { afterEach, describe, expect, it, vi } from 'vitest';
import { MemoryObjectStore } from '../../../lambdas/adapters/memory-object-store.ts';
import { gated, PlanGateError } from '../../../lib/cli/run.ts';
import type { Approver } from '../../../lib/local/approvals.ts';

const PLAN = {
  estimate: { requests: 12, minutes: 0.12, rate: 'self-hosted', batchMax: 200, requestsPerMinute: 100 },
  totals: { rows: 2400 },
  mapping: {
    origin: 'auto',
    spec: { entities: {} },
    confidence: {},
    blocking: [
      {
        entity: 'patients',
        file: 'PatientList.csv',
        column: 'Email',
        field: 'emails',
        rule: "another party's address",
        alternatives: ['Contact Email'],
      },
    ],
  },
};

async function storeWithPlan(): Promise<MemoryObjectStore> {
  const work = new MemoryObjectStore();
  await work.put('runs/r1/plan.json', JSON.stringify(PLAN));
  return work;
}

const prompt = { runId: 'r1', stage: 'plan' as const, stateName: 'AwaitPlanApproval' };

describe('the plan gate in front of the approver', () => {
  afterEach(() => vi.restoreAllMocks());

  it('with --yes stops on a critical field to confirm, naming file, column and the other columns', async () => {
    const approver = vi.fn<Approver>(async () => ({ approved: true, by: 'test', at: 'now' }) as never);
    const gate = gated(approver, await storeWithPlan(), { yes: true, stateDir: '.', chunkSize: 1 });
    const error = await gate(prompt).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PlanGateError);
    expect((error as Error).message).toContain('PatientList.csv:Email — patients.emails');
    expect((error as Error).message).toContain('(other columns: Contact Email)');
    expect(approver).not.toHaveBeenCalled();
  });

  it('interactively lists what to confirm and lets the operator answer', async () => {
    const lines: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: unknown) => {
      lines.push(String(chunk));
      return true;
    });
    const approver = vi.fn<Approver>(async () => ({ approved: true, by: 'test', at: 'now' }) as never);
    const gate = gated(approver, await storeWithPlan(), { stateDir: '.', chunkSize: 1 });
    await gate(prompt);
    expect(approver).toHaveBeenCalledOnce();
    expect(lines.join('')).toContain('1 critical field(s) to confirm');
    expect(lines.join('')).toContain('estimate: 2,400 source rows → 12 write requests');
  });

  it('with --accept-plan proceeds to the approver', async () => {
    const approver = vi.fn<Approver>(async () => ({ approved: true, by: 'test', at: 'now' }) as never);
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const gate = gated(approver, await storeWithPlan(), {
      yes: true,
      acceptPlan: true,
      stateDir: '.',
      chunkSize: 1,
    });
    await gate(prompt);
    expect(approver).toHaveBeenCalledOnce();
  });
});
