import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetItemCommand, ListTablesCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { startEmbeddedDynamo } from '../../../lib/local/embedded-dynamodb.ts';

describe('startEmbeddedDynamo', () => {
  it('creates the three tables in memory on a random 127.0.0.1 port', async () => {
    const dynamo = await startEmbeddedDynamo();
    try {
      expect(dynamo.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const listed = await dynamo.client.send(new ListTablesCommand({}));
      expect([...(listed.TableNames ?? [])].sort()).toEqual(Object.values(dynamo.tableNames).sort());
    } finally {
      await dynamo.stop();
    }
  });

  it('keeps items and tables across restarts when given a directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ferry-dynamo-'));
    try {
      const first = await startEmbeddedDynamo({ dir });
      await first.client.send(
        new PutItemCommand({
          TableName: first.tableNames.Runs,
          Item: { pk: { S: 'RUN#r1' }, sk: { S: 'META' } },
        }),
      );
      await first.stop();
      const second = await startEmbeddedDynamo({ dir });
      try {
        const got = await second.client.send(
          new GetItemCommand({
            TableName: second.tableNames.Runs,
            Key: { pk: { S: 'RUN#r1' }, sk: { S: 'META' } },
          }),
        );
        expect(got.Item?.pk?.S).toBe('RUN#r1');
      } finally {
        await second.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
