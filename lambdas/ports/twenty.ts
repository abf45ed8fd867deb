import type { FieldMeta, ObjectMeta, SelectOption, TwentyModel } from './twenty-model.ts';

export type {
  FieldMeta,
  ObjectMeta,
  SelectOption,
  TargetCarrier,
  TwentyFlavor,
  TwentyModel,
} from './twenty-model.ts';

/**
 * The Twenty port: what Ferry's stages need from a Twenty workspace. `lambdas/twenty/client.ts`
 * implements it over HTTP (real Twenty or the sandbox); unit tests of the stages give a fake.
 * Nothing here carries field values into logs or errors: failures are ids plus Twenty's message
 * with the values masked.
 */

/**
 * Admission control for Twenty requests, shared by every concurrent loader of one workspace.
 * The DynamoDB token bucket implements it in AWS; the default is no gate at all.
 */
export interface RequestGate {
  /** Resolves when one request may be sent (takes one token). */
  acquire(): Promise<void>;
  /** Twenty answered 429: the bucket should slow down for at least this long. */
  onThrottled(retryAfterMs: number): void;
  /** A request went through; adaptive buckets may creep back up. */
  onSuccess?(): void;
  /**
   * The batch cap this workspace announced to an earlier client (records per batch request), when
   * the gate remembers caps per workspace: a new client starts there instead of rediscovering it.
   */
  knownBatchCap?(): Promise<number | undefined>;
  /** Twenty announced a batch cap: remember it for every later client of this workspace. */
  rememberBatchCap?(cap: number): Promise<void>;
}

/** One Twenty record as JSON; `id` is always a UUID (Ferry supplies deterministic ones). */
export type TwentyRecord = { readonly id: string } & Record<string, unknown>;

/** A record Twenty accepted in a batch create: its position in the caller's array and its id. */
export interface WrittenRecord {
  readonly index: number;
  readonly id: string;
}

/** A record Twenty (or the client's pre-checks) refused; `reason` never contains a field value. */
export interface FailedRecord {
  readonly index: number;
  readonly id: string;
  readonly reason: string;
}

export interface CreateManyResult {
  readonly written: WrittenRecord[];
  readonly failed: FailedRecord[];
}

export interface CreateManyOptions {
  /** Match existing rows on id and unique keys, reviving soft-deleted ones (Ferry always upserts). */
  readonly upsert?: boolean;
  /** Batches in flight at once for this call (default 1). */
  readonly concurrency?: number;
  /**
   * Refuse, before sending, records that collide with an earlier record of the same call on the id or
   * a unique key (default true): Twenty rejects such batches, and an upsert would silently merge two
   * source records into one Twenty row.
   */
  readonly checkCollisions?: boolean;
}

/** A filter leaf: `field[op]:value` in Twenty's REST syntax. Composite sub-fields use a dot. */
export interface FilterCondition {
  readonly field: string;
  readonly op:
    | 'eq'
    | 'neq'
    | 'in'
    | 'containsAny'
    | 'is'
    | 'gt'
    | 'gte'
    | 'lt'
    | 'lte'
    | 'startsWith'
    | 'endsWith'
    | 'like'
    | 'ilike';
  readonly value: string | number | boolean | null | readonly (string | number)[];
}

/** A structured filter, or Twenty's own filter string passed through as-is. */
export type TwentyFilter =
  | string
  | FilterCondition
  | { readonly and: readonly TwentyFilter[] }
  | { readonly or: readonly TwentyFilter[] }
  | { readonly not: TwentyFilter };

export interface OrderBy {
  readonly field: string;
  readonly direction?: 'AscNullsFirst' | 'AscNullsLast' | 'DescNullsFirst' | 'DescNullsLast';
}

export interface FindManyOptions {
  readonly filter?: TwentyFilter;
  readonly orderBy?: string | readonly OrderBy[];
  /** Page size sent as Twenty's `limit` (the server clamps it); the iterator still walks every page. */
  readonly limit?: number;
  /** Keep only these top-level fields (plus `id`) in what the iterator yields, to bound memory. */
  readonly fields?: readonly string[];
  /**
   * Twenty's `depth`: 1 (its default) embeds each record's related records, 0 does not. Pass 0
   * when no relation object is read (an id check), so Twenty neither loads nor sends them.
   */
  readonly depth?: 0 | 1;
}

