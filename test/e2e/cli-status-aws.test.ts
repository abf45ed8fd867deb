import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { autoApprover } from '../../lib/local/approvals.ts';
import { localBucketNames, localS3Credentials } from '../../lib/local/embedded-s3.ts';
import { type LocalRuntime, startLocalRuntime } from '../../lib/local/runtime.ts';
import { type RunningSandbox, startSandbox } from '../../lib/sandbox/index.ts';
import { uploadTiny } from '../support/tiny.ts';
import { ferry } from './support/ferry-cli.ts';

/**
 * `ferry status --aws` reads the deployed stack's Runs table and work bucket through the AWS SDK.
 * Here the "stack" is the embedded DynamoDB and S3 servers (the SDK's standard endpoint variables
 * point it there): the run's record and its per-phase load progress come back as locally.
 */
describe('ferry status --aws', () => {
  let sandbox: RunningSandbox;
  let runtime: LocalRuntime;
  const saved = { ...process.env };

  beforeAll(async () => {
    sandbox = await startSandbox({ rateShort: null, rateLong: null });
    runtime = await startLocalRuntime({
      inMemory: true,
      retryIntervalMs: 0,
      twenty: { url: sandbox.url, apiKey: sandbox.apiKey, rate: '1000/1s+60000/60s' },
    });
    const { folder, mappingKey } = await uploadTiny(runtime.deps.drop);
    const run = await runtime.startExecution(
      'migrate',
      { folder, options: { chunkSize: 2, mappingKey } },
      { runId: 'aws-status-1', approver: autoApprover('test') },
    );
    expect(run.status).toBe('SUCCEEDED');
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_DYNAMODB: runtime.dynamo.endpoint,
      AWS_ENDPOINT_URL_S3: runtime.s3Endpoint,
      // The embedded S3 server's fixed key (DynamoDB's accepts any).
      AWS_ACCESS_KEY_ID: localS3Credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: localS3Credentials.secretAccessKey,
      AWS_REGION: 'us-east-1',
      FERRY_RUNS_TABLE: runtime.dynamo.tableNames.Runs,
      FERRY_WORK_BUCKET: localBucketNames.work,
    });
  }, 120_000);
  afterAll(async () => {
    process.env = saved;
    await runtime?.stop();
    await sandbox?.stop();
  });

  it('shows the run and its per-phase progress from the Runs table and the work bucket', async () => {
    const one = await ferry(['status', 'aws-status-1', '--aws', '--json']);
    expect(one.code, one.stderr).toBe(0);
    const view = JSON.parse(one.stdout) as {
      runId: string;
      status: string;
      from: string;
      phases: { phase: string; done: number; total: number }[];
    };
    expect(view).toMatchObject({ runId: 'aws-status-1', status: 'succeeded', from: 'run-store' });
    expect(view.phases.length).toBeGreaterThan(0);
    for (const p of view.phases) expect(p.done).toBe(p.total);

    const listed = await ferry(['status', '--aws', '--json']);
    expect(listed.code, listed.stderr).toBe(0);
    expect((JSON.parse(listed.stdout) as { runId: string }[]).map((r) => r.runId)).toContain('aws-status-1');

    const text = await ferry(['status', 'aws-status-1', '--aws']);
    expect(text.stdout).toMatch(/load\n\s+\d\d-[a-z]+ +\[#+\] +[\d,]+\/[\d,]+ records {2}100%/);
  }, 120_000);

  it('refuses --aws without the table and bucket', async () => {
    const result = await ferry(['status', '--aws']);
    // The environment above names them; without it the command says what it needs.
    expect(result.code).toBe(0);
    const env = { ...process.env };
    delete process.env.FERRY_RUNS_TABLE;
    try {
      const missing = await ferry(['status', '--aws']);
      expect(missing.code).toBe(2);
      expect(missing.stderr).toMatch(/--runs-table and --work-bucket/);
    } finally {
      process.env = env;
    }
  });
});
