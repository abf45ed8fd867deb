import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { createS3Client } from '../../../lambdas/adapters/s3-object-store.ts';
import { withoutSdkLogging } from '../../../lambdas/adapters/sdk-client.ts';
import { localDynamoClient } from '../../../lib/local/embedded-dynamodb.ts';

const hasLogger = (client: { middlewareStack: { identify(): string[] } }) =>
  client.middlewareStack.identify().some((name) => name.startsWith('loggerMiddleware'));

describe('withoutSdkLogging', () => {
  it('takes the logger middleware (and its payload filter) off a client that has it', () => {
    const client = new DynamoDBClient({ region: 'us-east-1' });
    expect(hasLogger(client)).toBe(true);
    expect(hasLogger(withoutSdkLogging(client))).toBe(false);
    client.destroy();
  });

  it('is applied to the S3 and local DynamoDB clients the adapters use', () => {
    const s3 = createS3Client({ endpoint: 'http://127.0.0.1:1' });
    const dynamo = localDynamoClient('http://127.0.0.1:1');
    expect([hasLogger(s3), hasLogger(dynamo)]).toEqual([false, false]);
    s3.destroy();
    dynamo.destroy();
  });
});
