import type { Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { MemoryObjectStore } from '../../lambdas/adapters/memory-object-store.ts';
import { parseStageEnv } from '../../lambdas/config.ts';
import { TransientError, ValidationError } from '../../lambdas/core/errors.ts';
import { MemoryLedger } from '../../lambdas/core/ledger/memory-ledger.ts';
import { MemoryRunStore } from '../../lambdas/core/ledger/memory-run-store.ts';
import { systemClock } from '../../lambdas/ports/clock.ts';
import type { Log } from '../../lambdas/ports/log.ts';
import { buildAwsDeps } from '../../lambdas/runtime/aws-deps.ts';
import { makeHandler } from '../../lambdas/runtime/make-handler.ts';
import type { TaskDeps } from '../../lambdas/tasks/deps.ts';
import { NO_TWENTY_TARGET } from '../../lambdas/tasks/deps.ts';
import { taskRunner } from '../../lambdas/tasks/handler-kit.ts';

const InputSchema = z.object({ runId: z.string().min(1), count: z.number().int() });

function fakeDeps(lines: string[]): TaskDeps {
  const log: Log = {
    debug: () => {},
    info: (message, fields) => lines.push(`${message} ${JSON.stringify(fields)}`),
    warn: () => {},
    error: (message, fields) => lines.push(`${message} ${JSON.stringify(fields)}`),
  };
  return {
    drop: new MemoryObjectStore('d'),
    work: new MemoryObjectStore('w'),
    clock: systemClock,
    log,
    runStore: new MemoryRunStore(),
    ledger: new MemoryLedger(),
    twenty: NO_TWENTY_TARGET,
  };
}

const context = { functionName: 'ferry-test', awsRequestId: 'req-1' } as Context;

describe('makeHandler', () => {
  it('parses the event, calls the core with the deps and returns its output', async () => {
    const lines: string[] = [];
    const deps = fakeDeps(lines);
    const handler = makeHandler(
      'Count',
      InputSchema,
      async (input, d) => ({ runId: input.runId, doubled: input.count * 2, same: d === deps }),
      async () => deps,
    );
    await expect(handler({ runId: 'r1', count: 21 }, context)).resolves.toEqual({
      runId: 'r1',
      doubled: 42,
      same: true,
    });
    expect(lines.some((line) => line.startsWith('task finished') && line.includes('"task":"Count"'))).toBe(
      true,
    );
  });

  it('throws a ValidationError naming the field and rule, never the value, when the event is invalid', async () => {
    const handler = makeHandler(
      'Count',
      InputSchema,
      async () => ({}),
      async () => fakeDeps([]),
    );
    const error = await handler({ runId: 'r1', count: 'SECRET-VALUE-123' }, context).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as Error).message).toContain('count (invalid_type)');
    expect((error as Error).message).not.toContain('SECRET-VALUE-123');
  });

  it('keeps AppErrors (their names drive ASL Retry/Catch) and withholds foreign messages', async () => {
    const run = taskRunner('Count', InputSchema, async (input) => {
      if (input.count === 1) throw new TransientError('Twenty answered 503');
      throw new TypeError('cannot read SECRET-VALUE-123');
    });
    const deps = fakeDeps([]);
    await expect(run({ runId: 'r', count: 1 }, deps)).rejects.toBeInstanceOf(TransientError);
    const foreign = (await run({ runId: 'r', count: 2 }, deps).catch((e: unknown) => e)) as Error;
    expect(foreign.name).toBe('TypeError');
    expect(foreign.message).not.toContain('SECRET-VALUE-123');
  });
});

describe('awsDeps', () => {
  it('builds S3 stores on the configured buckets', () => {
    const deps = buildAwsDeps(
      parseStageEnv({
        FERRY_DROP_BUCKET: 'drop-b',
        FERRY_WORK_BUCKET: 'work-b',
        FERRY_RUNS_TABLE: 'runs',
        FERRY_LEDGER_TABLE: 'ledger',
        FERRY_RATE_LIMIT_TABLE: 'rate',
        FERRY_TWENTY_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:twenty',
      }),
    );
    expect([deps.drop.bucket, deps.work.bucket]).toEqual(['drop-b', 'work-b']);
  });

  it("defaults the batch bound to Twenty's QUERY_MAX_RECORDS (200), as the CLI sends, and keeps a set one", () => {
    const base = {
      FERRY_DROP_BUCKET: 'drop-b',
      FERRY_WORK_BUCKET: 'work-b',
      FERRY_RUNS_TABLE: 'runs',
      FERRY_LEDGER_TABLE: 'ledger',
      FERRY_RATE_LIMIT_TABLE: 'rate',
      FERRY_TWENTY_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:twenty',
    };
    expect(parseStageEnv(base).FERRY_BATCH_MAX).toBe(200);
    expect(parseStageEnv({ ...base, FERRY_BATCH_MAX: '60' }).FERRY_BATCH_MAX).toBe(60);
    expect(() => parseStageEnv({ ...base, FERRY_BATCH_MAX: '201' })).toThrow(/FERRY_BATCH_MAX/);
  });

  it('names the missing keys when the environment is incomplete', () => {
    expect(() => parseStageEnv({ FERRY_DROP_BUCKET: 'x' })).toThrow(/FERRY_WORK_BUCKET/);
  });
});
