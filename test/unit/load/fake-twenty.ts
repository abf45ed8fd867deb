import { MemoryObjectStore } from '../../../lambdas/adapters/memory-object-store.ts';
import { MemoryLedger } from '../../../lambdas/core/ledger/memory-ledger.ts';
import { MemoryRunStore } from '../../../lambdas/core/ledger/memory-run-store.ts';
import type { Clock } from '../../../lambdas/ports/clock.ts';
import { TwentyRejectedError } from '../../../lambdas/ports/errors.ts';
import { silentLog } from '../../../lambdas/ports/log.ts';
import type {
  CreateManyOptions,
  CreateManyResult,
  FieldMeta,
  FindManyOptions,
  ObjectMeta,
  TwentyApi,
  TwentyClientStats,
  TwentyRecord,
  UploadedFile,
} from '../../../lambdas/ports/twenty.ts';
import { TwentyModel } from '../../../lambdas/ports/twenty-model.ts';
import type { TaskDeps } from '../../../lambdas/tasks/deps.ts';

function field(name: string, type: string, extra: Partial<FieldMeta> = {}): FieldMeta {
  return {
    id: `f-${name}`,
    name,
    label: name,
    type,
    isCustom: false,
    isUnique: false,
    isNullable: true,
    options: [],
    ...extra,
  };
}

function object(singular: string, plural: string, fields: FieldMeta[]): ObjectMeta {
  return {
    id: `o-${singular}`,
    nameSingular: singular,
    namePlural: plural,
    labelSingular: singular,
    labelPlural: plural,
    isCustom: false,
    isActive: true,
    fields,
  };
}

/** A minimal workspace model of either generation (only what the loader asks about). */
export function fakeModel(flavor: 'v1' | 'v2'): TwentyModel {
  const person = flavor === 'v2' ? 'targetPersonId' : 'personId';
  return new TwentyModel([
    object('person', 'people', [field('name', 'FULL_NAME'), field('emails', 'EMAILS', { isUnique: true })]),
    object('task', 'tasks', [field('title', 'TEXT')]),
    object('taskTarget', 'taskTargets', [
      field('task', 'RELATION', { joinColumnName: 'taskId', relationType: 'MANY_TO_ONE' }),
      field(person.replace(/Id$/, ''), 'RELATION', { joinColumnName: person, relationType: 'MANY_TO_ONE' }),
    ]),
    object('attachment', 'attachments', [
      field('name', 'TEXT'),
      field('fullPath', 'TEXT'),
      ...(flavor === 'v2' ? [field('file', 'FILES')] : []),
    ]),
  ]);
}

/**
 * An in-memory Twenty for stage unit tests: records per plural, upsert by id, a per-test refusal
 * rule, uploads kept by path, and the request/throttle counters the loader reports.
 */
export class FakeTwenty implements TwentyApi {
  readonly rows = new Map<string, Map<string, TwentyRecord>>();
  readonly files = new Map<string, Uint8Array>();
  /** Every write call in order: `<plural>:<n records>`. */
  readonly calls: string[] = [];
  readonly reads: string[] = [];
  refuse: (plural: string, record: TwentyRecord) => string | undefined = () => undefined;
  uploadLimit = Number.POSITIVE_INFINITY;
  #requests = 0;
  readonly #model: TwentyModel;

  constructor(flavor: 'v1' | 'v2' = 'v2') {
    this.#model = fakeModel(flavor);
  }

  table(plural: string): Map<string, TwentyRecord> {
    const table = this.rows.get(plural) ?? new Map<string, TwentyRecord>();
    this.rows.set(plural, table);
    return table;
  }

  seed(plural: string, record: TwentyRecord): void {
    this.table(plural).set(record.id, structuredClone(record));
  }

  async metadata() {
    return this.#model;
  }
  async refreshMetadata() {
    return this.#model;
  }
  async createObject(): Promise<ObjectMeta> {
    throw new Error('not used by the loader');
  }
  async createField(): Promise<FieldMeta> {
    throw new Error('not used by the loader');
  }
  async addSelectOptions(): Promise<FieldMeta> {
    throw new Error('not used by the loader');
  }
  async setSelectOptions(): Promise<FieldMeta> {
    throw new Error('not used by the loader');
  }
  async removeMetadata(): Promise<boolean> {
    throw new Error('not used by the loader');
  }

