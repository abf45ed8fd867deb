import {
  type AttributeValue,
  BatchGetItemCommand,
  BatchWriteItemCommand,
  type DynamoDBClient,
  type KeysAndAttributes,
  QueryCommand,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { type Clock, systemClock } from '../ports/clock.ts';
import { TransientError } from '../ports/errors.ts';
import type { BeforeImageStore, EntriesForRunOptions, Ledger } from '../ports/ledger.ts';
import {
  chunked,
  type IdMapRow,
  idMapPartitionKey,
  keyPart,
  type LedgerEntry,
  LedgerOpSchema,
  ledgerSortKey,
  MAX_INLINE_BEFORE_IMAGE_BYTES,
  parseIdMapRows,
  parseLedgerEntries,
  runPartitionKey,
  unkeyPart,
} from '../ports/ledger-entry.ts';

type Item = Record<string, AttributeValue>;

/** Stops after this many rounds of UnprocessedItems/Keys (with backoff): the caller's Retry takes over. */
const MAX_BATCH_ROUNDS = 12;

/**
 * Batch requests in flight at once for one call. A 1,000-record chunk is 40 BatchWriteItems for the
 * ledger and 40 for the id map: sent one after another they cost 80 round trips of latency per
 * chunk; a few at a time overlap them without leaning on the table's write capacity (throttled
 * items come back as UnprocessedItems and are retried with backoff as before).
 */
const BATCH_CONCURRENCY = 4;

/** Runs `work` over `items` with at most `limit` promises pending; rejects with the first failure. */
async function forEachConcurrently<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const item = items[next++] as T;
      try {
        await work(item);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

export interface DynamoLedgerOptions {
  readonly client: DynamoDBClient;
  /** The Ledger table (FERRY_LEDGER_TABLE). */
  readonly tableName: string;
  /** Before-images too large for a DynamoDB item (the work bucket, under `runs/<runId>/audit/`). */
  readonly beforeImages: BeforeImageStore;
  readonly clock?: Clock;
}

function str(item: Item, name: string): string {
  return item[name]?.S ?? '';
}

/**
 * The Ledger port on DynamoDB. Entries: `pk=RUN#<runId>`, `sk=<phase>#<entity>#<sourceId>#<op>`;
 * id map: `pk=MAP#<sourceInstance>#<entity>`, `sk=<sourceId>` (contracts §4). Writes go through
 * BatchWriteItem (25 a request, UnprocessedItems retried with backoff); before-images above
 * {@link MAX_INLINE_BEFORE_IMAGE_BYTES} are written to the work bucket first and referenced.
 */
export class DynamoLedger implements Ledger {
  readonly #client: DynamoDBClient;
  readonly #table: string;
  readonly #beforeImages: BeforeImageStore;
  readonly #clock: Clock;

  constructor(options: DynamoLedgerOptions) {
    this.#client = options.client;
    this.#table = options.tableName;
    this.#beforeImages = options.beforeImages;
    this.#clock = options.clock ?? systemClock;
  }

  async appendMany(entries: readonly LedgerEntry[]): Promise<void> {
    const parsed = parseLedgerEntries(entries);
    const items: Item[] = [];
    for (const entry of parsed) {
      const item: Item = {
        pk: { S: runPartitionKey(entry.runId) },
        sk: { S: ledgerSortKey(entry) },
        runId: { S: entry.runId },
        phase: { S: entry.phase },
        entity: { S: entry.entity },
        sourceId: { S: entry.sourceId },
        twentyId: { S: entry.twentyId },
        op: { S: entry.op },
        contentHash: { S: entry.contentHash },
        at: { S: entry.at },
      };
      if (entry.object !== undefined) item.object = { S: entry.object };
      if (entry.beforeImage !== undefined) {
        const json = JSON.stringify(entry.beforeImage);
        if (Buffer.byteLength(json, 'utf8') > MAX_INLINE_BEFORE_IMAGE_BYTES) {
          item.beforeImageKey = { S: await this.#beforeImages.put(entry, json) };
        } else {
          item.beforeImage = { S: json };
        }
      }
      items.push(item);
    }
    await this.#writeAll(items);
  }

  async *entriesForRun(runId: string, options: EntriesForRunOptions = {}): AsyncIterable<LedgerEntry> {
    const values: Item = { ':pk': { S: runPartitionKey(runId) } };
    let condition = 'pk = :pk';
    if (options.phase !== undefined) {
      condition += ' AND begins_with(sk, :phase)';
      values[':phase'] = { S: `${keyPart(options.phase)}#` };
    }
    for await (const item of this.#query(condition, values, options.reverse === true)) {
      yield await this.#toEntry(item);
    }
  }

  async putIdMap(sourceInstance: string, entity: string, rows: readonly IdMapRow[]): Promise<void> {
    const pk = idMapPartitionKey(sourceInstance, entity);
    const updatedAt = new Date(this.#clock.now()).toISOString();
    await this.#writeAll(
      parseIdMapRows(rows).map((row) => ({
        pk: { S: pk },
        sk: { S: row.sourceId },
        twentyId: { S: row.twentyId },
        contentHash: { S: row.contentHash },
        runId: { S: row.runId },
        updatedAt: { S: row.writtenAt ?? updatedAt },
      })),
    );
  }

  async getIdMap(
    sourceInstance: string,
    entity: string,
    sourceIds: readonly string[],
  ): Promise<Map<string, IdMapRow>> {
    const pk = idMapPartitionKey(sourceInstance, entity);
    const found = new Map<string, IdMapRow>();
    await forEachConcurrently(chunked([...new Set(sourceIds)], 100), BATCH_CONCURRENCY, async (ids) => {
      let pending: KeysAndAttributes | undefined = {
        Keys: ids.map((id) => ({ pk: { S: pk }, sk: { S: id } })),
        ConsistentRead: true,
      };
      for (let round = 0; pending?.Keys && pending.Keys.length > 0; round++) {
        if (round >= MAX_BATCH_ROUNDS)
          throw new TransientError('ledger: BatchGetItem kept returning UnprocessedKeys');
        if (round > 0) await this.#clock.sleep(backoffMs(round));
        const request: KeysAndAttributes = pending;
        const out = await guard('BatchGetItem', () =>
          this.#client.send(new BatchGetItemCommand({ RequestItems: { [this.#table]: request } })),
        );
        for (const item of out.Responses?.[this.#table] ?? []) {
          const row = toIdMapRow(item);
          found.set(row.sourceId, row);
        }
        pending = out.UnprocessedKeys?.[this.#table];
      }
    });
    return found;
  }

  async deleteIdMap(sourceInstance: string, entity: string, sourceIds: readonly string[]): Promise<void> {
    const pk = idMapPartitionKey(sourceInstance, entity);
    await this.#batchWrite(
      [...new Set(sourceIds)].map((sourceId) => ({
        DeleteRequest: { Key: { pk: { S: pk }, sk: { S: sourceId } } },
      })),
    );
  }

  async *scanIdMap(sourceInstance: string, entity: string): AsyncIterable<IdMapRow> {
    const values: Item = { ':pk': { S: idMapPartitionKey(sourceInstance, entity) } };
    for await (const item of this.#query('pk = :pk', values, false)) yield toIdMapRow(item);
  }

  async *#query(condition: string, values: Item, reverse: boolean): AsyncIterable<Item> {
    let start: Item | undefined;
    do {
      const page = await guard('Query', () =>
        this.#client.send(
          new QueryCommand({
            TableName: this.#table,
            KeyConditionExpression: condition,
            ExpressionAttributeValues: values,
            ScanIndexForward: !reverse,
            ConsistentRead: true,
            ExclusiveStartKey: start,
          }),
        ),
      );
      for (const item of page.Items ?? []) yield item;
      start = page.LastEvaluatedKey;
    } while (start !== undefined);
  }

  async #toEntry(item: Item): Promise<LedgerEntry> {
    const [phase = '', entity = '', sourceId = ''] = str(item, 'sk').split('#').map(unkeyPart);
    const entry: LedgerEntry = {
      runId: str(item, 'runId'),
      phase: str(item, 'phase') || phase,
      entity: str(item, 'entity') || entity,
      sourceId: str(item, 'sourceId') || sourceId,
      twentyId: str(item, 'twentyId'),
      op: LedgerOpSchema.parse(str(item, 'op')),
      contentHash: str(item, 'contentHash'),
      at: str(item, 'at'),
    };
    if (item.object?.S !== undefined) entry.object = item.object.S;
    const inline = item.beforeImage?.S;
    const pointer = item.beforeImageKey?.S;
    if (inline !== undefined) entry.beforeImage = JSON.parse(inline) as Record<string, unknown>;
    else if (pointer !== undefined) {
      entry.beforeImage = await this.#beforeImages.get(pointer);
    }
    return entry;
  }

  /**
   * BatchWriteItem in requests of 25 distinct keys (last write of a key wins; a key is in one
   * request only, so requests in flight together never race on an item), retrying UnprocessedItems.
   */
  async #writeAll(items: readonly Item[]): Promise<void> {
    const byKey = new Map<string, Item>();
    for (const item of items) byKey.set(`${item.pk?.S}\u0000${item.sk?.S}`, item);
    await this.#batchWrite([...byKey.values()].map((item) => ({ PutRequest: { Item: item } })));
  }

  /** BatchWriteItem in requests of 25 (callers pass distinct keys), retrying UnprocessedItems. */
  async #batchWrite(requests: readonly WriteRequest[]): Promise<void> {
    await forEachConcurrently(chunked(requests, 25), BATCH_CONCURRENCY, async (batch) => {
      let pending: WriteRequest[] = batch;
      for (let round = 0; pending.length > 0; round++) {
        if (round >= MAX_BATCH_ROUNDS)
          throw new TransientError('ledger: BatchWriteItem kept returning UnprocessedItems');
        if (round > 0) await this.#clock.sleep(backoffMs(round));
        const request = pending;
        const out = await guard('BatchWriteItem', () =>
          this.#client.send(new BatchWriteItemCommand({ RequestItems: { [this.#table]: request } })),
        );
        pending = out.UnprocessedItems?.[this.#table] ?? [];
      }
    });
  }
}

function toIdMapRow(item: Item): IdMapRow {
  return {
    sourceId: str(item, 'sk'),
    twentyId: str(item, 'twentyId'),
    contentHash: str(item, 'contentHash'),
    runId: str(item, 'runId'),
    ...(item.updatedAt?.S === undefined ? {} : { writtenAt: item.updatedAt.S }),
  };
}

/** SDK failures become TransientErrors naming the operation (ASL Retry matches them). */
async function guard<T>(operation: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw new TransientError(`ledger table: DynamoDB ${operation} failed`, { cause: error });
  }
}

function backoffMs(round: number): number {
  return Math.min(2_000, 25 * 2 ** round) * (0.5 + Math.random() / 2);
}
