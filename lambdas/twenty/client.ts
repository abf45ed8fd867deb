import { type Clock, systemClock } from '../ports/clock.ts';
import { NotFoundError, TwentyRejectedError, ValidationError } from '../ports/errors.ts';
import { type Log, silentLog } from '../ports/log.ts';
import type {
  CreateFieldInput,
  CreateManyOptions,
  CreateManyResult,
  CreateObjectInput,
  FailedRecord,
  FieldMeta,
  FindManyOptions,
  ObjectMeta,
  RequestGate,
  SelectOption,
  TwentyApi,
  TwentyClientStats,
  TwentyFilter,
  TwentyRecord,
  UploadedFile,
  WorkspaceMember,
  WrittenRecord,
} from '../ports/twenty.ts';
import { TwentyModel } from '../ports/twenty-model.ts';
import { renderFilter, renderOrderBy } from './filter.ts';
import { listOf, parseField, parseObject } from './metadata-json.ts';
import { type TwentyRequest, TwentyTransport } from './transport.ts';

export interface TwentyClientOptions {
  /** Workspace base URL, e.g. `https://crm.example.test` or the sandbox's URL (no `/rest`). */
  readonly baseUrl: string;
  readonly apiKey: string;
  readonly clock?: Clock;
  readonly log?: Log;
  /** Shared admission control (the DynamoDB token bucket); none by default. */
  readonly limiter?: RequestGate;
  /** Per-attempt timeout in ms (default 30,000). */
  readonly timeoutMs?: number;
  /** Retries on 5xx/timeouts/socket errors before a TransientError (default 5). */
  readonly maxRetries?: number;
  /** Consecutive 429s waited out per request before a RateLimitedError (default 30). */
  readonly maxThrottleRetries?: number;
  /** Records per batch request (default 200, Twenty's QUERY_MAX_RECORDS); lowered to the cap Twenty names in its 400. */
  readonly batchMax?: number;
  readonly baseBackoffMs?: number;
  readonly maxBackoffMs?: number;
  readonly maxThrottleWaitMs?: number;
  readonly random?: () => number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Twenty's refusal of a mutation over `MUTATION_MAXIMUM_AFFECTED_RECORDS` (pg_graphql's `atMost`). */
const MUTATION_CAP_MESSAGE = /impacts too many records \(more than (\d+)\)/i;
/** Twenty's default `MUTATION_MAXIMUM_AFFECTED_RECORDS`. */
export const MUTATION_MAX_AFFECTED_RECORDS = 100;
const BATCH_CAP_MESSAGE = /maximum number of records to (?:upsert|create|update|delete) is (\d+)/i;
const DEFAULT_UNIQUE_KEYS: Readonly<Record<string, readonly string[]>> = {
  people: ['emails.primaryEmail'],
  companies: ['domainName.primaryLinkUrl'],
};

interface Pending {
  readonly index: number;
  readonly record: TwentyRecord;
}

/** The single value under `data` in Twenty's `{data:{createPeople:[…]}}`-style envelopes. */
function dataValue(body: unknown): unknown {
  if (typeof body !== 'object' || body === null) return undefined;
  const data = (body as { data?: unknown }).data;
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return data;
  const values = Object.values(data);
  return values.length === 1 ? values[0] : data;
}

