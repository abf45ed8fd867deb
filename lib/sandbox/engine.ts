import { createHash, randomUUID } from 'node:crypto';
import { extname } from 'node:path';
import type { SQLInputValue } from 'node:sqlite';
import { badRequest, forbidden, notFound, SandboxHttpError } from './http-error.ts';
import { FaultInjector, RequestRateLimiter } from './limits.ts';
import {
  CREATABLE_FIELD_TYPES,
  capitalize,
  ENUM_VALUE_RE,
  FIELD_TYPES,
  type FieldMeta,
  type FieldType,
  isUuid,
  METADATA_NAME_RE,
  makeField,
  makeRelationPair,
  type ObjectMeta,
  RESERVED_METADATA_NAMES,
  type SelectOption,
  stableUuid,
  standardSchema,
  systemFields,
  targetFieldName,
} from './model.ts';
import type { ResolvedSandboxOptions } from './options.ts';
import {
  compileFilter,
  cursorPredicate,
  decodeCursor,
  encodeCursor,
  mentionsDeletedAt,
  parseFilter,
  parseOrderBy,
  sortKeys,
} from './query.ts';
import {
  buildObjectView,
  defaultRecord,
  mergeRecord,
  type ObjectView,
  presentRecord,
  referenceEntries,
  resolveFieldPath,
  uniqueEntries,
  validateFieldValue,
  validateRecordInput,
} from './records.ts';
import { SandboxStore } from './store.ts';

/** A request as the engine sees it: transport-free, so unit tests need no sockets. */
export interface SandboxRequest {
  readonly method: string;
  /** Path plus query string, e.g. `/rest/people?limit=5`. */
  readonly url: string;
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body?: Uint8Array;
  /** The transport already refused the body for its size. */
  readonly bodyTooLarge?: boolean;
  /** `http://host:port`, used to build file URLs. */
  readonly origin?: string;
}

/** What to answer; `reset` asks the transport to drop the connection, `delayMs` to stall first. */
export interface SandboxResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: unknown;
  readonly raw?: Uint8Array;
  readonly reset?: boolean;
  readonly delayMs?: number;
}

/** Every record of every object plus metadata and uploaded-file hashes (GET /__sandbox/dump). */
export interface SandboxDump {
  readonly flavor: 'v1' | 'v2';
  readonly objects: unknown[];
  readonly records: Record<string, Array<Record<string, unknown>>>;
  readonly files: Array<{
    path: string;
    id: string;
    name: string;
    mimeType: string;
    size: number;
    sha256: string;
  }>;
}

/** Request counters (GET /__sandbox/stats). */
export interface SandboxStats {
  readonly requests: Record<string, Record<string, number>>;
  readonly totalRequests: number;
  readonly rateLimited: number;
  readonly faults: Record<string, number>;
  readonly records: Record<string, { active: number; deleted: number }>;
}

const DEFAULT_LIMIT = 60;
const MAX_LIMIT = 200;
/** Twenty's `MUTATION_MAXIMUM_AFFECTED_RECORDS` default: rows one delete-many/update-many may affect. */
export const MUTATION_MAXIMUM_AFFECTED_RECORDS = 100;

function json(status: number, body: unknown, headers: Record<string, string> = {}): SandboxResponse {
  return { status, headers: { 'content-type': 'application/json; charset=utf-8', ...headers }, body };
}

/**
 * The sandbox itself: a faithful local double of Twenty's REST + metadata API over SQLite. The
 * HTTP server is a thin shell around {@link SandboxEngine.handle}; everything else lives here.
 */
export class SandboxEngine {
  readonly options: ResolvedSandboxOptions;
  readonly store: SandboxStore;
  readonly #now: () => number;
  #limiter: RequestRateLimiter;
  #faults: FaultInjector;
  #objects = new Map<string, ObjectMeta>();
  #fieldsByObject = new Map<string, FieldMeta[]>();
  #fieldsById = new Map<string, FieldMeta>();
  #views = new Map<string, ObjectView>();
  #byPlural = new Map<string, ObjectMeta>();
  #bySingular = new Map<string, ObjectMeta>();
  #requests = new Map<string, Map<number, number>>();
  #rateLimited = 0;
  #faultCounts = new Map<string, number>();
  #totalRequests = 0;

  constructor(options: ResolvedSandboxOptions, now: () => number = Date.now) {
    this.options = options;
    this.#now = now;
    this.store = new SandboxStore(options.dataDir);
    this.#limiter = new RequestRateLimiter([options.rateShort, options.rateLong], now());
    this.#faults = new FaultInjector(options.faults, options.seed);
    this.#initialise();
  }

  close(): void {
    this.store.close();
  }

  #iso(): string {
    return new Date(this.#now()).toISOString();
  }

  #initialise(): void {
    const flavor = this.store.getSetting('flavor');
    if (flavor !== undefined && flavor !== this.options.flavor) {
      throw new Error(
        `sandbox data directory holds a ${flavor} workspace; start with the same flavor or another directory`,
      );
    }
    if (flavor === undefined) {
      this.store.transaction(() => {
        this.store.setSetting('flavor', this.options.flavor);
        const schema = standardSchema(this.options.flavor, this.#iso());
        for (const object of schema.objects) this.store.putObject(object);
        for (const field of schema.fields) this.store.putField(field);
      });
    }
    this.#reloadMetadata();
    this.#seedMembers();
  }

