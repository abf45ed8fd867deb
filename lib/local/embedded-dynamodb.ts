import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ListTablesCommand,
  ResourceInUseException,
} from '@aws-sdk/client-dynamodb';
import { localTableNames, tableDefinitions } from '../../lambdas/adapters/dynamo-tables.ts';

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

type DynaliteFactory = (options: { path?: string; createTableMs?: number; deleteTableMs?: number }) => Server;

const require = createRequire(import.meta.url);

/**
 * A DynamoDB client for the embedded server. dynalite ignores signatures but the SDK still needs
 * some credentials and a region; using fixed dummies keeps a developer's real AWS profile out of it.
 */
export function localDynamoClient(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 3,
  });
}

/**
 * Starts dynalite on 127.0.0.1 with a random port and makes sure Ferry's three tables exist.
 * The local runtime uses it instead of DynamoDB so the adapters run the same SDK code paths as in
 * AWS. Idempotent on a directory that already holds the tables (a resumed local run).
 */
export async function startEmbeddedDynamo(options: EmbeddedDynamoOptions = {}): Promise<EmbeddedDynamo> {
  const dynalite = require('dynalite') as DynaliteFactory;
  if (options.dir !== undefined) mkdirSync(options.dir, { recursive: true });
  const server = dynalite({
    ...(options.dir === undefined ? {} : { path: options.dir }),
    createTableMs: 0,
    deleteTableMs: 0,
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  const client = localDynamoClient(endpoint);
  const stop = async (): Promise<void> => {
    client.destroy();
    await new Promise<void>((resolve, reject) => {
      server.close((error) => (error ? reject(error) : resolve()));
      server.closeAllConnections();
    });
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