export interface CreateObjectInput {
  readonly nameSingular: string;
  readonly namePlural: string;
  readonly labelSingular: string;
  readonly labelPlural: string;
  readonly description?: string;
  readonly icon?: string;
}

export interface CreateFieldInput {
  readonly objectMetadataId: string;
  readonly type: string;
  readonly name: string;
  readonly label: string;
  readonly description?: string;
  readonly icon?: string;
  readonly isNullable?: boolean;
  readonly isUnique?: boolean;
  readonly defaultValue?: unknown;
  readonly options?: readonly SelectOption[];
  readonly relationCreationPayload?: {
    readonly targetObjectMetadataId: string;
    readonly targetFieldLabel: string;
    readonly targetFieldIcon?: string;
    readonly type: 'MANY_TO_ONE' | 'ONE_TO_MANY';
  };
}

export interface WorkspaceMember {
  readonly id: string;
  readonly userEmail: string;
  readonly firstName: string;
  readonly lastName: string;
}

export interface UploadedFile {
  /** What the attachment's `fullPath` (v1) or FILES field (v2) must carry. */
  readonly path: string;
  /** Twenty's file id when the server returns one (v2). */
  readonly fileId?: string;
}

/** Request counters for reports and benchmarks. */
export interface TwentyClientStats {
  readonly requests: number;
  readonly retries: number;
  readonly throttled: number;
  readonly networkErrors: number;
  readonly byStatus: Readonly<Record<string, number>>;
}

/**
 * What the stages call. `TwentyClient` implements it over HTTP; stage unit tests hand in a fake.
 * `metadata()` returns the workspace model (`./twenty-model.ts`), read once per run.
 */
export interface TwentyApi {
  metadata(): Promise<TwentyModel>;
  refreshMetadata(): Promise<TwentyModel>;
  createObject(input: CreateObjectInput): Promise<ObjectMeta>;
  createField(input: CreateFieldInput): Promise<FieldMeta>;
  addSelectOptions(
    objectName: string,
    fieldName: string,
    options: readonly SelectOption[],
  ): Promise<FieldMeta>;
  /** Replaces a SELECT/MULTI_SELECT field's whole option list (rollback puts back the list a run extended). */
  setSelectOptions(
    objectName: string,
    fieldName: string,
    options: readonly SelectOption[],
  ): Promise<FieldMeta>;
  /**
   * Removes a custom object or field as Twenty's settings page does: deactivate, then delete (Twenty
   * refuses to delete an active one). Returns false when it is gone already.
   */
  removeMetadata(kind: 'objects' | 'fields', id: string): Promise<boolean>;
  createMany(
    plural: string,
    records: readonly TwentyRecord[],
    options?: CreateManyOptions,
  ): Promise<CreateManyResult>;
  findMany(plural: string, options?: FindManyOptions): AsyncIterable<TwentyRecord>;
  findOne(plural: string, id: string): Promise<TwentyRecord>;
  update(plural: string, id: string, patch: Record<string, unknown>): Promise<TwentyRecord>;
  destroy(plural: string, id: string): Promise<boolean>;
  destroyMany(plural: string, filter: TwentyFilter): Promise<number>;
  /** Hard-deletes by id in requests of ≤ 100 affected records; returns the ids Twenty deleted. */
  destroyByIds(plural: string, ids: readonly string[]): Promise<string[]>;
  restore(plural: string, id: string): Promise<TwentyRecord>;
  members(): Promise<WorkspaceMember[]>;
  uploadFile(bytes: Uint8Array, name: string, mime: string): Promise<UploadedFile>;
  downloadFile(path: string): Promise<Uint8Array>;
  stats(): TwentyClientStats;
  /** Records per batch request the workspace accepts, as far as the client knows (lowered on Twenty's cap message). */
  readonly batchMax?: number;
  /**
   * Starts from the batch cap the workspace announced to an earlier client (remembered per workspace
   * beside its rate bucket), so a new tick does not pay a refused request to rediscover it.
   */
  settleBatchCap?(): Promise<number>;
}
