import { createHash } from 'node:crypto';
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
 * The Ledger port on DynamoDB. Entries: one item per append, phase and entity — a load slice's
 * entries together — `pk=RUN#<runId>`, `sk=<phase>#<entity>#%p#<digest of its entries>`, the
 * entries a JSON array in `entries`, the append's order in `seq` (split into several items past
 * {@link MAX_PACK_BYTES}). Every entry is still its own record operation: readers get one entry per
 * (phase, entity, source id, op), the latest append's, in that key order. A retried append of the
 * same entries rewrites the same item; one whose entries differ (a later `at`, a record more) adds
 * an item and wins on read. Items of the earlier layout (`sk=<phase>#<entity>#<sourceId>#<op>`, one
 * entry each) are read as the oldest appends. Packing matters because every item costs DynamoDB a
 * write unit and the local store a read and a write: one per record doubled the load's table work.
 * Id map: `pk=MAP#<sourceInstance>#<entity>`, `sk=<sourceId>` (contracts §4), one item per record
 * (looked up by source id). Writes go through BatchWriteItem (25 a request, UnprocessedItems retried
 * with backoff); before-images above {@link MAX_INLINE_BEFORE_IMAGE_BYTES} are written to the work
 * bucket first and referenced.
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
    // Last entry of a key wins within one call, as it always did; across calls the read does it.
    const byKey = new Map<string, LedgerEntry>();
    for (const entry of parseLedgerEntries(entries)) byKey.set(ledgerSortKey(entry), entry);
    const groups = new Map<string, PackedEntry[]>();
    const first = new Map<string, LedgerEntry>();
    for (const entry of byKey.values()) {
      const group = `${runPartitionKey(entry.runId)}\u0000${keyPart(entry.phase)}#${keyPart(entry.entity)}`;
      const packed: PackedEntry = {
        s: entry.sourceId,
        t: entry.twentyId,
        o: entry.op,
        h: entry.contentHash,
        a: entry.at,
      };
      if (entry.object !== undefined) packed.ob = entry.object;
      if (entry.beforeImage !== undefined) {
        const json = JSON.stringify(entry.beforeImage);
        if (Buffer.byteLength(json, 'utf8') > MAX_INLINE_BEFORE_IMAGE_BYTES) {
          packed.bk = await this.#beforeImages.put(entry, json);
        } else {
          packed.b = entry.beforeImage;
        }
      }
      groups.set(group, [...(groups.get(group) ?? []), packed]);
      if (!first.has(group)) first.set(group, entry);
    }
    const seq = nextSequence(this.#clock.now());
    const items: Item[] = [];
    for (const [group, packed] of groups) {
      const { runId, phase, entity } = first.get(group) as LedgerEntry;
      for (const part of packsOf(packed)) {
        const json = JSON.stringify(part);
        const digest = createHash('sha256').update(json).digest('base64url').slice(0, 32);
        items.push({
          pk: { S: runPartitionKey(runId) },
          sk: { S: `${keyPart(phase)}#${keyPart(entity)}#${PACK_MARK}#${digest}` },
          runId: { S: runId },
          phase: { S: phase },
          entity: { S: entity },
          entries: { S: json },
          seq: { S: seq },
        });
      }
    }
    await this.#writeAll(items);
  }

  /**
   * A run's entries: the query walks the items in key order (reversed for rollback), and the items
   * of one phase and entity — sort keys sharing `<phase>#<entity>#`, so always adjacent — are read
   * together, their entries de-duplicated (the latest append of a key wins) and sorted by their
   * entry key, so the order is the one-item-per-entry layout's. Items of that older layout (one
   * entry each, no `entries` attribute) are read alongside, as the oldest appends.
   */
  async *entriesForRun(runId: string, options: EntriesForRunOptions = {}): AsyncIterable<LedgerEntry> {
    const values: Item = { ':pk': { S: runPartitionKey(runId) } };
    let condition = 'pk = :pk';
    if (options.phase !== undefined) {
      condition += ' AND begins_with(sk, :phase)';
      values[':phase'] = { S: `${keyPart(options.phase)}#` };
    }
    const reverse = options.reverse === true;
    let group: string | undefined;
    let found = new Map<string, Unpacked & { seq: string }>();
    for await (const item of this.#query(condition, values, reverse)) {
      const [phase = '', entity = ''] = str(item, 'sk').split('#');
      if (`${phase}#${entity}` !== group) {
        yield* this.#inOrder(found, reverse);
        group = `${phase}#${entity}`;
        found = new Map();
      }
      const seq = str(item, 'seq');
      for (const read of unpack(item)) {
        const key = ledgerSortKey(read.entry);
        const seen = found.get(key);
        if (seen === undefined || seen.seq <= seq) found.set(key, { ...read, seq });
      }
    }
    yield* this.#inOrder(found, reverse);
  }

  /** One phase/entity's entries in entry key order (DynamoDB's: UTF-8 bytes), before-images resolved. */
  async *#inOrder(found: ReadonlyMap<string, Unpacked>, reverse: boolean): AsyncIterable<LedgerEntry> {
    const keys = [...found.keys()]
      .map((key) => ({ key, bytes: Buffer.from(key, 'utf8') }))
      .sort((a, b) => Buffer.compare(a.bytes, b.bytes))
      .map(({ key }) => key);
    if (reverse) keys.reverse();
    for (const key of keys) {
      const { entry, pointer } = found.get(key) as Unpacked;
      if (pointer !== undefined) entry.beforeImage = await this.#beforeImages.get(pointer);
      yield entry;
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

/** One entry inside a packed ledger item (short names: a slice's item holds hundreds). */
interface PackedEntry {
  /** sourceId, twentyId, op, contentHash, at */
  s: string;
  t: string;
  o: string;
  h: string;
  a: string;
  /** object (a `deleted` record's plural) */
  ob?: string;
  /**
   * before-image inline (the object itself: as a JSON string inside the item's JSON its quotes would
   * be escaped, and a 300 KB image could pass DynamoDB's item cap), or the key of the one the work
   * bucket holds
   */
  b?: Record<string, unknown>;
  bk?: string;
}

/**
 * Marks a packed item's sort key: `<phase>#<entity>#%p#<digest>`. No entry key can start its third
 * part so ({@link keyPart} writes every `%` as `%25`).
 */
const PACK_MARK = '%p';

/**
 * UTF-8 bytes of entries one packed item holds at most: DynamoDB caps an item at 400 KB, and one
 * entry alone stays under it (its before-image inline only up to MAX_INLINE_BEFORE_IMAGE_BYTES).
 */
const MAX_PACK_BYTES = 360 * 1024;

/** Splits one phase/entity's entries into packs under {@link MAX_PACK_BYTES} each. */
function packsOf(entries: readonly PackedEntry[]): PackedEntry[][] {
  const packs: PackedEntry[][] = [];
  let pack: PackedEntry[] = [];
  let bytes = 2;
  for (const entry of entries) {
    const size = Buffer.byteLength(JSON.stringify(entry), 'utf8') + 1;
    if (pack.length > 0 && bytes + size > MAX_PACK_BYTES) {
      packs.push(pack);
      pack = [];
      bytes = 2;
    }
    pack.push(entry);
    bytes += size;
  }
  if (pack.length > 0) packs.push(pack);
  return packs;
}

/**
 * Orders appends: the writer's clock, then a counter (two appends in the same millisecond, or under a
 * stopped test clock, still order as they were made). Items of the one-entry layout have none: oldest.
 */
let appendCounter = 0;
function nextSequence(now: number): string {
  appendCounter = (appendCounter + 1) % 1_000_000_000;
  return `${String(Math.max(0, Math.floor(now))).padStart(15, '0')}.${String(appendCounter).padStart(9, '0')}`;
}

/** An entry read from an item; a before-image kept in the work bucket is still its pointer. */
interface Unpacked {
  readonly entry: LedgerEntry;
  readonly pointer?: string;
}

/** The entries of one ledger item, either layout. */
function unpack(item: Item): Unpacked[] {
  const packed = item.entries?.S;
  if (packed === undefined) {
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
    if (inline !== undefined) entry.beforeImage = JSON.parse(inline) as Record<string, unknown>;
    const pointer = inline === undefined ? item.beforeImageKey?.S : undefined;
    return [pointer === undefined ? { entry } : { entry, pointer }];
  }
  const runId = str(item, 'runId');
  const phase = str(item, 'phase');
  const entity = str(item, 'entity');
  return (JSON.parse(packed) as PackedEntry[]).map((p) => {
    const entry: LedgerEntry = {
      runId,
      phase,
      entity,
      sourceId: p.s,
      twentyId: p.t,
      op: LedgerOpSchema.parse(p.o),
      contentHash: p.h,
      at: p.a,
    };
    if (p.ob !== undefined) entry.object = p.ob;
    if (p.b !== undefined) entry.beforeImage = p.b;
    return p.bk === undefined ? { entry } : { entry, pointer: p.bk };
  });
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
