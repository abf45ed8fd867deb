import { badRequest } from './http-error.ts';
import { type FieldMeta, type ObjectMeta, stableUuid, standardSchema } from './model.ts';
import type { ResolvedSandboxOptions } from './options.ts';
import { buildObjectView, defaultRecord, type ObjectView } from './records.ts';
import type { SandboxStore } from './store.ts';

/**
 * The workspace the API modules work on: the store, the options, the clock and the metadata
 * (objects, fields and their record views) cached from the store and reloaded after each change.
 */
export class Workspace {
  readonly options: ResolvedSandboxOptions;
  readonly store: SandboxStore;
  readonly #now: () => number;
  objects: ReadonlyMap<string, ObjectMeta> = new Map();
  fieldsByObject: ReadonlyMap<string, FieldMeta[]> = new Map();
  fieldsById: ReadonlyMap<string, FieldMeta> = new Map();
  views: ReadonlyMap<string, ObjectView> = new Map();
  byPlural: ReadonlyMap<string, ObjectMeta> = new Map();
  bySingular: ReadonlyMap<string, ObjectMeta> = new Map();

  constructor(options: ResolvedSandboxOptions, store: SandboxStore, now: () => number) {
    this.options = options;
    this.store = store;
    this.#now = now;
  }

  iso(): string {
    return new Date(this.#now()).toISOString();
  }

  /** Writes the standard schema into an empty store (else checks its flavor), loads it, seeds members. */
  initialise(): void {
    const flavor = this.store.getSetting('flavor');
    if (flavor !== undefined && flavor !== this.options.flavor) {
      throw new Error(
        `sandbox data directory holds a ${flavor} workspace; start with the same flavor or another directory`,
      );
    }
    if (flavor === undefined) {
      this.store.transaction(() => {
        this.store.setSetting('flavor', this.options.flavor);
        const schema = standardSchema(this.options.flavor, this.iso());
        for (const object of schema.objects) this.store.putObject(object);
        for (const field of schema.fields) this.store.putField(field);
      });
    }
    this.reloadMetadata();
    this.#seedMembers();
  }

  #seedMembers(): void {
    const view = this.viewOf('workspaceMember');
    this.store.transaction(() => {
      for (const member of this.options.members) {
        const email = member.email.trim().toLowerCase();
        const id = stableUuid(`workspaceMember:${email}`);
        if (this.store.exists('workspaceMember', id)) continue;
        const now = this.iso();
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
          createdBy: this.actor(),
        };
        this.store.insertRecord('workspaceMember', data);
      }
    });
  }

  reloadMetadata(): void {
    this.objects = new Map(this.store.loadObjects().map((o) => [o.id, o]));
    const fieldsByObject = new Map<string, FieldMeta[]>();
    const fieldsById = new Map<string, FieldMeta>();
    this.fieldsByObject = fieldsByObject;
    this.fieldsById = fieldsById;
    for (const field of this.store.loadFields()) {
      fieldsById.set(field.id, field);
      const list = fieldsByObject.get(field.objectMetadataId) ?? [];
      list.push(field);
      fieldsByObject.set(field.objectMetadataId, list);
    }
    for (const list of fieldsByObject.values())
      list.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || 0);
    const byPlural = new Map<string, ObjectMeta>();
    const bySingular = new Map<string, ObjectMeta>();
    const views = new Map<string, ObjectView>();
    this.byPlural = byPlural;
    this.bySingular = bySingular;
    this.views = views;
    for (const object of this.objects.values()) {
      byPlural.set(object.namePlural, object);
      bySingular.set(object.nameSingular, object);
      views.set(object.nameSingular, buildObjectView(object, fieldsByObject.get(object.id) ?? []));
    }
  }

  viewOf(singular: string): ObjectView {
    const view = this.views.get(singular);
    if (!view) throw badRequest(`Object ${singular} not found`);
    return view;
  }

  actor(): Record<string, unknown> {
    return { source: 'API', workspaceMemberId: null, name: 'API key', context: {} };
  }

  objectByPlural(plural: string): ObjectMeta {
    const object = this.byPlural.get(plural);
    if (!object?.isActive) {
      throw badRequest(
        `object '${plural}' not found. Use the plural name of an existing object, e.g. 'people'.`,
      );
    }
    return object;
  }

  readonly objectNameById = (id: string): string => this.objects.get(id)?.nameSingular ?? 'unknown';
}