  #seedMembers(): void {
    const view = this.#viewOf('workspaceMember');
    this.store.transaction(() => {
      for (const member of this.options.members) {
        const email = member.email.trim().toLowerCase();
        const id = stableUuid(`workspaceMember:${email}`);
        if (this.store.exists('workspaceMember', id)) continue;
        const now = this.#iso();
        const data = {
          ...defaultRecord(view),
          id,
          name: { firstName: member.firstName, lastName: member.lastName },
          userEmail: email,
          userId: stableUuid(`user:${email}`),
          createdAt: now,
          updatedAt: now,
          deletedAt: null,
          position: this.store.seqPeek() + 1,
          createdBy: this.#actor(),
        };
        this.store.insertRecord('workspaceMember', data);
      }
    });
  }

  #reloadMetadata(): void {
    this.#objects = new Map(this.store.loadObjects().map((o) => [o.id, o]));
    this.#fieldsByObject = new Map();
    this.#fieldsById = new Map();
    for (const field of this.store.loadFields()) {
      this.#fieldsById.set(field.id, field);
      const list = this.#fieldsByObject.get(field.objectMetadataId) ?? [];
      list.push(field);
      this.#fieldsByObject.set(field.objectMetadataId, list);
    }
    for (const list of this.#fieldsByObject.values())
      list.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || 0);
    this.#byPlural = new Map();
    this.#bySingular = new Map();
    this.#views = new Map();
    for (const object of this.#objects.values()) {
      this.#byPlural.set(object.namePlural, object);
      this.#bySingular.set(object.nameSingular, object);
      this.#views.set(
        object.nameSingular,
        buildObjectView(object, this.#fieldsByObject.get(object.id) ?? []),
      );
    }
  }

  #viewOf(singular: string): ObjectView {
    const view = this.#views.get(singular);
    if (!view) throw badRequest(`Object ${singular} not found`);
    return view;
  }

  #actor(): Record<string, unknown> {
    return { source: 'API', workspaceMemberId: null, name: 'API key', context: {} };
  }

  // -------------------------------------------------------------------------------------------
  // Entry point
  // -------------------------------------------------------------------------------------------

  /** Answers one request; never throws (unknown failures become Twenty's 500 shape). */
  async handle(request: SandboxRequest): Promise<SandboxResponse> {
    const url = new URL(request.url, 'http://sandbox.local');
    const method = request.method.toUpperCase();
    let route = 'unmatched';
    let response: SandboxResponse;
    try {
      const result = await this.#dispatch(method, url, request, (r) => {
        route = r;
      });
      response = result;
    } catch (error) {
      response = this.#errorResponse(error);
    }
    this.#count(`${method} ${route}`, response.status);
    return response;
  }

  #errorResponse(error: unknown): SandboxResponse {
    if (error instanceof SandboxHttpError) return json(error.status, error.body, error.headers);
    return json(500, {
      statusCode: 500,
      error: 'InternalServerErrorException',
      messages: ['Internal server error'],
    });
  }

  #count(route: string, status: number): void {
    this.#totalRequests += 1;
    const byStatus = this.#requests.get(route) ?? new Map<number, number>();
    byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
    this.#requests.set(route, byStatus);
  }

  #authorised(request: SandboxRequest): boolean {
    const header = request.headers.authorization ?? request.headers.Authorization;
    return header === `Bearer ${this.options.apiKey}`;
  }

  #rateLimitedResponse(
    retryAfterMs: number,
    limit: number,
    windowMs: number,
    remaining: number,
    resetAtMs: number,
  ): SandboxResponse {
    this.#rateLimited += 1;
    if (this.options.flavor === 'v1') {
      return json(429, { statusCode: 429, messages: [`Limit reached (${limit} tokens per ${windowMs} ms)`] });
    }
    const retryAfterSeconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
    return json(
      429,
      {
        statusCode: 429,
        error: 'RATE_LIMITED',
        messages: [`Limit reached (${limit} tokens per ${windowMs} ms)`],
        retryAfterSeconds,
      },
      {
        'retry-after': String(retryAfterSeconds),
        'x-ratelimit-limit': String(limit),
        'x-ratelimit-remaining': String(remaining),
        'x-ratelimit-reset': String(Math.ceil(resetAtMs / 1000)),
      },
    );
  }

  async #dispatch(
    method: string,
    url: URL,
    request: SandboxRequest,
    setRoute: (route: string) => void,
  ): Promise<SandboxResponse> {
    const segments = url.pathname
      .split('/')
      .filter((s) => s !== '')
      .map(decodeURIComponent);
    const [root] = segments;

    if (root === '__sandbox') {
      setRoute(`/__sandbox/${segments[1] ?? ''}`);
      if (!this.#authorised(request)) throw forbidden();
      if (method === 'GET' && segments[1] === 'dump') return json(200, this.dump());
      if (method === 'GET' && segments[1] === 'stats') return json(200, this.stats());
      if (method === 'POST' && segments[1] === 'reset') {
        this.reset();
        return json(200, { ok: true });
      }
      throw notFound('Sandbox route not found');
    }

    const known = root === 'rest' || root === 'graphql' || root === 'metadata' || root === 'files';
    if (!known) {
      setRoute('unmatched');
      throw notFound(`Cannot ${method} ${url.pathname}`);
    }
    setRoute(this.#routeTemplate(segments));
    if (!this.#authorised(request)) throw forbidden();

    const decision = this.#limiter.take(this.#now());
    if (!decision.allowed) {
      return this.#rateLimitedResponse(
        decision.retryAfterMs,
        decision.window.limit,
        decision.window.windowMs,
        decision.remaining,
        decision.resetAtMs,
      );
    }

    let delayMs: number | undefined;
    const fault = this.#faults.next();
    if (fault) {
      this.#faultCounts.set(fault.kind, (this.#faultCounts.get(fault.kind) ?? 0) + 1);
      if (fault.kind === 'reset') return { status: 0, headers: {}, body: null, reset: true };
      if (fault.kind === '429') {
        const window = this.options.rateShort ?? this.options.rateLong ?? { limit: 100, windowMs: 60_000 };
        return this.#rateLimitedResponse(1000, window.limit, window.windowMs, 0, this.#now() + 1000);
      }
      if (fault.kind === '500') {
        return json(500, {
          statusCode: 500,
          error: 'InternalServerErrorException',
          messages: ['Internal server error'],
        });
      }
      if (fault.kind === '503') {
        return json(503, {
          statusCode: 503,
          error: 'ServiceUnavailableException',
          messages: ['Service Unavailable'],
        });
      }
      delayMs = fault.delayMs;
    }

    const response = await this.#route(method, url, segments, request);
    return delayMs === undefined ? response : { ...response, delayMs };
  }

  #routeTemplate(segments: readonly string[]): string {
    const [root, second, third, fourth] = segments;
    if (root !== 'rest') return `/${root}${root === 'files' ? '/:path' : ''}`;
    if (second === 'metadata') return `/rest/metadata/${third ?? ''}${fourth ? '/:id' : ''}`;
    if (second === 'batch') return '/rest/batch/:plural';
    if (second === 'restore') return '/rest/restore/:plural/:id';
    if (fourth === 'restore') return '/rest/:plural/:id/restore';
    if (third !== undefined) return '/rest/:plural/:id';
    return '/rest/:plural';
  }

  #parseJsonBody(request: SandboxRequest): unknown {
    if (request.bodyTooLarge) {
      throw new SandboxHttpError(413, 'PayloadTooLargeError', 'request entity too large');
    }
    const bytes = request.body;
    if (!bytes || bytes.length === 0) return undefined;
    try {
      return JSON.parse(new TextDecoder().decode(bytes));
    } catch {
      throw badRequest('Malformed JSON body');
    }
  }

  async #route(
    method: string,
    url: URL,
    segments: readonly string[],
    request: SandboxRequest,
  ): Promise<SandboxResponse> {
    const [root, second, third, fourth, fifth] = segments;
    if (root === 'graphql' || root === 'metadata') {
      if (method !== 'POST') throw notFound(`Cannot ${method} /${root}`);
      return this.#graphql(request);
    }
    if (root === 'files') {
      if (method !== 'GET') throw notFound(`Cannot ${method} /files`);
      const path = segments.slice(1).join('/');
      const file = this.store.getFile(path);
      if (!file) throw notFound('File not found');
      return {
        status: 200,
        headers: { 'content-type': file.file.mimeType, 'content-length': String(file.file.size) },
        body: null,
        raw: file.bytes,
      };
    }
    // root === 'rest'
    if (second === undefined) throw notFound('Route not found');
    if (second === 'metadata') return this.#metadata(method, url, third, fourth, request);
    if (second === 'batch') {
      if (method !== 'POST' || third === undefined || fourth !== undefined)
        throw notFound(`Cannot ${method} ${url.pathname}`);
      return this.#create(this.#objectByPlural(third), this.#parseJsonBody(request), url, true);
    }
    if (second === 'restore') {
      if (method !== 'PATCH' || third === undefined || fourth === undefined)
        throw notFound(`Cannot ${method} ${url.pathname}`);
      return this.#restore(this.#objectByPlural(third), fourth, url);
    }
    const object = this.#objectByPlural(second);
    if (third === undefined) {
      if (method === 'GET') return this.#findMany(object, url);
      if (method === 'POST') return this.#create(object, this.#parseJsonBody(request), url, false);
      if (method === 'DELETE') return this.#deleteMany(object, url);
      throw notFound(`Cannot ${method} ${url.pathname}`);
    }
    if (fourth === 'restore' && fifth === undefined && method === 'PATCH')
      return this.#restore(object, third, url);
    if (fourth !== undefined) throw notFound(`Cannot ${method} ${url.pathname}`);
    if (method === 'GET') return this.#findOne(object, third, url);
    if (method === 'PATCH' || method === 'PUT')
      return this.#update(object, third, this.#parseJsonBody(request), url);
    if (method === 'DELETE') return this.#deleteOne(object, third, url);
    throw notFound(`Cannot ${method} ${url.pathname}`);
  }

  #objectByPlural(plural: string): ObjectMeta {
    const object = this.#byPlural.get(plural);
    if (!object?.isActive) {
      throw badRequest(
        `object '${plural}' not found. Use the plural name of an existing object, e.g. 'people'.`,
      );
    }
    return object;
  }

  #writable(object: ObjectMeta): void {
    if (object.isReadOnly) {
      throw new SandboxHttpError(
        403,
        'Forbidden',
        `${object.namePlural} are read-only through the API: invite members instead`,
      );
    }
  }

  // -------------------------------------------------------------------------------------------
  // Records
  // -------------------------------------------------------------------------------------------

  #depth(url: URL): 0 | 1 {
    const raw = url.searchParams.get('depth');
    if (raw === null) return 1;
    if (raw === '0') return 0;
    if (raw === '1') return 1;
    throw badRequest('depth must be 0 or 1');
  }

  #flag(url: URL, name: string): boolean {
    const raw = url.searchParams.get(name);
    if (raw === null || raw === 'false') return false;
    if (raw === 'true' || raw === '') return true;
    throw badRequest(`${name} must be true or false`);
  }

  #present(view: ObjectView, data: Record<string, unknown>, depth: 0 | 1): Record<string, unknown> {
    const out = presentRecord(view, data);
    if (depth === 1) {
      for (const [column, field] of view.joinColumns) {
        const targetId = data[column];
        const targetObject = this.#objects.get(field.relation!.targetObjectMetadataId);
        if (!targetObject) continue;
        if (typeof targetId !== 'string') {
          out[field.name] = null;
          continue;
        }
        const target = this.store.getRecord(targetObject.nameSingular, targetId);
        out[field.name] = target ? presentRecord(this.#viewOf(targetObject.nameSingular), target.data) : null;
      }
    }
    return out;
  }

  #objectNameById = (id: string): string => this.#objects.get(id)?.nameSingular ?? 'unknown';

  #checkReferences(
    view: ObjectView,
    record: Record<string, unknown>,
  ): Array<{ field: string; targetObject: string; targetId: string }> {
    const refs = referenceEntries(view, record, this.#objectNameById);
    for (const ref of refs) {
      if (!this.store.exists(ref.targetObject, ref.targetId)) {
        throw badRequest(
          `Invalid ${view.meta.nameSingular}.${ref.field}: no ${ref.targetObject} has this id`,
        );
      }
    }
    return refs;
  }

  #write(view: ObjectView, record: Record<string, unknown>, isNew: boolean): void {
    const object = view.meta.nameSingular;
    const refs = this.#checkReferences(view, record);
    const uniques = uniqueEntries(view, record);
    for (const [key, value] of uniques) {
      const owner = this.store.uniqueOwner(object, key, value);
      if (owner !== undefined && owner !== record.id) {
        throw badRequest(
          `A duplicate entry was detected. Please ensure the values are unique (${object}.${key}).`,
        );
      }
    }
    if (isNew) this.store.insertRecord(object, record);
    else this.store.updateRecord(object, record);
    this.store.setUniques(object, String(record.id), uniques);
    this.store.setRefs(object, String(record.id), refs);
  }

  #create(object: ObjectMeta, body: unknown, url: URL, batch: boolean): SandboxResponse {
    this.#writable(object);
    const view = this.#viewOf(object.nameSingular);
    const upsert = this.#flag(url, 'upsert');
    const depth = this.#depth(url);
    let rows: unknown[];
    if (batch) {
      if (!Array.isArray(body)) throw badRequest('Batch body must be a JSON array of records');
      rows = body;
    } else {
      if (body === undefined || Array.isArray(body)) throw badRequest('Body must be a JSON object');
      rows = [body];
    }
    if (rows.length > this.options.batchMax) {
      throw badRequest(`Maximum number of records to upsert is ${this.options.batchMax}.`);
    }
    const inputs = rows.map((row) => validateRecordInput(view, row, 'create'));

    // Rows of one batch that collide with each other are not de-duplicated: Twenty answers 400.
    const seenIds = new Set<string>();
    const seenKeys = new Set<string>();
    for (const input of inputs) {
      if (typeof input.id === 'string') {
        if (seenIds.has(input.id)) throw badRequest(`Duplicate id in batch for ${object.nameSingular}`);
        seenIds.add(input.id);
      }
      for (const [key, value] of uniqueEntries(view, mergeRecord(view, defaultRecord(view), input))) {
        const token = `${key}\u0000${value}`;
        if (seenKeys.has(token)) {
          throw badRequest(
            `A duplicate entry was detected in the batch. Please ensure the values are unique (${object.nameSingular}.${key}).`,
          );
        }
        seenKeys.add(token);
      }
    }

    const results = this.store.transaction(() =>
      inputs.map((input) => {
        const now = this.#iso();
        const candidate = mergeRecord(view, defaultRecord(view), input);
        const matches = new Set<string>();
        if (typeof input.id === 'string' && this.store.exists(object.nameSingular, input.id))
          matches.add(input.id);
        if (upsert) {
          for (const [key, value] of uniqueEntries(view, candidate)) {
            const owner = this.store.uniqueOwner(object.nameSingular, key, value);
            if (owner !== undefined) matches.add(owner);
          }
        }
        if (!upsert && matches.size > 0) {
          throw badRequest(
            `A duplicate entry was detected. Please ensure the values are unique (${object.nameSingular}.id).`,
          );
        }
        if (matches.size > 1) {
          throw badRequest(
            `Multiple records of ${object.nameSingular} match this row on id and unique fields; cannot upsert`,
          );
        }
        const [matchId] = [...matches];
        if (matchId !== undefined) {
          const existing = this.store.getRecord(object.nameSingular, matchId)!;
          const { id: _ignored, ...patch } = input;
          const updated = {
            ...mergeRecord(view, existing.data, patch),
            id: matchId,
            deletedAt: null,
            updatedAt: now,
          };
          this.#write(view, updated, false);
          return updated;
        }
        const created = {
          ...candidate,
          id: typeof input.id === 'string' ? input.id : randomUUID(),
          createdAt: now,
          updatedAt: now,
          deletedAt: null,
          position: typeof input.position === 'number' ? input.position : this.store.seqPeek() + 1,
          createdBy: this.#actor(),
          ...(this.options.flavor === 'v2' ? { updatedBy: this.#actor() } : {}),
        };
        this.#write(view, created, true);
        return created;
      }),
    );
    const presented = results.map((r) => this.#present(view, r, depth));
    if (batch) return json(201, { data: { [`create${capitalize(object.namePlural)}`]: presented } });
    return json(201, { data: { [`create${capitalize(object.nameSingular)}`]: presented[0] } });
  }

  #requireUuid(id: string, object: ObjectMeta): string {
    if (!isUuid(id)) throw badRequest(`Invalid UUID for ${object.nameSingular} id`);
    return id.toLowerCase();
  }

  #findOne(object: ObjectMeta, rawId: string, url: URL): SandboxResponse {
    const id = this.#requireUuid(rawId, object);
    const view = this.#viewOf(object.nameSingular);
    const record = this.store.getRecord(object.nameSingular, id);
    if (!record || record.deletedAt !== null) throw notFound(`Record not found in ${object.namePlural}`);
    return json(200, { data: { [object.nameSingular]: this.#present(view, record.data, this.#depth(url)) } });
  }

  #update(object: ObjectMeta, rawId: string, body: unknown, url: URL): SandboxResponse {
    this.#writable(object);
    const id = this.#requireUuid(rawId, object);
    const view = this.#viewOf(object.nameSingular);
    if (body === undefined || Array.isArray(body)) throw badRequest('Body must be a JSON object');
    if (typeof body === 'object' && body !== null && 'id' in body && body.id !== undefined) {
      if (!isUuid(body.id) || body.id.toLowerCase() !== id)
        throw badRequest(`Invalid ${object.nameSingular}.id: cannot change a record's id`);
    }
    const patch = validateRecordInput(view, body, 'update');
    const updated = this.store.transaction(() => {
      const existing = this.store.getRecord(object.nameSingular, id);
      if (!existing || existing.deletedAt !== null)
        throw notFound(`Record not found in ${object.namePlural}`);
      const record = { ...mergeRecord(view, existing.data, patch), id, updatedAt: this.#iso() };
      this.#write(view, record, false);
      return record;
    });
    return json(200, {
      data: { [`update${capitalize(object.nameSingular)}`]: this.#present(view, updated, this.#depth(url)) },
    });
  }

  /** Hard delete honouring each relation's ON DELETE (SET_NULL or CASCADE), as Postgres would. */
  #destroy(objectName: string, id: string, depthGuard = 0): void {
    if (depthGuard > 50) throw badRequest('Cascade too deep');
    for (const ref of this.store.refsTo(objectName, id)) {
      const sourceView = this.#views.get(ref.sourceObject);
      const source = this.store.getRecord(ref.sourceObject, ref.sourceId);
      if (!sourceView || !source) continue;
      const field = sourceView.joinColumns.get(ref.field);
      if (field?.relation?.onDelete === 'CASCADE') {
        this.#destroy(ref.sourceObject, ref.sourceId, depthGuard + 1);
      } else {
        const record = { ...source.data, [ref.field]: null };
        this.store.updateRecord(ref.sourceObject, record);
        this.store.setRefs(
          ref.sourceObject,
          ref.sourceId,
          referenceEntries(sourceView, record, this.#objectNameById),
        );
      }
    }
    this.store.destroyRecord(objectName, id);
  }

  #softDelete(objectName: string, id: string): void {
    const existing = this.store.getRecord(objectName, id);
    if (!existing || existing.deletedAt !== null) return;
    const now = this.#iso();
    this.store.updateRecord(objectName, { ...existing.data, deletedAt: now, updatedAt: now });
  }

  #deleteOne(object: ObjectMeta, rawId: string, url: URL): SandboxResponse {
    this.#writable(object);
    const id = this.#requireUuid(rawId, object);
    const soft = this.#flag(url, 'soft_delete');
    this.store.transaction(() => {
      const existing = this.store.getRecord(object.nameSingular, id);
      if (!existing || (soft && existing.deletedAt !== null))
        throw notFound(`Record not found in ${object.namePlural}`);
      if (soft) this.#softDelete(object.nameSingular, id);
      else this.#destroy(object.nameSingular, id);
    });
    return json(200, { data: { [`delete${capitalize(object.nameSingular)}`]: { id } } });
  }

  #deleteMany(object: ObjectMeta, url: URL): SandboxResponse {
    this.#writable(object);
    const filter = url.searchParams.get('filter');
    if (filter === null || filter.trim() === '')
      throw badRequest('Filter is required to delete many records');
    const soft = this.#flag(url, 'soft_delete');
    const view = this.#viewOf(object.nameSingular);
    const node = parseFilter(filter);
    const where = compileFilter(node, (path) => resolveFieldPath(view, path));
    const deleted = mentionsDeletedAt(node) ? '' : ' AND deleted_at IS NULL';
    const ids = this.store
      .query(
        `SELECT id FROM records WHERE object = ?${deleted} AND ${where.sql} LIMIT ${MUTATION_MAXIMUM_AFFECTED_RECORDS + 1}`,
        [object.nameSingular, ...where.params],
      )
      .map((r) => String(r.id));
    // Twenty refuses, whole, a mutation that would affect more rows than its cap (pg_graphql `atMost`).
    if (ids.length > MUTATION_MAXIMUM_AFFECTED_RECORDS) {
      throw badRequest(
        `Cannot delete ${object.namePlural} because it impacts too many records (more than ${MUTATION_MAXIMUM_AFFECTED_RECORDS}).`,
      );
    }
    this.store.transaction(() => {
      for (const id of ids) {
        if (soft) this.#softDelete(object.nameSingular, id);
        else if (this.store.exists(object.nameSingular, id)) this.#destroy(object.nameSingular, id);
      }
    });
    return json(200, { data: { [`delete${capitalize(object.namePlural)}`]: ids.map((id) => ({ id })) } });
  }

  #restore(object: ObjectMeta, rawId: string, url: URL): SandboxResponse {
    this.#writable(object);
    const id = this.#requireUuid(rawId, object);
    const view = this.#viewOf(object.nameSingular);
    const restored = this.store.transaction(() => {
      const existing = this.store.getRecord(object.nameSingular, id);
      if (!existing) throw notFound(`Record not found in ${object.namePlural}`);
      const record = { ...existing.data, deletedAt: null, updatedAt: this.#iso() };
      this.store.updateRecord(object.nameSingular, record);
      return record;
    });
    return json(200, {
      data: {
        [`restore${capitalize(object.nameSingular)}`]: this.#present(view, restored, this.#depth(url)),
      },
    });
  }

  #findMany(object: ObjectMeta, url: URL): SandboxResponse {
    const view = this.#viewOf(object.nameSingular);
    const resolve = (path: readonly string[]) => resolveFieldPath(view, path);
    const params = url.searchParams;
    const depth = this.#depth(url);
    const rawLimit = params.get('limit');
    let limit = DEFAULT_LIMIT;
    if (rawLimit !== null) {
      const n = Number(rawLimit);
      if (!Number.isInteger(n) || n < 0) throw badRequest('limit must be a non-negative integer');
      limit = Math.min(n, MAX_LIMIT);
    }
    const after = params.get('starting_after');
    const before = params.get('ending_before');
    if (after !== null && before !== null)
      throw badRequest('Use either starting_after or ending_before, not both');

    const filterText = params.get('filter');
    const where: string[] = ['object = ?'];
    const whereParams: SQLInputValue[] = [object.nameSingular];
    let includeDeleted = false;
    if (filterText !== null && filterText.trim() !== '') {
      const node = parseFilter(filterText);
      includeDeleted = mentionsDeletedAt(node);
      const compiled = compileFilter(node, resolve);
      where.push(compiled.sql);
      whereParams.push(...compiled.params);
    }
    if (!includeDeleted) where.push('deleted_at IS NULL');

    const orderText = params.get('order_by');
    const keys = sortKeys(orderText ? parseOrderBy(orderText) : [], resolve);
    const keyColumns = keys.map((k, i) => `${k.sql} AS k${i}`).join(', ');

    const countRow = this.store.query(
      `SELECT count(*) AS n FROM records WHERE ${where.join(' AND ')}`,
      whereParams,
    )[0];
    const totalCount = Number(countRow?.n ?? 0);

    const pageWhere = [...where];
    const pageParams = [...whereParams];
    const cursor = after ?? before;
    if (cursor !== null) {
      const predicate = cursorPredicate(keys, decodeCursor(cursor, keys.length), before !== null);
      pageWhere.push(predicate.sql);
      pageParams.push(...predicate.params);
    }
    const reverse = before !== null;
    const orderSql = keys.map((k) => `${k.sql} ${k.descending !== reverse ? 'DESC' : 'ASC'}`).join(', ');
    const rows = this.store.query(
      `SELECT id, json(data) AS data, ${keyColumns} FROM records WHERE ${pageWhere.join(' AND ')} ORDER BY ${orderSql} LIMIT ?`,
      [...pageParams, limit + 1],
    );
    const hasMore = rows.length > limit;
    const page = rows.slice(0, limit);
    if (reverse) page.reverse();
    const cursorOf = (row: Record<string, unknown>): string =>
      encodeCursor(keys.map((_, i) => row[`k${i}`] ?? null));
    const records = page.map((row) => this.#present(view, JSON.parse(String(row.data)), depth));
    // Twenty's buildCursorPage: going backwards (ending_before) the extra row means there is an
    // earlier page (hasPreviousPage) and hasNextPage just says a cursor was given (records after it).
    return json(200, {
      data: { [object.namePlural]: records },
      totalCount,
      pageInfo: {
        hasNextPage: reverse ? before !== '' : hasMore,
        hasPreviousPage: reverse ? hasMore : after !== null && after !== '',
        startCursor: page.length > 0 ? cursorOf(page[0]!) : null,
        endCursor: page.length > 0 ? cursorOf(page[page.length - 1]!) : null,
      },
    });
  }

  // -------------------------------------------------------------------------------------------
  // Metadata
  // -------------------------------------------------------------------------------------------

  #presentField(field: FieldMeta): Record<string, unknown> {
    const { relation, ...rest } = field;
    const base: Record<string, unknown> = {
      ...rest,
      isLabelSyncedWithName: false,
      settings: null,
      relation: null,
    };
    if (relation) {
      const source = this.#objects.get(field.objectMetadataId);
      const target = this.#objects.get(relation.targetObjectMetadataId);
      const targetField = this.#fieldsById.get(relation.targetFieldMetadataId);
      base.settings = {
        relationType: relation.type,
        ...(relation.joinColumnName ? { joinColumnName: relation.joinColumnName } : {}),
        ...(relation.onDelete ? { onDelete: relation.onDelete } : {}),
      };
      base.relation = {
        type: relation.type,
        sourceObjectMetadata: source
          ? { id: source.id, nameSingular: source.nameSingular, namePlural: source.namePlural }
          : null,
        targetObjectMetadata: target
          ? { id: target.id, nameSingular: target.nameSingular, namePlural: target.namePlural }
          : null,
        sourceFieldMetadata: { id: field.id, name: field.name },
        targetFieldMetadata: targetField ? { id: targetField.id, name: targetField.name } : null,
      };
    }
    return base;
  }

  #presentObject(object: ObjectMeta): Record<string, unknown> {
    const { isReadOnly: _readOnly, ...rest } = object;
    const fields = (this.#fieldsByObject.get(object.id) ?? []).map((f) => this.#presentField(f));
    const nameField = (this.#fieldsByObject.get(object.id) ?? []).find(
      (f) => f.name === 'name' || f.name === 'title',
    );
    return {
      ...rest,
      isRemote: false,
      isLabelSyncedWithName: false,
      labelIdentifierFieldMetadataId: nameField?.id ?? null,
      imageIdentifierFieldMetadataId: null,
      fields,
    };
  }

  #metadataList(
    kind: 'objects' | 'fields',
    items: Array<Record<string, unknown>>,
    url: URL,
  ): SandboxResponse {
    const after = url.searchParams.get('starting_after');
    const rawLimit = url.searchParams.get('limit');
    const limit = rawLimit === null ? 1000 : Math.min(Math.max(0, Number(rawLimit) || 0), 1000);
    let start = 0;
    if (after !== null) {
      const afterId = Buffer.from(after, 'base64url').toString('utf8');
      const index = items.findIndex((item) => item.id === afterId);
      if (index < 0) throw badRequest('Invalid cursor');
      start = index + 1;
    }
    const page = items.slice(start, start + limit);
    const cursor = (item: Record<string, unknown> | undefined) =>
      item ? Buffer.from(String(item.id)).toString('base64url') : null;
    const pageInfo = {
      hasNextPage: start + limit < items.length,
      startCursor: cursor(page[0]),
      endCursor: cursor(page[page.length - 1]),
    };
    if (this.options.flavor === 'v2') return json(200, { data: page, pageInfo, totalCount: items.length });
    return json(200, { data: { [kind]: page }, pageInfo, totalCount: items.length });
  }

  #metadata(
    method: string,
    url: URL,
    kind: string | undefined,
    id: string | undefined,
    request: SandboxRequest,
  ): SandboxResponse {
    if (kind !== 'objects' && kind !== 'fields') throw notFound(`Cannot ${method} ${url.pathname}`);
    if (kind === 'objects') {
      return this.#metadataCrud(method, url, id, request, {
        plural: 'objects',
        singular: 'object',
        type: 'Object',
        all: () => [...this.#objects.values()],
        byId: (key) => this.#objects.get(key),
        create: (body) => this.#createObject(body),
        update: (object, body) => this.#updateObject(object, body),
        remove: (object) => this.#deleteObject(object),
        present: (object) => this.#presentObject(object),
      });
    }
    return this.#metadataCrud(method, url, id, request, {
      plural: 'fields',
      singular: 'field',
      type: 'Field',
      all: () => [...this.#objects.values()].flatMap((o) => this.#fieldsByObject.get(o.id) ?? []),
      byId: (key) => this.#fieldsById.get(key),
      create: (body) => this.#createField(body),
      update: (field, body) => this.#updateField(field, body),
      remove: (field) => this.#deleteField(field),
      present: (field) => this.#presentField(field),
    });
  }

  /**
   * List/create/get/update/delete for one kind of metadata, with Twenty's envelopes
   * (`createOne<Type>`, `updateOne<Type>`, `deleteOne<Type>`, `<singular>`).
   */
  #metadataCrud<T extends { readonly id: string }>(
    method: string,
    url: URL,
    id: string | undefined,
    request: SandboxRequest,
    kind: {
      readonly plural: 'objects' | 'fields';
      readonly singular: string;
      readonly type: string;
      all(): T[];
      byId(id: string): T | undefined;
      create(body: unknown): T;
      update(item: T, body: unknown): T;
      remove(item: T): void;
      present(item: T): Record<string, unknown>;
    },
  ): SandboxResponse {
    if (id === undefined && method === 'GET') {
      return this.#metadataList(
        kind.plural,
        kind.all().map((item) => kind.present(item)),
        url,
      );
    }
    if (id === undefined && method === 'POST') {
      const created = kind.create(this.#parseJsonBody(request));
      return json(201, { data: { [`createOne${kind.type}`]: kind.present(created) } });
    }
    if (id === undefined) throw notFound(`Cannot ${method} ${url.pathname}`);
    const item = kind.byId(id);
    if (!item) throw notFound(`${kind.type} metadata not found`);
    if (method === 'GET') return json(200, { data: { [kind.singular]: kind.present(item) } });
    if (method === 'PATCH' || method === 'PUT') {
      const updated = kind.update(item, this.#parseJsonBody(request));
      return json(200, { data: { [`updateOne${kind.type}`]: kind.present(updated) } });
    }
    if (method === 'DELETE') {
      kind.remove(item);
      return json(200, { data: { [`deleteOne${kind.type}`]: { id: item.id } } });
    }
    throw notFound(`Cannot ${method} ${url.pathname}`);
  }

  #checkName(name: unknown, what: string): string {
    if (typeof name !== 'string' || name === '') throw badRequest(`${what} is required`);
    if (name.length > 63) throw badRequest(`${what} exceeds 63 characters`);
    if (!METADATA_NAME_RE.test(name))
      throw badRequest(`${what} must be camelCase (letters and digits, starting lowercase)`);
    if (RESERVED_METADATA_NAMES.has(name)) throw badRequest(`${what} is a reserved name`);
    return name;
  }

  #checkLabel(label: unknown, what: string): string {
    if (typeof label !== 'string' || label.trim() === '') throw badRequest(`${what} is required`);
    if (label.length > 63) throw badRequest(`${what} exceeds 63 characters`);
    return label;
  }

  #checkKeys(body: Record<string, unknown>, allowed: readonly string[], what: string): void {
    for (const key of Object.keys(body)) {
      if (!allowed.includes(key)) throw badRequest(`${what} has no property "${key}"`);
    }
  }

  #asObject(body: unknown, what: string): Record<string, unknown> {
    if (typeof body !== 'object' || body === null || Array.isArray(body))
      throw badRequest(`${what} must be a JSON object`);
    return body as Record<string, unknown>;
  }

  #optionalString(value: unknown, what: string): string | null {
    if (value === undefined || value === null) return null;
    if (typeof value !== 'string') throw badRequest(`${what} must be a string`);
    return value;
  }

  #createObject(raw: unknown): ObjectMeta {
    const body = this.#asObject(raw, 'Object input');
    this.#checkKeys(
      body,
      [
        'nameSingular',
        'namePlural',
        'labelSingular',
        'labelPlural',
        'description',
        'icon',
        'isLabelSyncedWithName',
        'shortcut',
      ],
      'CreateObjectInput',
    );
    const nameSingular = this.#checkName(body.nameSingular, 'nameSingular');
    const namePlural = this.#checkName(body.namePlural, 'namePlural');
    if (nameSingular === namePlural) throw badRequest('nameSingular and namePlural must differ');
    for (const name of [nameSingular, namePlural]) {
      if (this.#bySingular.has(name) || this.#byPlural.has(name)) {
        throw badRequest(`An object with the name ${name} already exists`);
      }
    }
    const now = this.#iso();
    const object: ObjectMeta = {
      id: randomUUID(),
      nameSingular,
      namePlural,
      labelSingular: this.#checkLabel(body.labelSingular, 'labelSingular'),
      labelPlural: this.#checkLabel(body.labelPlural, 'labelPlural'),
      description: this.#optionalString(body.description, 'description'),
      icon: this.#optionalString(body.icon, 'icon'),
      isCustom: true,
      isActive: true,
      isSystem: false,
      isReadOnly: false,
      createdAt: now,
      updatedAt: now,
    };
    const fields: FieldMeta[] = [
      ...systemFields(object, this.options.flavor, now, true),
      makeField(object, { id: randomUUID(), name: 'name', type: 'TEXT', label: 'Name' }, now, false),
    ];
    // Activities link to every object: a target field on taskTarget/noteTarget/attachment each.
    const links: Array<[string, string]> = [
      ['taskTarget', 'taskTargets'],
      ['noteTarget', 'noteTargets'],
      ['attachment', 'attachments'],
    ];
    for (const [holder, inverse] of links) {
      const source = this.#bySingular.get(holder);
      if (!source) continue;
      fields.push(
        ...makeRelationPair({
          source,
          target: object,
          name: targetFieldName(this.options.flavor, nameSingular),
          inverseName: inverse,
          type: this.options.flavor === 'v2' ? 'MORPH_RELATION' : 'RELATION',
          onDelete: 'CASCADE',
          now,
          isCustom: true,
          idSeed: object.id,
        }),
      );
    }
    this.store.transaction(() => {
      this.store.putObject(object);
      for (const field of fields) this.store.putField(field);
    });
    this.#reloadMetadata();
    return object;
  }

  #updateObject(object: ObjectMeta, raw: unknown): ObjectMeta {
    const body = this.#asObject(raw, 'Object update');
    const update =
      'update' in body && typeof body.update === 'object' && body.update !== null
        ? (body.update as Record<string, unknown>)
        : body;
    this.#checkKeys(
      update,
      ['labelSingular', 'labelPlural', 'description', 'icon', 'isActive', 'isLabelSyncedWithName'],
      'UpdateObjectPayload',
    );
    if (!object.isCustom && update.isActive === false)
      throw badRequest('Standard objects cannot be deactivated');
    const updated: ObjectMeta = {
      ...object,
      labelSingular:
        update.labelSingular === undefined
          ? object.labelSingular
          : this.#checkLabel(update.labelSingular, 'labelSingular'),
      labelPlural:
        update.labelPlural === undefined
          ? object.labelPlural
          : this.#checkLabel(update.labelPlural, 'labelPlural'),
      description:
        update.description === undefined
          ? object.description
          : this.#optionalString(update.description, 'description'),
      icon: update.icon === undefined ? object.icon : this.#optionalString(update.icon, 'icon'),
      isActive: update.isActive === undefined ? object.isActive : Boolean(update.isActive),
      updatedAt: this.#iso(),
    };
    this.store.putObject(updated);
    this.#reloadMetadata();
    return updated;
  }

  #deleteObject(object: ObjectMeta): void {
    if (!object.isCustom) throw badRequest('Standard objects cannot be deleted');
    this.store.transaction(() => {
      for (const field of this.#fieldsByObject.get(object.id) ?? []) {
        if (field.relation) this.#removeRelationPair(field);
        this.store.deleteField(field.id);
      }
      this.store.destroyObjectRecords(object.nameSingular);
      this.store.deleteObject(object.id);
    });
    this.#reloadMetadata();
  }

  /** Removes both sides of a relation and the join column's data and references. */
  #removeRelationPair(field: FieldMeta): void {
    const other = field.relation ? this.#fieldsById.get(field.relation.targetFieldMetadataId) : undefined;
    for (const side of [field, other]) {
      if (!side) continue;
      const holder = this.#objects.get(side.objectMetadataId);
      const column = side.relation?.joinColumnName;
      if (holder && column) {
        this.store.dropRefsByField(holder.nameSingular, column);
        this.store.db
          .prepare("UPDATE records SET data = jsonb_remove(data, '$.' || ?) WHERE object = ?")
          .run(column, holder.nameSingular);
      }
      this.store.deleteField(side.id);
    }
  }

  #parseOptions(raw: unknown, type: FieldType): SelectOption[] | null {
    if (type !== 'SELECT' && type !== 'MULTI_SELECT') {
      if (raw !== undefined && raw !== null)
        throw badRequest('options are only allowed on SELECT and MULTI_SELECT fields');
      return null;
    }
    if (!Array.isArray(raw) || raw.length === 0)
      throw badRequest('options are required for SELECT and MULTI_SELECT fields');
    const seen = new Set<string>();
    return raw.map((item, index) => {
      const option = this.#asObject(item, `options[${index}]`);
      this.#checkKeys(option, ['id', 'value', 'label', 'color', 'position'], `options[${index}]`);
      if (typeof option.value !== 'string' || !ENUM_VALUE_RE.test(option.value)) {
        throw badRequest(`options[${index}].value must be a valid GraphQL enum name [_A-Za-z][_0-9A-Za-z]*`);
      }
      if (seen.has(option.value)) throw badRequest(`options[${index}].value is duplicated`);
      seen.add(option.value);
      if (typeof option.label !== 'string' || option.label.trim() === '')
        throw badRequest(`options[${index}].label is required`);
      if (typeof option.color !== 'string' || option.color === '')
        throw badRequest(`options[${index}].color is required`);
      if (option.id !== undefined && !isUuid(option.id))
        throw badRequest(`options[${index}].id must be a UUID`);
      return {
        id: typeof option.id === 'string' ? option.id : randomUUID(),
        value: option.value,
        label: option.label,
        color: option.color,
        position: typeof option.position === 'number' ? option.position : index,
      };
    });
  }

  #nameTaken(object: ObjectMeta, name: string): boolean {
    const view = this.#views.get(object.nameSingular);
    const fields = this.#fieldsByObject.get(object.id) ?? [];
    return (
      fields.some((f) => f.name === name || f.relation?.joinColumnName === name) ||
      (view?.joinColumns.has(name) ?? false)
    );
  }

  #createField(raw: unknown): FieldMeta {
    const body = this.#asObject(raw, 'Field input');
    this.#checkKeys(
      body,
      [
        'objectMetadataId',
        'type',
        'name',
        'label',
        'description',
        'icon',
        'isNullable',
        'isUnique',
        'defaultValue',
        'options',
        'settings',
        'relationCreationPayload',
        'isLabelSyncedWithName',
        'isActive',
      ],
      'CreateFieldInput',
    );
    if (!isUuid(body.objectMetadataId)) throw badRequest('objectMetadataId must be a UUID');
    const object = this.#objects.get(body.objectMetadataId);
    if (!object) throw badRequest('objectMetadataId does not match any object');
    if (object.isReadOnly) throw badRequest(`Fields cannot be added to ${object.nameSingular}`);
    if (typeof body.type !== 'string' || !(FIELD_TYPES as readonly string[]).includes(body.type)) {
      throw badRequest('type is not a known field type');
    }
    const type = body.type as FieldType;
    if (!CREATABLE_FIELD_TYPES.has(type)) throw badRequest(`type ${type} cannot be created through the API`);
    const name = this.#checkName(body.name, 'name');
    const label = this.#checkLabel(body.label, 'label');
    if (this.#nameTaken(object, name))
      throw badRequest(`Name "${name}" is not available on ${object.nameSingular}`);
    const now = this.#iso();

    if (type === 'RELATION') {
      const payload = this.#asObject(body.relationCreationPayload, 'relationCreationPayload');
      if (!isUuid(payload.targetObjectMetadataId))
        throw badRequest('relationCreationPayload.targetObjectMetadataId must be a UUID');
      const target = this.#objects.get(payload.targetObjectMetadataId);
      if (!target)
        throw badRequest('relationCreationPayload.targetObjectMetadataId does not match any object');
      const relationType = payload.type;
      if (relationType !== 'MANY_TO_ONE' && relationType !== 'ONE_TO_MANY') {
        throw badRequest('relationCreationPayload.type must be MANY_TO_ONE or ONE_TO_MANY');
      }
      const targetLabel = this.#checkLabel(
        payload.targetFieldLabel,
        'relationCreationPayload.targetFieldLabel',
      );
      const targetName = this.#checkName(
        nameFromLabel(targetLabel),
        'relationCreationPayload.targetFieldLabel',
      );
      if (this.#nameTaken(target, targetName) || (target.id === object.id && targetName === name)) {
        throw badRequest(`Name "${targetName}" is not available on ${target.nameSingular}`);
      }
      const manyToOne = relationType === 'MANY_TO_ONE';
      const joinName = `${manyToOne ? name : targetName}Id`;
      if (this.#nameTaken(manyToOne ? object : target, joinName))
        throw badRequest(`Join column "${joinName}" is not available`);
      const [many, one] = makeRelationPair({
        source: manyToOne ? object : target,
        target: manyToOne ? target : object,
        name: manyToOne ? name : targetName,
        inverseName: manyToOne ? targetName : name,
        label: manyToOne ? label : targetLabel,
        inverseLabel: manyToOne ? targetLabel : label,
        type: 'RELATION',
        onDelete: 'SET_NULL',
        now,
        isCustom: true,
        idSeed: randomUUID(),
      });
      this.store.transaction(() => {
        this.store.putField(many);
        this.store.putField(one);
      });
      this.#reloadMetadata();
      return this.#fieldsById.get(manyToOne ? many.id : one.id)!;
    }

    const options = this.#parseOptions(body.options, type);
    const field = makeField(
      object,
      {
        id: randomUUID(),
        name,
        label,
        type,
        description: this.#optionalString(body.description, 'description'),
        icon: this.#optionalString(body.icon, 'icon'),
        isNullable: body.isNullable === undefined ? true : Boolean(body.isNullable),
        isUnique: Boolean(body.isUnique),
        defaultValue: body.defaultValue ?? null,
        options,
      },
      now,
      true,
    );
    if (options && field.defaultValue !== null) {
      const values = Array.isArray(field.defaultValue) ? field.defaultValue : [field.defaultValue];
      for (const v of values) {
        if (typeof v !== 'string' || !options.some((o) => o.value === v.replace(/^'|'$/g, ''))) {
          throw badRequest('defaultValue must be one of the options');
        }
      }
    }
    this.store.transaction(() => {
      this.store.putField(field);
      if (field.isUnique) this.#indexUnique(object, field);
    });
    this.#reloadMetadata();
    return field;
  }

  /** Builds the unique index of a new unique field; existing duplicates refuse the field. */
  #indexUnique(object: ObjectMeta, field: FieldMeta): void {
    const view = buildObjectView(object, [field]);
    const seen = new Map<string, string>();
    for (const record of this.store.allRecords(object.nameSingular)) {
      for (const [key, value] of uniqueEntries(view, record)) {
        if (seen.has(`${key}\u0000${value}`))
          throw badRequest(`Existing ${object.namePlural} hold duplicate values for ${field.name}`);
        seen.set(`${key}\u0000${value}`, String(record.id));
      }
    }
    for (const [token, id] of seen) {
      const [key, value] = token.split('\u0000') as [string, string];
      this.store.db
        .prepare('INSERT INTO uniques (object, key, value, id) VALUES (?, ?, ?, ?)')
        .run(object.nameSingular, key, value, id);
    }
  }

  #updateField(field: FieldMeta, raw: unknown): FieldMeta {
    const body = this.#asObject(raw, 'Field update');
    const update =
      'update' in body && typeof body.update === 'object' && body.update !== null
        ? (body.update as Record<string, unknown>)
        : body;
    this.#checkKeys(
      update,
      [
        'label',
        'description',
        'icon',
        'isActive',
        'options',
        'defaultValue',
        'isLabelSyncedWithName',
        'isNullable',
      ],
      'UpdateFieldInput',
    );
    if (!field.isCustom && (update.isActive === false || update.options !== undefined)) {
      throw badRequest('Standard fields cannot be deactivated or have their options changed');
    }
    const updated: FieldMeta = {
      ...field,
      label: update.label === undefined ? field.label : this.#checkLabel(update.label, 'label'),
      description:
        update.description === undefined
          ? field.description
          : this.#optionalString(update.description, 'description'),
      icon: update.icon === undefined ? field.icon : this.#optionalString(update.icon, 'icon'),
      isActive: update.isActive === undefined ? field.isActive : Boolean(update.isActive),
      isNullable: update.isNullable === undefined ? field.isNullable : Boolean(update.isNullable),
      options: update.options === undefined ? field.options : this.#parseOptions(update.options, field.type),
      defaultValue: update.defaultValue === undefined ? field.defaultValue : update.defaultValue,
      updatedAt: this.#iso(),
    };
    this.store.putField(updated);
    this.#reloadMetadata();
    return updated;
  }

  #deleteField(field: FieldMeta): void {
    if (!field.isCustom) throw badRequest('Standard fields cannot be deleted');
    const object = this.#objects.get(field.objectMetadataId)!;
    this.store.transaction(() => {
      if (field.relation) {
        this.#removeRelationPair(field);
        return;
      }
      if (field.isUnique) {
        const sub =
          field.type === 'EMAILS'
            ? 'primaryEmail'
            : field.type === 'LINKS'
              ? 'primaryLinkUrl'
              : field.type === 'PHONES'
                ? 'primaryPhoneNumber'
                : null;
        this.store.dropUniqueKey(object.nameSingular, sub ? `${field.name}.${sub}` : field.name);
      }
      this.store.db
        .prepare("UPDATE records SET data = jsonb_remove(data, '$.' || ?) WHERE object = ?")
        .run(field.name, object.nameSingular);
      this.store.deleteField(field.id);
    });
    this.#reloadMetadata();
  }

  // -------------------------------------------------------------------------------------------
  // GraphQL: file uploads only
  // -------------------------------------------------------------------------------------------

  async #graphql(request: SandboxRequest): Promise<SandboxResponse> {
    const gqlError = (status: number, message: string, code: string): SandboxResponse =>
      json(status, { errors: [{ message, extensions: { code } }] });
    const contentType = request.headers['content-type'] ?? '';
    if (!contentType.startsWith('multipart/form-data')) {
      return gqlError(
        400,
        'The sandbox implements only multipart file uploads over GraphQL; use the REST API',
        'BAD_USER_INPUT',
      );
    }
    if (request.bodyTooLarge) {
      return gqlError(
        413,
        `File truncated as it exceeds the ${this.options.maxUploadBytes} byte size limit.`,
        'PAYLOAD_TOO_LARGE',
      );
    }
    let form: FormData;
    try {
      form = await new Request('http://sandbox.local/graphql', {
        method: 'POST',
        headers: { 'content-type': contentType },
        body: request.body ?? new Uint8Array(),
      }).formData();
    } catch {
      return gqlError(400, 'Malformed multipart body', 'BAD_USER_INPUT');
    }
    let operations: { query?: unknown; variables?: Record<string, unknown> };
    let map: Record<string, unknown>;
    try {
      operations = JSON.parse(String(form.get('operations') ?? ''));
      map = JSON.parse(String(form.get('map') ?? ''));
    } catch {
      return gqlError(
        400,
        'Invalid operations or map part (GraphQL multipart request spec)',
        'BAD_USER_INPUT',
      );
    }
    const query = typeof operations.query === 'string' ? operations.query : '';
    const [partName, targets] = Object.entries(map)[0] ?? [];
    const file = partName === undefined ? null : form.get(partName);
    if (!(file instanceof File) || !Array.isArray(targets) || !targets.includes('variables.file')) {
      return gqlError(400, 'Missing file part mapped to variables.file', 'BAD_USER_INPUT');
    }
    if (file.size > this.options.maxUploadBytes) {
      return gqlError(
        413,
        `File truncated as it exceeds the ${this.options.maxUploadBytes} byte size limit.`,
        'PAYLOAD_TOO_LARGE',
      );
    }
    const v1Mutation = /\buploadFile\s*\(/.test(query);
    const v2Mutation = /\buploadFilesFieldFile\s*\(/.test(query);
    if ((this.options.flavor === 'v1' && !v1Mutation) || (this.options.flavor === 'v2' && !v2Mutation)) {
      const name = v1Mutation ? 'uploadFile' : v2Mutation ? 'uploadFilesFieldFile' : 'unknown';
      return gqlError(400, `Cannot query field "${name}" on type "Mutation".`, 'GRAPHQL_VALIDATION_FAILED');
    }
    const variables = operations.variables ?? {};
    if (v2Mutation) {
      const fieldId = variables.fieldMetadataId;
      const field = typeof fieldId === 'string' ? this.#fieldsById.get(fieldId) : undefined;
      if (field?.type !== 'FILES') {
        return gqlError(400, 'fieldMetadataId must reference a FILES field', 'BAD_USER_INPUT');
      }
    }
    const bytes = new Uint8Array(await file.arrayBuffer());
    const id = randomUUID();
    const folder =
      v1Mutation && typeof variables.fileFolder === 'string'
        ? variables.fileFolder.toLowerCase()
        : 'attachment';
    const path = `${folder.replace(/[^a-z0-9-]/g, '')}/${id}${extname(file.name)
      .toLowerCase()
      .replace(/[^.a-z0-9]/g, '')}`;
    const stored = {
      path,
      id,
      name: file.name,
      mimeType: file.type || 'application/octet-stream',
      size: bytes.length,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      createdAt: this.#iso(),
    };
    this.store.putFile(stored, bytes);
    if (v1Mutation) return json(200, { data: { uploadFile: path } });
    return json(200, {
      data: {
        uploadFilesFieldFile: {
          id,
          path,
          size: bytes.length,
          url: `${request.origin ?? ''}/files/${path}`,
          createdAt: stored.createdAt,
        },
      },
    });
  }

  // -------------------------------------------------------------------------------------------
  // Inspection
  // -------------------------------------------------------------------------------------------

  /** Everything stored, for tests and benchmarks to assert on. */
  dump(): SandboxDump {
    const records: Record<string, Array<Record<string, unknown>>> = {};
    for (const object of this.#objects.values())
      records[object.nameSingular] = this.store.allRecords(object.nameSingular);
    return {
      flavor: this.options.flavor,
      objects: [...this.#objects.values()].map((o) => this.#presentObject(o)),
      records,
      files: this.store
        .listFiles()
        .map(({ path, id, name, mimeType, size, sha256 }) => ({ path, id, name, mimeType, size, sha256 })),
    };
  }

  stats(): SandboxStats {
    const requests: Record<string, Record<string, number>> = {};
    for (const [route, byStatus] of this.#requests) requests[route] = Object.fromEntries(byStatus);
    const records: Record<string, { active: number; deleted: number }> = {};
    for (const row of this.store.countRecords())
      records[row.object] = { active: row.active, deleted: row.deleted };
    return {
      requests,
      totalRequests: this.#totalRequests,
      rateLimited: this.#rateLimited,
      faults: Object.fromEntries(this.#faultCounts),
      records,
    };
  }

  /** Back to a fresh workspace of the same flavor (standard schema, seeded members), counters zeroed. */
  reset(): void {
    this.store.wipe();
    this.#requests = new Map();
    this.#rateLimited = 0;
    this.#faultCounts = new Map();
    this.#totalRequests = 0;
    this.#limiter = new RequestRateLimiter([this.options.rateShort, this.options.rateLong], this.#now());
    this.#faults = new FaultInjector(this.options.faults, this.options.seed);
    this.#initialise();
  }
}

/** Twenty derives a relation's inverse field name from its label: `Primary patient` → `primaryPatient`. */
export function nameFromLabel(label: string): string {
  const words = label
    .normalize('NFD')
    .replace(/[^A-Za-z0-9 ]/g, ' ')
    .trim()
    .split(/\s+/)
    .filter((w) => w !== '');
  return words.map((w, i) => (i === 0 ? w.charAt(0).toLowerCase() + w.slice(1) : capitalize(w))).join('');
}

export { validateFieldValue };
