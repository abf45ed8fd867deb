import { createHash } from 'node:crypto';
import { MemoryObjectStore } from '../../../lambdas/adapters/memory-object-store.ts';
import { AuthError, ValidationError } from '../../../lambdas/core/errors.ts';
import type { ChunkManifest } from '../../../lambdas/core/inventory/manifest.ts';
import type { Plan } from '../../../lambdas/core/inventory/plan.ts';
import { MemoryLedger } from '../../../lambdas/core/ledger/memory-ledger.ts';
import { MemoryRunStore } from '../../../lambdas/core/ledger/memory-run-store.ts';
import type { Clock } from '../../../lambdas/ports/clock.ts';
import type { Log, LogFields } from '../../../lambdas/ports/log.ts';
import type {
  CreateFieldInput,
  CreateObjectInput,
  FieldMeta,
  ObjectMeta,
  SelectOption,
  TwentyApi,
  WorkspaceMember,
} from '../../../lambdas/ports/twenty.ts';
import { TwentyModel } from '../../../lambdas/ports/twenty-model.ts';
import { nameFromLabel } from '../../../lambdas/ports/twenty-names.ts';
import type { TaskDeps } from '../../../lambdas/tasks/deps.ts';

/** A deterministic UUID-shaped id from a name (test fixtures only). */
export function fakeId(name: string): string {
  const h = createHash('sha1').update(name).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

type MutableObject = { -readonly [K in keyof ObjectMeta]: ObjectMeta[K] } & { fields: FieldMeta[] };

function field(objectName: string, name: string, type: string, extra: Partial<FieldMeta> = {}): FieldMeta {
  return {
    id: fakeId(`${objectName}.${name}`),
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

function options(values: readonly string[]): SelectOption[] {
  return values.map((value, position) => ({ value, label: value, color: 'gray', position }));
}

function relation(objectName: string, name: string, target: string): FieldMeta {
  return field(objectName, name, 'RELATION', {
    joinColumnName: `${name}Id`,
    relationTargetObjectId: fakeId(`object:${target}`),
    relationType: 'MANY_TO_ONE',
  });
}

function object(
  nameSingular: string,
  namePlural: string,
  fields: FieldMeta[],
  isCustom = false,
): MutableObject {
  return {
    id: fakeId(`object:${nameSingular}`),
    nameSingular,
    namePlural,
    labelSingular: nameSingular,
    labelPlural: namePlural,
    isCustom,
    isActive: true,
    fields: [field(nameSingular, 'id', 'UUID'), ...fields],
  };
}

const cap = (s: string) => `${s.charAt(0).toUpperCase()}${s.slice(1)}`;

/** Standard objects the stages touch, v1 or v2 shaped (see TWENTY-API.md). */
export function standardObjects(flavor: 'v1' | 'v2'): MutableObject[] {
  const v2 = flavor === 'v2';
  const targetsOf = (holder: string) =>
    ['person', 'company', 'opportunity'].map((t) => relation(holder, v2 ? `target${cap(t)}` : t, t));
  return [
    object('workspaceMember', 'workspaceMembers', [field('workspaceMember', 'userEmail', 'TEXT')]),
    object('company', 'companies', [
      field('company', 'name', 'TEXT'),
      field('company', 'domainName', 'LINKS', { isUnique: true }),
      relation('company', 'accountOwner', 'workspaceMember'),
    ]),
    object('person', 'people', [
      field('person', 'name', 'FULL_NAME'),
      field('person', 'emails', 'EMAILS', { isUnique: true }),
      field('person', 'jobTitle', 'TEXT'),
      ...(v2 ? [] : [field('person', 'city', 'TEXT')]),
      relation('person', 'company', 'company'),
    ]),
    object('opportunity', 'opportunities', [
      field('opportunity', 'name', 'TEXT'),
      field('opportunity', 'stage', 'SELECT', { options: options(['NEW', 'SCREENING', 'CUSTOMER']) }),
      relation('opportunity', 'pointOfContact', 'person'),
      ...(v2 ? [relation('opportunity', 'owner', 'workspaceMember')] : []),
    ]),
    object('task', 'tasks', [
      field('task', 'title', 'TEXT'),
      field('task', 'status', 'SELECT', { options: options(['TODO', 'IN_PROGRESS', 'DONE']) }),
      relation('task', 'assignee', 'workspaceMember'),
    ]),
    object('note', 'notes', [field('note', 'title', 'TEXT'), field('note', 'bodyV2', 'RICH_TEXT_V2')]),
    object('taskTarget', 'taskTargets', [relation('taskTarget', 'task', 'task'), ...targetsOf('taskTarget')]),
    object('noteTarget', 'noteTargets', [relation('noteTarget', 'note', 'note'), ...targetsOf('noteTarget')]),
    object('attachment', 'attachments', [field('attachment', 'name', 'TEXT'), ...targetsOf('attachment')]),
  ];
}

/**
 * A TwentyApi double for stage unit tests: an in-memory metadata model that behaves like Twenty's
 * (name clashes → 400, new objects get `name` and activity-target relations, relations get an inverse
 * named from the label) and records every call in order.
 */
export class FakeTwenty implements TwentyApi {
  readonly calls: string[] = [];
  readonly objects: MutableObject[];
  readonly flavor: 'v1' | 'v2';
  membersList: WorkspaceMember[] = [];
  /** Simulates a non-admin key: metadata writes answer 403 (the transport's AuthError). */
  denyMetadataWrites = false;

  constructor(flavor: 'v1' | 'v2' = 'v2') {
    this.flavor = flavor;
    this.objects = standardObjects(flavor);
  }

  #model(): TwentyModel {
    return new TwentyModel(this.objects.map((o) => ({ ...o, fields: [...o.fields] })));
  }

  #deny(): void {
    if (this.denyMetadataWrites) throw new AuthError('Twenty rejected the API key (403)');
  }

  #byId(id: string): MutableObject {
    const found = this.objects.find((o) => o.id === id);
    if (!found) throw new ValidationError('objectMetadataId does not match any object');
    return found;
  }

  #taken(o: MutableObject, name: string): boolean {
    return o.fields.some((f) => f.name === name || f.joinColumnName === name);
  }

  async metadata(): Promise<TwentyModel> {
    this.calls.push('metadata');
    return this.#model();
  }

  async refreshMetadata(): Promise<TwentyModel> {
    this.calls.push('refreshMetadata');
    return this.#model();
  }

  async createObject(input: CreateObjectInput): Promise<ObjectMeta> {
    this.calls.push(`createObject ${input.nameSingular}`);
    this.#deny();
    if (this.objects.some((o) => o.nameSingular === input.nameSingular))
      throw new ValidationError(`An object with the name ${input.nameSingular} already exists`);
    const created = object(
      input.nameSingular,
      input.namePlural,
      [field(input.nameSingular, 'name', 'TEXT')],
      true,
    );
    created.labelSingular = input.labelSingular;
    created.labelPlural = input.labelPlural;
    this.objects.push(created);
    for (const holder of ['taskTarget', 'noteTarget', 'attachment']) {
      const h = this.objects.find((o) => o.nameSingular === holder);
      const name = this.flavor === 'v2' ? `target${cap(input.nameSingular)}` : input.nameSingular;
      h?.fields.push(relation(holder, name, input.nameSingular));
    }
    return created;
  }

  async createField(input: CreateFieldInput): Promise<FieldMeta> {
    this.calls.push(`createField ${input.type} ${input.name}`);
    this.#deny();
    const o = this.#byId(input.objectMetadataId);
    if (this.#taken(o, input.name)) throw new ValidationError(`Name "${input.name}" is not available`);
    if ((input.type === 'SELECT' || input.type === 'MULTI_SELECT') && (input.options?.length ?? 0) === 0)
      throw new ValidationError('options are required for SELECT and MULTI_SELECT fields');
    if (input.type === 'RELATION') {
      const payload = input.relationCreationPayload;
      if (!payload) throw new ValidationError('relationCreationPayload is required');
      const target = this.#byId(payload.targetObjectMetadataId);
      const inverse = nameFromLabel(payload.targetFieldLabel);
      if (this.#taken(target, inverse)) throw new ValidationError(`Name "${inverse}" is not available`);
      const many: FieldMeta = {
        ...relation(o.nameSingular, input.name, target.nameSingular),
        id: fakeId(`${o.nameSingular}.${input.name}`),
        isCustom: true,
      };
      o.fields.push(many);
      target.fields.push(
        field(target.nameSingular, inverse, 'RELATION', {
          isCustom: true,
          relationType: 'ONE_TO_MANY',
          relationTargetObjectId: o.id,
        }),
      );
      return many;
    }
    const created = field(o.nameSingular, input.name, input.type, {
      isCustom: true,
      label: input.label,
      options: [...(input.options ?? [])],
    });
    o.fields.push(created);
    return created;
  }

  async addSelectOptions(
    objectName: string,
    fieldName: string,
    add: readonly SelectOption[],
  ): Promise<FieldMeta> {
    this.calls.push(`addSelectOptions ${objectName}.${fieldName} ${add.length}`);
    this.#deny();
    const o = this.objects.find((x) => x.nameSingular === objectName);
    const index = o?.fields.findIndex((f) => f.name === fieldName) ?? -1;
    const current = o?.fields[index];
    if (!o || !current) throw new ValidationError(`Twenty object ${objectName} has no field ${fieldName}`);
    if (!current.isCustom) throw new ValidationError('Standard fields cannot have their options changed');
    const present = new Set(current.options.map((x) => x.value));
    const updated = {
      ...current,
      options: [...current.options, ...add.filter((x) => !present.has(x.value))],
    };
    o.fields[index] = updated;
    return updated;
  }

  async setSelectOptions(): Promise<FieldMeta> {
    throw new Error('not used by ApplySchema');
  }

  async removeMetadata(): Promise<boolean> {
    throw new Error('not used by ApplySchema');
  }

  async members(): Promise<WorkspaceMember[]> {
    this.calls.push('members');
    return this.membersList;
  }

  createMany(): never {
    throw new Error('not used by schema stages');
  }
  findMany(): never {
    throw new Error('not used by schema stages');
  }
  findOne(): never {
    throw new Error('not used by schema stages');
  }
  update(): never {
    throw new Error('not used by schema stages');
  }
  destroy(): never {
    throw new Error('not used by schema stages');
  }
  destroyMany(): never {
    throw new Error('not used by schema stages');
  }
  destroyByIds(): never {
    throw new Error('not used by schema stages');
  }
  restore(): never {
    throw new Error('not used by schema stages');
  }
  uploadFile(): never {
    throw new Error('not used by schema stages');
  }
  downloadFile(): never {
    throw new Error('not used by schema stages');
  }
  stats() {
    return { requests: this.calls.length, retries: 0, throttled: 0, networkErrors: 0, byStatus: {} };
  }

  /** The create* calls only (what a re-run must not repeat). */
  writes(): string[] {
    return this.calls.filter((c) => c.startsWith('create') || c.startsWith('addSelectOptions'));
  }
}

/** A log that keeps every line, so tests can assert what never reaches it (emails, values). */
export function recordingLog(): Log & { lines: string[] } {
  const lines: string[] = [];
  const push = (level: string) => (message: string, fields?: LogFields) =>
    lines.push(`${level} ${message} ${JSON.stringify(fields ?? {})}`);
  return { lines, debug: push('debug'), info: push('info'), warn: push('warn'), error: push('error') };
}

/**
 * Work-bucket artefacts of a run after Inventory + Segment, built by hand from synthetic rows:
 * plan.json (one file per entry), chunks (≤ chunkSize rows), the chunk manifest, and mapping.json.
 */
export async function seedRun(
  work: MemoryObjectStore,
  runId: string,
  files: Record<string, Array<Record<string, string>>>,
  mapping: unknown,
  chunkSize = 2,
): Promise<{ planKey: string }> {
  const planFiles: Plan['files'] = [];
  const manifestFiles: ChunkManifest['files'] = [];
  for (const [name, rows] of Object.entries(files)) {
    const stem = name.toLowerCase().replace(/\.[a-z]+$/, '');
    const header = Object.keys(rows[0] ?? {});
    const chunks: ChunkManifest['files'][number]['chunks'] = [];
    for (let i = 0; i < rows.length; i += chunkSize) {
      const part = rows.slice(i, i + chunkSize);
      const key = `runs/${runId}/chunks/${stem}/${String(chunks.length + 1).padStart(5, '0')}.ndjson`;
      const body = part.map((cells, j) => JSON.stringify({ line: i + j + 2, cells })).join('\n');
      await work.put(key, `${body}\n`);
      chunks.push({
        key,
        rows: part.length,
        firstLine: i + 2,
        lastLine: i + part.length + 1,
        sha256: createHash('sha256').update(body).digest('hex'),
      });
    }
    planFiles.push({
      key: `drop/clinic/${name}`,
      name,
      stem,
      bytes: 100,
      sha256: '0'.repeat(64),
      encoding: 'utf-8',
      bom: 'none',
      delimiter: ',',
      lineEnding: 'lf',
      header,
      headerLine: 1,
      rows: rows.length,
      blankLines: 0,
      malformedRows: 0,
      columns: header.map((h) => ({ name: h, nonEmpty: rows.length })),
    });
    manifestFiles.push({ stem, key: `drop/clinic/${name}`, rows: rows.length, rejected: 0, chunks });
  }
  const planKey = `runs/${runId}/plan.json`;
  const plan: Plan = {
    version: 1,
    runId,
    folder: 'drop/clinic/',
    createdAt: '2026-01-02T03:04:05.000Z',
    files: planFiles,
    attachments: [],
    totals: {
      dataFiles: planFiles.length,
      attachments: 0,
      bytes: 0,
      rows: 0,
      malformedRows: 0,
      blankLines: 0,
    },
    warnings: [],
    errors: [],
  };
  await work.put(planKey, JSON.stringify(plan));
  const total = manifestFiles.reduce((s, f) => s + f.rows, 0);
  const manifest: ChunkManifest = {
    runId,
    chunkSize,
    files: manifestFiles,
    totals: { rows: total, rejected: 0, chunks: manifestFiles.reduce((s, f) => s + f.chunks.length, 0) },
  };
  await work.put(`runs/${runId}/chunks/manifest.json`, JSON.stringify(manifest));
  await work.put(`runs/${runId}/mapping.json`, JSON.stringify(mapping));
  return { planKey };
}

/** TaskDeps over memory stores, a memory ledger and the fake Twenty. */
export function stageDeps(twenty: TwentyApi): TaskDeps & {
  work: MemoryObjectStore;
  ledger: MemoryLedger;
  log: ReturnType<typeof recordingLog>;
} {
  const clock: Clock = { now: () => Date.parse('2026-01-02T03:04:05.000Z'), sleep: async () => {} };
  return {
    drop: new MemoryObjectStore('drop'),
    work: new MemoryObjectStore('work'),
    clock,
    log: recordingLog(),
    ledger: new MemoryLedger(),
    runStore: new MemoryRunStore(clock),
    twenty: async () => twenty,
  };
}