  async createMany(
    plural: string,
    records: readonly TwentyRecord[],
    _options?: CreateManyOptions,
  ): Promise<CreateManyResult> {
    this.#requests += Math.max(1, Math.ceil(records.length / 60));
    this.calls.push(`${plural}:${records.length}`);
    const result: CreateManyResult = { written: [], failed: [] };
    records.forEach((record, index) => {
      const reason = this.refuse(plural, record);
      if (reason !== undefined) {
        result.failed.push({ index, id: record.id, reason });
        return;
      }
      const table = this.table(plural);
      table.set(record.id, { ...(table.get(record.id) ?? {}), ...structuredClone(record) });
      result.written.push({ index, id: record.id });
    });
    return result;
  }

  async *findMany(plural: string, options: FindManyOptions = {}): AsyncIterable<TwentyRecord> {
    this.#requests++;
    const filter = options.filter;
    let ids: readonly unknown[] | undefined;
    if (typeof filter === 'object' && filter !== null && 'field' in filter && filter.op === 'in') {
      ids = filter.value as readonly unknown[];
    }
    this.reads.push(`${plural}:${ids?.length ?? 'all'}`);
    for (const record of this.table(plural).values()) {
      if (ids === undefined || ids.includes(record.id)) yield structuredClone(record);
    }
  }

  async findOne(plural: string, id: string): Promise<TwentyRecord> {
    const record = this.table(plural).get(id);
    if (!record) throw new Error('missing');
    return record;
  }
  async update(): Promise<TwentyRecord> {
    throw new Error('not used by the loader');
  }
  async destroy(plural: string, id: string): Promise<boolean> {
    return this.table(plural).delete(id);
  }
  async destroyMany(): Promise<number> {
    throw new Error('not used by the loader');
  }
  async destroyByIds(): Promise<string[]> {
    throw new Error('not used by the loader');
  }
  async restore(): Promise<TwentyRecord> {
    throw new Error('not used by the loader');
  }
  async members() {
    return [];
  }

  async uploadFile(bytes: Uint8Array, name: string): Promise<UploadedFile> {
    this.#requests++;
    if (bytes.byteLength > this.uploadLimit) throw new TwentyRejectedError('too large', 413, ['too large']);
    const n = this.files.size + 1;
    const fileId = `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
    const path = `attachment/${fileId}${name.slice(name.lastIndexOf('.'))}`;
    this.files.set(path, bytes);
    return { path, fileId };
  }
  async downloadFile(path: string): Promise<Uint8Array> {
    const bytes = this.files.get(path);
    if (!bytes) throw new Error('missing');
    return bytes;
  }

  stats(): TwentyClientStats {
    return { requests: this.#requests, retries: 0, throttled: 0, networkErrors: 0, byStatus: {} };
  }
}

export type LoadTestDeps = TaskDeps & {
  drop: MemoryObjectStore;
  work: MemoryObjectStore;
  ledger: MemoryLedger;
  runStore: MemoryRunStore;
  fake: FakeTwenty;
};

/** Stores, ledger, run store and a fake Twenty wired as TaskDeps; a fixed clock. */
export function loadDeps(flavor: 'v1' | 'v2' = 'v2'): LoadTestDeps {
  const clock: Clock = { now: () => Date.parse('2026-02-03T04:05:06.000Z'), sleep: async () => {} };
  const fake = new FakeTwenty(flavor);
  return {
    drop: new MemoryObjectStore('drop'),
    work: new MemoryObjectStore('work'),
    clock,
    log: silentLog,
    ledger: new MemoryLedger(),
    runStore: new MemoryRunStore(clock),
    twenty: async () => fake,
    fake,
  };
}

/** Deterministic UUID-shaped ids so a test can predict what the loader writes. */
export function uid(group: number, n: number): string {
  return `${group.toString(16).padStart(8, '0')}-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
}
