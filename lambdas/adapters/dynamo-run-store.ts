import {
  type AttributeValue,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  ScanCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { type Clock, systemClock } from '../ports/clock.ts';
import { NotFoundError, RunLockedError, TransientError, ValidationError } from '../ports/errors.ts';
import type { NewRun, RunLock, RunPatch, RunRecord, RunStatus, RunStore } from '../ports/run-store.ts';

type Item = Record<string, AttributeValue>;

const COUNTER_PREFIX = 'counter_';
const TOKEN_PREFIX = 'token_';
/** Counter and stage names become attribute names: keep them plain. */
const NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;

function runKey(runId: string): Item {
  return { pk: { S: `RUN#${runId}` }, sk: { S: 'META' } };
}

function lockKey(folder: string): Item {
  return { pk: { S: `LOCK#${folder}` }, sk: { S: 'LOCK' } };
}

function isConditionFailure(error: unknown): boolean {
  return (
    error instanceof ConditionalCheckFailedException ||
    (error instanceof Error && error.name === 'ConditionalCheckFailedException')
  );
}

async function guard<T>(operation: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (isConditionFailure(error)) throw error;
    throw new TransientError(`runs table: DynamoDB ${operation} failed`, { cause: error });
  }
}

function checkName(kind: string, name: string): void {
  if (!NAME_PATTERN.test(name)) {
    throw new ValidationError(
      `run store: ${kind} names must be letters, digits, '_' or '-' (≤ 64, letter first)`,
    );
  }
}

function toRun(item: Item): RunRecord {
  const counters: Record<string, number> = {};
  const taskTokens: Record<string, string> = {};
  for (const [name, value] of Object.entries(item)) {
    if (name.startsWith(COUNTER_PREFIX) && value.N !== undefined) {
      counters[name.slice(COUNTER_PREFIX.length)] = Number(value.N);
    } else if (name.startsWith(TOKEN_PREFIX) && value.S !== undefined) {
      taskTokens[name.slice(TOKEN_PREFIX.length)] = value.S;
    }
  }
  const optional = (name: string): string | undefined => item[name]?.S;
  const stage = optional('stage');
  const planHash = optional('planHash');
  const error = optional('error');
  const finishedAt = optional('finishedAt');
  return {
    runId: item.runId?.S ?? '',
    folder: item.folder?.S ?? '',
    source: item.source?.S ?? '',
    startedAt: item.startedAt?.S ?? '',
    updatedAt: item.updatedAt?.S ?? '',
    status: (item.status?.S ?? 'running') as RunStatus,
    ...(stage === undefined ? {} : { stage }),
    ...(planHash === undefined ? {} : { planHash }),
    ...(error === undefined ? {} : { error }),
    ...(finishedAt === undefined ? {} : { finishedAt }),
    counters,
    taskTokens,
  };
}

export interface DynamoRunStoreOptions {
  readonly client: DynamoDBClient;
  /** The Runs table (FERRY_RUNS_TABLE). */
  readonly tableName: string;
  readonly clock?: Clock;
}

/**
 * The RunStore port on DynamoDB: `pk=RUN#<runId> sk=META` run records and `pk=LOCK#<folder> sk=LOCK`
 * locks (contracts §4). Counters are top-level `counter_<name>` numbers incremented with ADD, tokens
 * `token_<stage>` strings. Locks carry `expiresAt` and the condition checks it, because the local
 * DynamoDB has no TTL (in AWS a TTL could delete expired locks too; the condition stays correct).
 */
export class DynamoRunStore implements RunStore {
  readonly #client: DynamoDBClient;
  readonly #table: string;
  readonly #clock: Clock;

  constructor(options: DynamoRunStoreOptions) {
    this.#client = options.client;
    this.#table = options.tableName;
    this.#clock = options.clock ?? systemClock;
  }

  #nowIso(): string {
    return new Date(this.#clock.now()).toISOString();
  }