function valueAtPath(record: Record<string, unknown>, path: string): unknown {
  let current: unknown = record;
  for (const part of path.split('.')) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

function pick(record: TwentyRecord, fields: readonly string[] | undefined): TwentyRecord {
  if (!fields) return record;
  const out: Record<string, unknown> = { id: record.id };
  for (const field of fields) if (field in record) out[field] = record[field];
  return out as TwentyRecord;
}

/**
 * Ferry's Twenty client: the typed operations the stages need, over Twenty's REST and metadata
 * API (and GraphQL for uploads), with the failure policy of `TwentyTransport`. Batch creates
 * always carry client ids, so any resend — after a timeout, a reset or during bisection — is an
 * idempotent upsert, never a new row.
 */
export class TwentyClient implements TwentyApi {
  readonly #transport: TwentyTransport;
  readonly #log: Log;
  #batchMax: number;
  readonly #limiter: RequestGate | undefined;
  #capSettled = false;
  #mutationMax = MUTATION_MAX_AFFECTED_RECORDS;
  #model: TwentyModel | undefined;
  #knownNames: ReadonlySet<string> = new Set();

  constructor(options: TwentyClientOptions) {
    this.#log = options.log ?? silentLog;
    this.#batchMax = Math.max(1, Math.floor(options.batchMax ?? 200));
    this.#limiter = options.limiter;
    this.#transport = new TwentyTransport({
      baseUrl: options.baseUrl,
      apiKey: options.apiKey,
      clock: options.clock ?? systemClock,
      log: this.#log,
      ...(options.limiter ? { limiter: options.limiter } : {}),
      timeoutMs: options.timeoutMs ?? 30_000,
      maxRetries: options.maxRetries ?? 5,
      maxThrottleRetries: options.maxThrottleRetries ?? 30,
      baseBackoffMs: options.baseBackoffMs ?? 250,
      maxBackoffMs: options.maxBackoffMs ?? 10_000,
      maxThrottleWaitMs: options.maxThrottleWaitMs ?? 60_000,
      random: options.random ?? Math.random,
      knownNames: () => this.#knownNames,
    });
  }

  async settleBatchCap(): Promise<number> {
    if (!this.#capSettled) {
      this.#capSettled = true;
      const known = await this.#limiter?.knownBatchCap?.().catch(() => undefined);
      if (known !== undefined && known >= 1 && known < this.#batchMax) this.#batchMax = known;
    }
    return this.#batchMax;
  }

  /** The batch size in use (the configured cap, or lower if Twenty announced a smaller one). */
  get batchMax(): number {
    return this.#batchMax;
  }

  /** Records one delete-many request may affect (Twenty's default, or lower if it said so). */
  get mutationMax(): number {
    return this.#mutationMax;
  }

  /** Request counters since construction: requests, retries, 429s, socket errors, by status. */
  stats(): TwentyClientStats {
    return this.#transport.stats();
  }

  // ----------------------------------------------------------------------------------- metadata

  /** The workspace schema, read once and cached; `refreshMetadata()` after changing it. */
  async metadata(): Promise<TwentyModel> {
    return this.#model ?? this.refreshMetadata();
  }

  /** Re-reads objects (and fields, when the object listing does not embed them). */
  async refreshMetadata(): Promise<TwentyModel> {
    const rawObjects = await this.#metadataList('objects');
    const embedsFields = rawObjects.some(
      (raw) =>
        typeof raw === 'object' && raw !== null && listOf((raw as { fields?: unknown }).fields).length > 0,
    );
    const looseFields = embedsFields ? [] : await this.#metadataList('fields');
    const objects = rawObjects
      .map((raw) => parseObject(raw, looseFields))
      .filter((object): object is ObjectMeta => object !== undefined);
    this.#model = new TwentyModel(objects);
    const names = new Set<string>();
    for (const object of objects) {
      names.add(object.nameSingular).add(object.namePlural);
      for (const field of object.fields) names.add(field.name);
    }
    this.#knownNames = names;
    return this.#model;
  }

  /** Every item of a metadata listing, following `pageInfo` cursors when the server pages it. */
  async #metadataList(kind: 'objects' | 'fields'): Promise<unknown[]> {
    const items: unknown[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 100; page++) {
      const { body } = await this.#send({
        method: 'GET',
        path: `/rest/metadata/${kind}`,
        query: { limit: 1000, starting_after: cursor },
      });
      const batch = listOf(body, kind);
      items.push(...batch);
      const pageInfo = (body as { pageInfo?: { hasNextPage?: unknown; endCursor?: unknown } } | undefined)
        ?.pageInfo;
      const next = typeof pageInfo?.endCursor === 'string' ? pageInfo.endCursor : undefined;
      if (pageInfo?.hasNextPage !== true || !next || next === cursor || batch.length === 0) break;
      cursor = next;
    }
    return items;
  }

  /**
   * Creates a custom object. Idempotent: if a timed-out first attempt already created it, Twenty's
   * 400 "already exists" on the retry resolves to the existing object.
   */
  async createObject(input: CreateObjectInput): Promise<ObjectMeta> {
    return this.#createMetadata('objects', 'createObject', input, parseObject, (model) => {
      const existing = model.find(input.nameSingular);
      return existing && existing.namePlural === input.namePlural ? existing : undefined;
    });
  }

  /** Creates a field (incl. SELECT options and RELATION); idempotent like `createObject`. */
  async createField(input: CreateFieldInput): Promise<FieldMeta> {
    return this.#createMetadata('fields', 'createField', input, parseField, (model) =>
      model
        .objectById(input.objectMetadataId)
        ?.fields.find((field) => field.name === input.name && field.type === input.type),
    );
  }

  /**
   * POSTs a custom object or field. When Twenty rejects it (a retry after a timed-out first attempt
   * that did create it gets "already exists"), the fresh workspace model's matching entry is the
   * result; with none, the rejection stands.
   */
  async #createMetadata<T>(
    kind: 'objects' | 'fields',
    operation: string,
    input: CreateObjectInput | CreateFieldInput,
    parse: (value: unknown) => T | undefined,
    existingIn: (model: TwentyModel) => T | undefined,
  ): Promise<T> {
    try {
      const { body } = await this.#send({ method: 'POST', path: `/rest/metadata/${kind}`, json: input });
      const created = parse(dataValue(body));
      if (!created) throw new ValidationError(`Twenty returned no ${kind.slice(0, -1)} for ${operation}`);
      this.#model = undefined;
      return created;
    } catch (error) {
      if (!(error instanceof TwentyRejectedError)) throw error;
      const existing = existingIn(await this.refreshMetadata());
      if (existing) return existing;
      throw error;
    }
  }

  /** Patches a field's metadata (label, options…). */
  async updateField(fieldId: string, patch: Partial<Omit<CreateFieldInput, 'objectMetadataId' | 'type'>>) {
    const { body } = await this.#send({
      method: 'PATCH',
      path: `/rest/metadata/fields/${fieldId}`,
      json: patch,
    });
    this.#model = undefined;
    const updated = parseField(dataValue(body));
    if (!updated) throw new ValidationError('Twenty returned no field for updateField');
    return updated;
  }

  /**
   * Adds select options to a SELECT/MULTI_SELECT field, keeping the existing ones (Twenty replaces
   * the whole list on update). Options whose value already exists are left alone.
   */
  async addSelectOptions(
    objectName: string,
    fieldName: string,
    options: readonly SelectOption[],
  ): Promise<FieldMeta> {
    const field = await this.#freshField(objectName, fieldName);
    const present = new Set(field.options.map((option) => option.value));
    const added = options.filter((option) => !present.has(option.value));
    if (added.length === 0) return field;
    const merged = [
      ...field.options,
      ...added.map((option, offset) => ({ ...option, position: field.options.length + offset })),
    ];
    return this.updateField(field.id, { options: merged });
  }

  /** Replaces a SELECT/MULTI_SELECT field's options with exactly these (positions renumbered). */
  async setSelectOptions(
    objectName: string,
    fieldName: string,
    options: readonly SelectOption[],
  ): Promise<FieldMeta> {
    const field = await this.#freshField(objectName, fieldName);
    return this.updateField(field.id, {
      options: options.map((option, position) => ({ ...option, position })),
    });
  }

  /** A field as Twenty has it now (options included), refreshed first: an option edit replaces the whole list. */
  async #freshField(objectName: string, fieldName: string): Promise<FieldMeta> {
    const field = (await this.refreshMetadata()).field(objectName, fieldName);
    if (!field) throw new ValidationError(`Twenty object ${objectName} has no field ${fieldName}`);
    return field;
  }

  /** Deactivates, then deletes a custom object or field; false when Twenty no longer has it. */
  async removeMetadata(kind: 'objects' | 'fields', id: string): Promise<boolean> {
    try {
      await this.#send({ method: 'PATCH', path: `/rest/metadata/${kind}/${id}`, json: { isActive: false } });
      await this.#send({ method: 'DELETE', path: `/rest/metadata/${kind}/${id}` });
      return true;
    } catch (error) {
      if (error instanceof NotFoundError) return false;
      throw error;
    } finally {
      this.#model = undefined;
    }
  }

  // ------------------------------------------------------------------------------------ records

  /**
   * Writes records in batches of ≤ `batchMax` to `/rest/batch/{plural}` (`upsert=true` unless told
   * otherwise). A batch Twenty refuses with 400 is split in halves until each bad record stands
   * alone; the good ones are resent with the same ids, so nothing is duplicated. Records without a
   * UUID id, and records colliding with an earlier one of this call, fail without being sent.
   */
  async createMany(
    plural: string,
    records: readonly TwentyRecord[],
    options: CreateManyOptions = {},
  ): Promise<CreateManyResult> {
    const upsert = options.upsert ?? true;
    await this.settleBatchCap();
    const written: WrittenRecord[] = [];
    const failed: FailedRecord[] = [];
    const pending = this.#precheck(plural, records, options.checkCollisions ?? true, failed);
    const batches: Pending[][] = [];
    for (let start = 0; start < pending.length; start += this.#batchMax) {
      batches.push(pending.slice(start, start + this.#batchMax));
    }
    let next = 0;
    const worker = async () => {
      while (next < batches.length) {
        const batch = batches[next++]!;
        await this.#writeBatch(plural, batch, upsert, written, failed);
      }
    };
    const concurrency = Math.max(1, Math.min(options.concurrency ?? 1, batches.length));
    await Promise.all(Array.from({ length: concurrency }, worker));
    written.sort((a, b) => a.index - b.index);
    failed.sort((a, b) => a.index - b.index);
    return { written, failed };
  }

  #precheck(
    plural: string,
    records: readonly TwentyRecord[],
    checkCollisions: boolean,
    failed: FailedRecord[],
  ) {
    const uniqueKeys = this.#uniqueKeys(plural);
    const seen = new Map<string, number>();
    const pending: Pending[] = [];
    records.forEach((record, index) => {
      const id = typeof record?.id === 'string' ? record.id : '';
      if (!UUID.test(id)) {
        failed.push({ index, id, reason: 'id: missing or not a UUID (Ferry sends deterministic ids)' });
        return;
      }
      if (checkCollisions) {
        const keys = [['id', id.toLowerCase()] as const];
        const collided = [
          ...keys,
          ...uniqueKeys.map((path) => [path, valueAtPath(record, path)] as const),
        ].find(
          ([path, value]) =>
            typeof value === 'string' && value !== '' && seen.has(`${path}\u0000${norm(path, value)}`),
        );
        if (collided) {
          const [path, value] = collided;
          const first = seen.get(`${path}\u0000${norm(path, value as string)}`);
          failed.push({
            index,
            id,
            reason: `${path}: same value as record ${first} of this batch (unique in Twenty)`,
          });
          return;
        }
        for (const [path, value] of [
          ...keys,
          ...uniqueKeys.map((p) => [p, valueAtPath(record, p)] as const),
        ]) {
          if (typeof value === 'string' && value !== '') seen.set(`${path}\u0000${norm(path, value)}`, index);
        }
      }
      pending.push({ index, record });
    });
    return pending;
  }

  #uniqueKeys(plural: string): readonly string[] {
    const object = this.#model?.find(plural);
    if (object) return this.#model!.uniqueKeys(object.nameSingular);
    return DEFAULT_UNIQUE_KEYS[plural] ?? [];
  }

  async #writeBatch(
    plural: string,
    batch: readonly Pending[],
    upsert: boolean,
    written: WrittenRecord[],
    failed: FailedRecord[],
  ): Promise<void> {
    if (batch.length === 0) return;
    if (batch.length > this.#batchMax) {
      for (let start = 0; start < batch.length; start += this.#batchMax) {
        await this.#writeBatch(plural, batch.slice(start, start + this.#batchMax), upsert, written, failed);
      }
      return;
    }
    try {
      // depth=0: Ferry reads nothing back from a batch write, so Twenty need not load and send
      // every record's related records (a task's assignee, a target's task and person…).
      await this.#send({
        method: 'POST',
        path: `/rest/batch/${plural}`,
        query: upsert ? { upsert: true, depth: 0 } : { depth: 0 },
        json: batch.map((item) => item.record),
      });
      for (const item of batch) written.push({ index: item.index, id: item.record.id });
    } catch (error) {
      if (!(error instanceof TwentyRejectedError) || error.status !== 400) throw error;
      const cap = error.reasons.map((reason) => BATCH_CAP_MESSAGE.exec(reason)?.[1]).find(Boolean);
      if (cap !== undefined && Number(cap) >= 1 && Number(cap) < batch.length) {
        this.#log.warn('twenty batch cap lowered', { from: this.#batchMax, to: Number(cap) });
        this.#batchMax = Math.min(this.#batchMax, Number(cap));
        await this.#limiter?.rememberBatchCap?.(this.#batchMax).catch(() => {
          this.#log.warn('twenty batch cap not remembered for the workspace');
        });
        await this.#writeBatch(plural, batch, upsert, written, failed);
        return;
      }
      if (batch.length === 1) {
        const only = batch[0]!;
        failed.push({ index: only.index, id: only.record.id, reason: error.reasons.join('; ') || 'refused' });
        return;
      }
      const middle = Math.ceil(batch.length / 2);
      await this.#writeBatch(plural, batch.slice(0, middle), upsert, written, failed);
      await this.#writeBatch(plural, batch.slice(middle), upsert, written, failed);
    }
  }

  /** Creates one record (`POST /rest/{plural}`); returns what Twenty stored. */
  async createOne(
    plural: string,
    record: TwentyRecord,
    options: { upsert?: boolean } = {},
  ): Promise<TwentyRecord> {
    const { body } = await this.#send({
      method: 'POST',
      path: `/rest/${plural}`,
      query: options.upsert ? { upsert: true } : {},
      json: record,
    });
    return dataValue(body) as TwentyRecord;
  }

  /**
   * Every record matching the options, page after page (`starting_after` cursors). Only one page
   * is held at a time, so a reconciliation of 500,000 rows runs in constant memory.
   */
  async *findMany(plural: string, options: FindManyOptions = {}): AsyncGenerator<TwentyRecord> {
    let cursor: string | undefined;
    for (;;) {
      const { body } = await this.#send({
        method: 'GET',
        path: `/rest/${plural}`,
        query: {
          limit: options.limit ?? 60,
          filter: options.filter === undefined ? undefined : renderFilter(options.filter),
          order_by: options.orderBy === undefined ? undefined : renderOrderBy(options.orderBy),
          starting_after: cursor,
          depth: options.depth,
        },
      });
      const page = listOf(dataValue(body)) as TwentyRecord[];
      for (const record of page) yield pick(record, options.fields);
      const pageInfo = (body as { pageInfo?: { hasNextPage?: unknown; endCursor?: unknown } } | undefined)
        ?.pageInfo;
      const endCursor = typeof pageInfo?.endCursor === 'string' ? pageInfo.endCursor : undefined;
      if (pageInfo?.hasNextPage !== true || !endCursor || page.length === 0 || endCursor === cursor) return;
      cursor = endCursor;
    }
  }

  /** Drains `findMany` into an array — for small result sets only. */
  async findAll(plural: string, options: FindManyOptions = {}): Promise<TwentyRecord[]> {
    const out: TwentyRecord[] = [];
    for await (const record of this.findMany(plural, options)) out.push(record);
    return out;
  }

  /** One record by id; NotFoundError when Twenty has no such row. */
  async findOne(plural: string, id: string): Promise<TwentyRecord> {
    const { body } = await this.#send({ method: 'GET', path: `/rest/${plural}/${id}` });
    return dataValue(body) as TwentyRecord;
  }

  /** Patches one record; NotFoundError when absent. */
  async update(plural: string, id: string, patch: Record<string, unknown>): Promise<TwentyRecord> {
    const { body } = await this.#send({ method: 'PATCH', path: `/rest/${plural}/${id}`, json: patch });
    return dataValue(body) as TwentyRecord;
  }

  /**
   * Hard-deletes one record (a soft-deleted row would keep its unique email/domain reserved).
   * Returns false when the row was already gone, so a resumed rollback does not fail on it.
   */
  async destroy(plural: string, id: string): Promise<boolean> {
    try {
      await this.#send({ method: 'DELETE', path: `/rest/${plural}/${id}` });
      return true;
    } catch (error) {
      if (error instanceof NotFoundError) return false;
      throw error;
    }
  }

  /**
   * Soft-deletes one record (`?soft_delete=true`), as Twenty's UI does. Ferry itself hard-deletes;
   * this exists to rehearse and test what a soft-deleted row does to unique keys and upserts.
   */
  async softDelete(plural: string, id: string): Promise<void> {
    await this.#send({ method: 'DELETE', path: `/rest/${plural}/${id}`, query: { soft_delete: true } });
  }

  /** Deletes every record matching a (mandatory) filter; returns how many Twenty reported. */
  async destroyMany(plural: string, filter: TwentyFilter): Promise<number> {
    const rendered = renderFilter(filter);
    if (rendered.trim() === '') throw new ValidationError('destroyMany: filter is required');
    const { body } = await this.#send({
      method: 'DELETE',
      path: `/rest/${plural}`,
      query: { filter: rendered },
    });
    const value = dataValue(body);
    if (Array.isArray(value)) return value.length;
    if (typeof value === 'number') return value;
    return listOf(value).length;
  }

  /**
   * Hard-deletes records by id, at most {@link TwentyClient.mutationMax} per request
   * (`DELETE /rest/{plural}?filter=id[in]:[…]`; Twenty refuses a mutation affecting more rows than
   * `MUTATION_MAXIMUM_AFFECTED_RECORDS`, 100 by default, and the cap is lowered when it says less).
   * Returns the ids Twenty reported deleted (its `DELETE … RETURNING`); ids already gone are absent.
   */
  async destroyByIds(plural: string, ids: readonly string[]): Promise<string[]> {
    const deleted: string[] = [];
    const unique = [...new Set(ids.map((id) => id.toLowerCase()))];
    for (const id of unique) {
      if (!UUID.test(id)) throw new ValidationError('destroyByIds: every id must be a UUID');
    }
    let start = 0;
    while (start < unique.length) {
      const page = unique.slice(start, start + this.#mutationMax);
      try {
        const { body } = await this.#send({
          method: 'DELETE',
          path: `/rest/${plural}`,
          query: { filter: renderFilter({ field: 'id', op: 'in', value: page }), depth: 0 },
        });
        for (const item of listOf(dataValue(body))) {
          const id = (item as { id?: unknown } | null)?.id;
          if (typeof id === 'string') deleted.push(id.toLowerCase());
        }
        start += page.length;
      } catch (error) {
        if (!(error instanceof TwentyRejectedError) || error.status !== 400) throw error;
        const cap = error.reasons.map((reason) => MUTATION_CAP_MESSAGE.exec(reason)?.[1]).find(Boolean);
        if (cap === undefined || Number(cap) < 1 || Number(cap) >= page.length) throw error;
        this.#log.warn('twenty mutation cap lowered', { from: this.#mutationMax, to: Number(cap) });
        this.#mutationMax = Number(cap);
      }
    }
    return deleted;
  }

  /** Restores a soft-deleted record (`deletedAt` → null). */
  async restore(plural: string, id: string): Promise<TwentyRecord> {
    const { body } = await this.#send({ method: 'PATCH', path: `/rest/${plural}/${id}/restore` });
    return dataValue(body) as TwentyRecord;
  }

  /** Workspace members (owners/providers are matched to them by normalized email). */
  async members(): Promise<WorkspaceMember[]> {
    const out: WorkspaceMember[] = [];
    for await (const raw of this.findMany('workspaceMembers', { limit: 200 })) {
      const name = (raw.name ?? {}) as { firstName?: unknown; lastName?: unknown };
      out.push({
        id: raw.id,
        userEmail: typeof raw.userEmail === 'string' ? raw.userEmail : '',
        firstName: typeof name.firstName === 'string' ? name.firstName : '',
        lastName: typeof name.lastName === 'string' ? name.lastName : '',
      });
    }
    return out;
  }

  /**
   * Uploads a file through Twenty's GraphQL multipart endpoint (there is no REST upload). v1
   * workspaces take `uploadFile(file, fileFolder)` and return the path an attachment's `fullPath`
   * carries; v2 workspaces upload into a FILES field (`uploadFilesFieldFile(file, fieldMetadataId)`,
   * by default the attachment's FILES field) and return the file's id and path. The flavor comes
   * from the metadata, read once.
   */
  async uploadFile(
    bytes: Uint8Array,
    name: string,
    mime: string,
    options: { fileFolder?: string; object?: string; field?: string } = {},
  ): Promise<UploadedFile> {
    const model = await this.metadata();
    let query: string;
    let variables: Record<string, unknown>;
    if (model.flavor === 'v1') {
      query =
        'mutation UploadFile($file: Upload!, $fileFolder: FileFolder) { uploadFile(file: $file, fileFolder: $fileFolder) }';
      variables = { file: null, fileFolder: options.fileFolder ?? 'Attachment' };
    } else {
      const objectName = options.object ?? 'attachment';
      const field = options.field
        ? model.field(objectName, options.field)
        : model.object(objectName).fields.find((candidate) => candidate.type === 'FILES');
      if (field?.type !== 'FILES') {
        throw new ValidationError(`Twenty object ${objectName} has no FILES field to upload into`);
      }
      query =
        'mutation UploadFilesFieldFile($file: Upload!, $fieldMetadataId: String!) { uploadFilesFieldFile(file: $file, fieldMetadataId: $fieldMetadataId) { id path size url } }';
      variables = { file: null, fieldMetadataId: field.id };
    }
    const form = new FormData();
    form.set('operations', JSON.stringify({ query, variables }));
    form.set('map', JSON.stringify({ '0': ['variables.file'] }));
    form.set('0', new Blob([bytes as Uint8Array<ArrayBuffer>], { type: mime }), name);
    const { body } = await this.#send({ method: 'POST', path: '/graphql', form });
    const errors = (body as { errors?: unknown } | undefined)?.errors;
    if (Array.isArray(errors) && errors.length > 0) {
      throw new TwentyRejectedError('Twenty refused the file upload', 400, []);
    }
    const value = dataValue(body);
    if (typeof value === 'string') return { path: value };
    if (typeof value === 'object' && value !== null) {
      const file = value as { path?: unknown; fullPath?: unknown; id?: unknown; fileId?: unknown };
      const path =
        typeof file.path === 'string' ? file.path : typeof file.fullPath === 'string' ? file.fullPath : '';
      const fileId =
        typeof file.fileId === 'string' ? file.fileId : typeof file.id === 'string' ? file.id : undefined;
      if (path || fileId) return { path, ...(fileId ? { fileId } : {}) };
    }
    throw new ValidationError('Twenty returned no path for the uploaded file');
  }

  /** The bytes of an uploaded file (`GET /files/{path}`), to verify an attachment after loading. */
  async downloadFile(path: string): Promise<Uint8Array> {
    const { body } = await this.#send({
      method: 'GET',
      path: `/files/${path.replace(/^\/+/, '')}`,
      raw: true,
    });
    return body as Uint8Array;
  }

  #send(request: TwentyRequest) {
    return this.#transport.send(request);
  }
}

function norm(path: string, value: string): string {
  return path.toLowerCase().includes('email') || path.toLowerCase().includes('link')
    ? value.trim().toLowerCase()
    : value;
}
