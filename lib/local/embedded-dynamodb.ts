import { mkdirSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ListTablesCommand,
  ResourceInUseException,
} from '@aws-sdk/client-dynamodb';
import { localTableNames, tableDefinitions } from '../../lambdas/adapters/dynamo-tables.ts';
import { withoutSdkLogging } from '../../lambdas/adapters/sdk-client.ts';
import type { DynamoThreadOptions, DynamoThreadReply } from './dynamo-thread-worker.ts';

/** The three local table names, keyed by logical name. */
export type LocalTableNames = Record<'Runs' | 'Ledger' | 'RateLimit', string>;

export interface EmbeddedDynamoOptions {
  /** LevelDB directory; absent = in memory (lost on stop). */
  readonly dir?: string;
}

export interface EmbeddedDynamo {
  /** `http://127.0.0.1:<port>`: give it to any DynamoDBClient (see {@link localDynamoClient}). */
  readonly endpoint: string;
  /** A client already pointed at the endpoint, with the dummy credentials dynalite accepts. */
  readonly client: DynamoDBClient;
  readonly tableNames: LocalTableNames;
  /** Closes the client and the server (and the LevelDB store when on disk). */
  stop(): Promise<void>;
}

/**
 * A DynamoDB client for the embedded server. dynalite ignores signatures but the SDK still needs
 * some credentials and a region; using fixed dummies keeps a developer's real AWS profile out of it.
 */
export function localDynamoClient(endpoint: string): DynamoDBClient {
  return withoutSdkLogging(
    new DynamoDBClient({
      endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 3,
    }),
  );
}

/**
 * Starts dynalite on 127.0.0.1 with a random port and makes sure Ferry's three tables exist.
 * The local runtime uses it instead of DynamoDB so the adapters run the same SDK code paths as in
 * AWS. Idempotent on a directory that already holds the tables (a resumed local run).
 *
 * dynalite runs on its own worker thread: serving the ledger's batch writes costs about as much CPU
 * as the loaders themselves, and on the main thread every request waited for the pipeline's own
 * work while the other core idled (AWS's DynamoDB is another machine anyway). Only the port crosses.
 */
export async function startEmbeddedDynamo(options: EmbeddedDynamoOptions = {}): Promise<EmbeddedDynamo> {
  if (options.dir !== undefined) mkdirSync(options.dir, { recursive: true });
  const worker = new Worker(new URL('./dynamo-thread-worker.ts', import.meta.url), {
    workerData: (options.dir === undefined ? {} : { path: options.dir }) satisfies DynamoThreadOptions,
  });
  const stopped = new Promise<void>((resolve) => {
    worker.on('message', (reply: DynamoThreadReply) => {
      if (reply.type === 'stopped') resolve();
    });
    worker.once('exit', () => resolve());
  });
  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) => {
      worker.on('message', (reply: DynamoThreadReply) => {
        if (reply.type === 'ready') resolve(reply.port);
        else if (reply.type === 'failed')
          reject(new Error(`embedded DynamoDB failed to start (${reply.name})`));
      });
      worker.once('error', reject);
      worker.once('exit', () => reject(new Error('embedded DynamoDB thread exited before it started')));
    });
  } catch (error) {
    await worker.terminate();
    throw error;
  }
  const endpoint = `http://127.0.0.1:${port}`;
  const client = localDynamoClient(endpoint);
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      client.destroy();
      worker.postMessage('stop');
      const timeout = new Promise<'timeout'>((resolve) => setTimeout(resolve, 5_000, 'timeout').unref());
      if ((await Promise.race([stopped, timeout])) === 'timeout') await worker.terminate();
    })();
    return stopping;
  };
  try {
    await ensureTables(client, localTableNames);
  } catch (error) {
    await stop().catch(() => {});
    throw error;
  }
  return { endpoint, client, tableNames: { ...localTableNames }, stop };
}

/** Creates any of the three tables that is missing and waits until each is ACTIVE. */
export async function ensureTables(client: DynamoDBClient, names: LocalTableNames): Promise<void> {
  const existing = new Set<string>();
  let start: string | undefined;
  do {
    const page = await client.send(new ListTablesCommand({ ExclusiveStartTableName: start }));
    for (const name of page.TableNames ?? []) existing.add(name);
    start = page.LastEvaluatedTableName;
  } while (start !== undefined);

  for (const table of tableDefinitions) {
    const name = names[table.logicalName];
    if (!existing.has(name)) {
      try {
        await client.send(
          new CreateTableCommand({
            TableName: name,
            BillingMode: 'PAY_PER_REQUEST',
            AttributeDefinitions: [
              { AttributeName: table.partitionKey, AttributeType: 'S' },
              { AttributeName: table.sortKey, AttributeType: 'S' },
            ],
            KeySchema: [
              { AttributeName: table.partitionKey, KeyType: 'HASH' },
              { AttributeName: table.sortKey, KeyType: 'RANGE' },
            ],
          }),
        );
      } catch (error) {
        if (!(error instanceof ResourceInUseException)) throw error;
      }
    }
    for (let attempt = 0; attempt < 200; attempt++) {
      const described = await client.send(new DescribeTableCommand({ TableName: name }));
      if (described.Table?.TableStatus === 'ACTIVE') break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}