  async createRun(run: NewRun): Promise<RunRecord> {
    const item: Item = {
      ...runKey(run.runId),
      runId: { S: run.runId },
      folder: { S: run.folder },
      source: { S: run.source },
      startedAt: { S: run.startedAt },
      updatedAt: { S: this.#nowIso() },
      status: { S: 'running' },
    };
    try {
      await guard('PutItem', () =>
        this.#client.send(
          new PutItemCommand({
            TableName: this.#table,
            Item: item,
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        ),
      );
      return toRun(item);
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const existing = await this.getRun(run.runId);
      if (existing === undefined || existing.folder !== run.folder) {
        throw new ValidationError('run store: runId is already used by a run on another drop folder');
      }
      return existing;
    }
  }

  async getRun(runId: string): Promise<RunRecord | undefined> {
    const out = await guard('GetItem', () =>
      this.#client.send(
        new GetItemCommand({ TableName: this.#table, Key: runKey(runId), ConsistentRead: true }),
      ),
    );
    return out.Item === undefined ? undefined : toRun(out.Item);
  }

  async listRuns(options: { limit?: number } = {}): Promise<RunRecord[]> {
    const runs: RunRecord[] = [];
    let start: Item | undefined;
    do {
      const page = await guard('Scan', () =>
        this.#client.send(
          new ScanCommand({
            TableName: this.#table,
            FilterExpression: 'sk = :meta AND begins_with(pk, :run)',
            ExpressionAttributeValues: { ':meta': { S: 'META' }, ':run': { S: 'RUN#' } },
            ExclusiveStartKey: start,
          }),
        ),
      );
      for (const item of page.Items ?? []) runs.push(toRun(item));
      start = page.LastEvaluatedKey;
    } while (start !== undefined);
    runs.sort((a, b) => b.startedAt.localeCompare(a.startedAt) || b.runId.localeCompare(a.runId));
    return options.limit === undefined ? runs : runs.slice(0, options.limit);
  }

  async updateRun(runId: string, patch: RunPatch): Promise<void> {
    const names: Record<string, string> = {};
    const values: Item = { ':updatedAt': { S: this.#nowIso() } };
    const sets = ['updatedAt = :updatedAt'];
    for (const [field, value] of Object.entries(patch)) {
      if (value === undefined) continue;
      names[`#${field}`] = field;
      values[`:${field}`] = { S: String(value) };
      sets.push(`#${field} = :${field}`);
    }
    await this.#updateExisting(runId, `SET ${sets.join(', ')}`, names, values);
  }

  async addCounters(runId: string, counters: Readonly<Record<string, number>>): Promise<void> {
    const names: Record<string, string> = {};
    const values: Item = { ':updatedAt': { S: this.#nowIso() } };
    const adds: string[] = [];
    Object.entries(counters).forEach(([name, amount], i) => {
      checkName('counter', name);
      if (!Number.isFinite(amount))
        throw new ValidationError('run store: counter amounts must be finite numbers');
      names[`#c${i}`] = `${COUNTER_PREFIX}${name}`;
      values[`:c${i}`] = { N: String(amount) };
      adds.push(`#c${i} :c${i}`);
    });
    if (adds.length === 0) return;
    await this.#updateExisting(runId, `SET updatedAt = :updatedAt ADD ${adds.join(', ')}`, names, values);
  }

  async recordTaskToken(runId: string, stage: string, token: string): Promise<void> {
    checkName('stage', stage);
    await this.#updateExisting(
      runId,
      'SET #token = :token, updatedAt = :updatedAt',
      { '#token': `${TOKEN_PREFIX}${stage}` },
      { ':token': { S: token }, ':updatedAt': { S: this.#nowIso() } },
    );
  }

  async #updateExisting(runId: string, expression: string, names: Record<string, string>, values: Item) {
    try {
      await guard('UpdateItem', () =>
        this.#client.send(
          new UpdateItemCommand({
            TableName: this.#table,
            Key: runKey(runId),
            UpdateExpression: expression,
            ConditionExpression: 'attribute_exists(pk)',
            ...(Object.keys(names).length === 0 ? {} : { ExpressionAttributeNames: names }),
            ExpressionAttributeValues: values,
          }),
        ),
      );
    } catch (error) {
      if (isConditionFailure(error)) throw new NotFoundError('run store: no run record with this runId');
      throw error;
    }
  }

  async acquireLock(folder: string, runId: string, ttlMs: number): Promise<RunLock> {
    const now = this.#clock.now();
    const expiresAt = now + ttlMs;
    try {
      await guard('PutItem', () =>
        this.#client.send(
          new PutItemCommand({
            TableName: this.#table,
            Item: {
              ...lockKey(folder),
              folder: { S: folder },
              runId: { S: runId },
              expiresAt: { N: String(expiresAt) },
              acquiredAt: { S: new Date(now).toISOString() },
            },
            ConditionExpression: 'attribute_not_exists(pk) OR runId = :runId OR expiresAt < :now',
            ExpressionAttributeValues: { ':runId': { S: runId }, ':now': { N: String(now) } },
          }),
        ),
      );
      return { folder, runId, expiresAt };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const holder = await guard('GetItem', () =>
        this.#client.send(
          new GetItemCommand({ TableName: this.#table, Key: lockKey(folder), ConsistentRead: true }),
        ),
      );
      const holderRun = holder.Item?.runId?.S ?? 'another run';
      throw new RunLockedError(
        `drop folder ${folder} is locked by run ${holderRun} until it finishes or expires`,
      );
    }
  }

  async releaseLock(folder: string, runId: string): Promise<void> {
    try {
      await guard('DeleteItem', () =>
        this.#client.send(
          new DeleteItemCommand({
            TableName: this.#table,
            Key: lockKey(folder),
            ConditionExpression: 'runId = :runId',
            ExpressionAttributeValues: { ':runId': { S: runId } },
          }),
        ),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }
}
