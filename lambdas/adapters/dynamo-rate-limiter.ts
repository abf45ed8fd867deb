import {
  type AttributeValue,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { TransientError } from '../ports/errors.ts';
import type { BucketState, RateLimitStore, VersionedBucket, WorkspaceCaps } from '../ports/rate-limiter.ts';

/** Item layout (contracts §4): `pk=BUCKET#<workspaceKey>`, `sk=BUCKET`. */
function bucketKey(key: string): Record<string, AttributeValue> {
  return { pk: { S: `BUCKET#${key}` }, sk: { S: 'BUCKET' } };
}

/** The workspace's announced caps, beside its bucket: `pk=BUCKET#<workspaceKey>`, `sk=CAPS`. */
function capsKey(key: string): Record<string, AttributeValue> {
  return { pk: { S: `BUCKET#${key}` }, sk: { S: 'CAPS' } };
}

function num(value: number, digits: number): AttributeValue {
  return { N: Number.isFinite(value) ? value.toFixed(digits) : '0' };
}

function readNumber(item: Record<string, AttributeValue>, name: string): number {
  const raw = item[name]?.N;
  const value = raw === undefined ? Number.NaN : Number(raw);
  if (!Number.isFinite(value))
    throw new TransientError(`rate limit table: bucket attribute ${name} is missing`);
  return value;
}

/**
 * The RateLimit table as a {@link RateLimitStore}: a consistent GetItem and an UpdateItem conditioned
 * on the `ver` attribute (no transactions, so it works the same on dynalite). Numbers are written
 * with fixed decimals so neither DynamoDB nor dynalite sees exponent notation.
 */
export class DynamoRateLimitStore implements RateLimitStore {
  readonly #client: DynamoDBClient;
  readonly #tableName: string;

  constructor(client: DynamoDBClient, tableName: string) {
    this.#client = client;
    this.#tableName = tableName;
  }

  async load(key: string): Promise<VersionedBucket | undefined> {
    let item: Record<string, AttributeValue> | undefined;
    try {
      const out = await this.#client.send(
        new GetItemCommand({ TableName: this.#tableName, Key: bucketKey(key), ConsistentRead: true }),
      );
      item = out.Item;
    } catch (error) {
      throw new TransientError('rate limit table: GetItem failed', { cause: error });
    }
    if (item === undefined) return undefined;
    const tokens = (item.tokens?.L ?? []).map((v) => Number(v.N));
    const state: BucketState = {
      tokens,
      at: readNumber(item, 'at'),
      factor: readNumber(item, 'factor'),
      factorAt: readNumber(item, 'factorAt'),
      blockedUntil: readNumber(item, 'blockedUntil'),
      lastDecreaseAt: readNumber(item, 'lastDecreaseAt'),
    };
    return { state, version: readNumber(item, 'ver') };
  }

  async loadCaps(key: string): Promise<WorkspaceCaps> {
    try {
      const out = await this.#client.send(
        new GetItemCommand({ TableName: this.#tableName, Key: capsKey(key), ConsistentRead: true }),
      );
      const n = out.Item?.batchMax?.N;
      return n === undefined ? {} : { batchMax: Number(n) };
    } catch (error) {
      throw new TransientError('rate limit table: GetItem (caps) failed', { cause: error });
    }
  }

  async saveCaps(key: string, caps: WorkspaceCaps): Promise<void> {
    if (caps.batchMax === undefined) return;
    try {
      // The lowest cap announced wins: a concurrent loader's smaller cap is never overwritten.
      await this.#client.send(
        new UpdateItemCommand({
          TableName: this.#tableName,
          Key: capsKey(key),
          UpdateExpression: 'SET batchMax = :cap',
          ConditionExpression: 'attribute_not_exists(batchMax) OR batchMax > :cap',
          ExpressionAttributeValues: { ':cap': { N: String(caps.batchMax) } },
        }),
      );
    } catch (error) {
      if (error instanceof Error && error.name === 'ConditionalCheckFailedException') return;
      throw new TransientError('rate limit table: UpdateItem (caps) failed', { cause: error });
    }
  }

  async save(key: string, state: BucketState, expectedVersion: number | undefined): Promise<boolean> {
    const values: Record<string, AttributeValue> = {
      ':ver': { N: String((expectedVersion ?? 0) + 1) },
      ':tokens': { L: state.tokens.map((t) => num(t, 6)) },
      ':at': num(state.at, 3),
      ':factor': num(state.factor, 6),
      ':factorAt': num(state.factorAt, 3),
      ':blockedUntil': num(state.blockedUntil, 3),
      ':lastDecreaseAt': num(state.lastDecreaseAt, 3),
    };
    if (expectedVersion !== undefined) values[':expected'] = { N: String(expectedVersion) };
    try {
      await this.#client.send(
        new UpdateItemCommand({
          TableName: this.#tableName,
          Key: bucketKey(key),
          UpdateExpression:
            'SET #ver = :ver, tokens = :tokens, #at = :at, factor = :factor, factorAt = :factorAt, ' +
            'blockedUntil = :blockedUntil, lastDecreaseAt = :lastDecreaseAt',
          ConditionExpression:
            expectedVersion === undefined ? 'attribute_not_exists(pk)' : '#ver = :expected',
          ExpressionAttributeNames: { '#ver': 'ver', '#at': 'at' },
          ExpressionAttributeValues: values,
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      if (error instanceof Error && error.name === 'ConditionalCheckFailedException') return false;
      throw new TransientError('rate limit table: conditional UpdateItem failed', { cause: error });
    }
  }
}
