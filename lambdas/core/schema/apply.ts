import type { Clock } from '../../ports/clock.ts';
import type { Ledger, LedgerEntry } from '../../ports/ledger.ts';
import type { Log } from '../../ports/log.ts';
import type { SelectOption, TwentyApi } from '../../ports/twenty.ts';
import { AuthError, SchemaConflictError, ValidationError } from '../errors.ts';
import { assertNoConflicts, type SchemaChanges } from './diff.ts';

/** Ledger phase of schema entries: sorts before every record phase, so rollback removes it last. */
export const SCHEMA_LEDGER_PHASE = '00-schema';

/** What ApplySchema created, as counts (the stage output and the run counters). */
export interface AppliedSchema {
  readonly objectsCreated: number;
  readonly fieldsCreated: number;
  readonly optionsAdded: number;
  readonly relationsCreated: number;
}

export interface ApplySchemaContext {
  readonly runId: string;
  readonly clock: Clock;
  /** When present, every creation is recorded (op `schema-created`) so rollback can remove it. */
  readonly ledger?: Ledger;
  readonly log?: Log;
}

/** The message operators see when the key is not an admin key; the fix is a different key. */
export const ADMIN_KEY_NEEDED = 'the API key cannot change the data model (an admin key is needed)';

/**
 * Runs one metadata write and turns Twenty's refusals into what an operator can act on: 401/403 →
 * AuthError (the key lacks the permission), 400 → SchemaConflictError naming the object/field (the
 * client already masked values in Twenty's message). Transient errors pass through for ASL Retry.
 */
async function metadataWrite<T>(where: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (error instanceof AuthError)
      throw new AuthError(ADMIN_KEY_NEEDED, { cause: error, code: 'ADMIN_KEY_NEEDED' });
    if (error instanceof ValidationError)
      throw new SchemaConflictError(`Twenty refused to create ${where}: ${error.message}`, {
        cause: error,
        code: 'SCHEMA_CONFLICT',
      });
    throw error;
  }
}

/**
 * Executes a schema diff in dependency order — custom objects, then plain fields (with their SELECT
 * options), then options missing on existing custom SELECT fields, then custom relations (both ends
 * exist by then). Each creation is skipped when the live model already has it (a retried stage after
 * a timeout), and the ledger gets one `schema-created` entry per creation even if a later write
 * fails, so a half-applied schema can still be rolled back.
 */
export async function applySchemaChanges(
  changes: SchemaChanges,
  twenty: TwentyApi,
  context: ApplySchemaContext,
): Promise<AppliedSchema> {
  assertNoConflicts(changes);
  const { runId, clock, ledger, log } = context;
  const entries: LedgerEntry[] = [];
  const record = (
    entity: string,
    sourceId: string,
    twentyId: string,
    beforeImage?: Record<string, unknown>,
  ) =>
    entries.push({
      runId,
      phase: SCHEMA_LEDGER_PHASE,
      entity,
      sourceId,
      twentyId,
      op: 'schema-created',
      contentHash: '',
      ...(beforeImage ? { beforeImage } : {}),
      at: new Date(clock.now()).toISOString(),
    });
  const counts = { objectsCreated: 0, fieldsCreated: 0, optionsAdded: 0, relationsCreated: 0 };

  try {
    let model = await twenty.metadata();
    for (const object of changes.objects) {
      if (model.find(object.nameSingular)) continue;
      const created = await metadataWrite(`object ${object.nameSingular}`, () => twenty.createObject(object));
      record(object.nameSingular, object.nameSingular, created.id);
      counts.objectsCreated++;
    }
    if (counts.objectsCreated > 0) model = await twenty.refreshMetadata();

    for (const field of changes.fields) {
      const object = model.object(field.object);
      if (object.fields.some((f) => f.name === field.name)) continue;
      const created = await metadataWrite(`${field.object}.${field.name}`, () =>
        twenty.createField({
          objectMetadataId: object.id,
          type: field.type,
          name: field.name,
          label: field.label,
          ...(field.description !== undefined ? { description: field.description } : {}),
          ...(field.icon !== undefined ? { icon: field.icon } : {}),
          ...(field.options ? { options: field.options } : {}),
        }),
      );
      record(field.object, `${field.object}.${field.name}`, created.id);
      counts.fieldsCreated++;
    }

    for (const add of changes.options) {
      const before: readonly SelectOption[] = model.field(add.object, add.field)?.options ?? add.existing;
      const present = new Set(before.map((o) => o.value));
      const missing = add.options.filter((o) => !present.has(o.value));
      if (missing.length === 0) continue;
      const updated = await metadataWrite(`${add.object}.${add.field} options`, () =>
        twenty.addSelectOptions(add.object, add.field, missing),
      );
      // The before-image is the option list as it was: rollback restores it.
      record(add.object, `${add.object}.${add.field}:options`, updated.id, {
        options: before.map((o) => ({ value: o.value, label: o.label, color: o.color })),
      });
      counts.optionsAdded += missing.length;
    }
    if (counts.fieldsCreated + counts.optionsAdded > 0) model = await twenty.refreshMetadata();

    for (const relation of changes.relations) {
      const object = model.object(relation.object);
      if (object.fields.some((f) => f.joinColumnName === relation.joinColumn || f.name === relation.name))
        continue;
      const target = model.object(relation.target);
      const created = await metadataWrite(`${relation.object}.${relation.name}`, () =>
        twenty.createField({
          objectMetadataId: object.id,
          type: 'RELATION',
          name: relation.name,
          label: relation.label,
          ...(relation.icon !== undefined ? { icon: relation.icon } : {}),
          relationCreationPayload: {
            targetObjectMetadataId: target.id,
            targetFieldLabel: relation.targetFieldLabel,
            ...(relation.icon !== undefined ? { targetFieldIcon: relation.icon } : {}),
            type: 'MANY_TO_ONE',
          },
        }),
      );
      record(relation.object, `${relation.object}.${relation.name}`, created.id);
      counts.relationsCreated++;
      // A self-relation or two relations on one object: the next one must see this one.
      model = await twenty.refreshMetadata();
    }
  } finally {
    if (ledger && entries.length > 0) await ledger.appendMany(entries);
    log?.info('schema applied', { runId, ...counts, ledgerEntries: entries.length });
  }
  return counts;
}
