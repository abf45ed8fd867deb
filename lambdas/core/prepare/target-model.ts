import { z } from 'zod';
import type { TwentyModel } from '../../ports/twenty-model.ts';
import { SchemaConflictError } from '../errors.ts';
import type { MappingSpec } from '../mapping/spec.ts';

/**
 * `runs/<runId>/target-model.json`: the little Prepare needs to know about the target workspace,
 * written by Inventory/ApplySchema from the live metadata so that Prepare itself never calls
 * Twenty. Names differ between Twenty generations (v1 `personId` vs v2 `targetPersonId` on
 * taskTarget/noteTarget/attachment), and REST routes use plural names; everything else Prepare
 * derives from the mapping spec.
 */

const camel = z.string().regex(/^[a-z][a-zA-Z0-9]*$/);

/** The objects that point at a record through a polymorphic target column. */
export const TARGET_CARRIERS = ['taskTarget', 'noteTarget', 'attachment'] as const;
export type TargetCarrierName = (typeof TARGET_CARRIERS)[number];

export const TargetModelSchema = z.object({
  flavor: z.enum(['v1', 'v2']),
  /** nameSingular → namePlural (REST route) for every object the mapping writes. */
  plural: z.record(camel, camel),
  /** Carrier → target object nameSingular → join column on the carrier (`targetPersonId`, `personId`). */
  joinColumns: z.object({
    taskTarget: z.record(camel, camel).default({}),
    noteTarget: z.record(camel, camel).default({}),
    attachment: z.record(camel, camel).default({}),
  }),
  /** Column of a taskTarget/noteTarget pointing at its task/note. */
  activityColumns: z
    .object({ taskTarget: camel.default('taskId'), noteTarget: camel.default('noteId') })
    .default({ taskTarget: 'taskId', noteTarget: 'noteId' }),
  /**
   * Optional: object nameSingular → field name → Twenty field type, for the objects the mapping
   * writes (a record of what the workspace had when the run was planned; Prepare does not need it).
   */
  fields: z.record(camel, z.record(z.string(), z.string())).optional(),
});
export type TargetModel = z.infer<typeof TargetModelSchema>;
export type TargetModelInput = z.input<typeof TargetModelSchema>;

function tryJoinColumn(model: TwentyModel, target: string, carrier: TargetCarrierName): string | undefined {
  if (model.find(carrier) === undefined || model.find(target) === undefined) return undefined;
  try {
    return model.joinColumn(target, carrier);
  } catch (error) {
    if (error instanceof SchemaConflictError) return undefined;
    throw error;
  }
}

function activityColumn(model: TwentyModel, carrier: 'taskTarget' | 'noteTarget', fallback: string): string {
  const activity = carrier === 'taskTarget' ? 'task' : 'note';
  const columns = model.find(carrier) ? model.joinColumns(carrier) : [];
  return columns.includes(fallback) ? fallback : (tryJoinColumn(model, activity, carrier) ?? fallback);
}

/**
 * Builds the target model from the live metadata (after ApplySchema, so custom objects exist) and
 * the mapping: plural names of every object the mapping writes (custom objects not yet created
 * fall back to the spec's `namePlural`), the join column each carrier uses for each object an
 * entity of the mapping is targeted by, and the field types of the written objects.
 * SchemaConflictError when an object the mapping writes is neither in Twenty nor in the spec.
 */
export function targetModelFrom(model: TwentyModel, mapping: MappingSpec): TargetModel {
  const plural: Record<string, string> = {};
  const fields: Record<string, Record<string, string>> = {};
  const customPlural = new Map(mapping.customObjects.map((o) => [o.nameSingular, o.namePlural]));
  const objects = new Set<string>();
  for (const entity of Object.values(mapping.entities)) objects.add(entity.target);
  for (const carrier of TARGET_CARRIERS) if (model.find(carrier)) objects.add(carrier);
  for (const object of objects) {
    const meta = model.find(object);
    const name = meta?.namePlural ?? customPlural.get(object);
    if (name === undefined) {
      if ((TARGET_CARRIERS as readonly string[]).includes(object)) continue;
      throw new SchemaConflictError(
        `Twenty workspace has no object ${object} and the mapping does not create it`,
      );
    }
    plural[object] = name;
    if (meta) fields[object] = Object.fromEntries(meta.fields.map((f) => [f.name, f.type]));
  }
  const joinColumns: TargetModel['joinColumns'] = { taskTarget: {}, noteTarget: {}, attachment: {} };
  const targeted = new Set<string>();
  for (const entity of Object.values(mapping.entities))
    for (const t of entity.targets) {
      const target = mapping.entities[t.entity]?.target;
      if (target !== undefined) targeted.add(target);
    }
  for (const carrier of TARGET_CARRIERS)
    for (const target of targeted) {
      const column = tryJoinColumn(model, target, carrier);
      if (column !== undefined) joinColumns[carrier][target] = column;
    }
  return {
    flavor: model.flavor,
    plural,
    joinColumns,
    activityColumns: {
      taskTarget: activityColumn(model, 'taskTarget', 'taskId'),
      noteTarget: activityColumn(model, 'noteTarget', 'noteId'),
    },
    fields,
  };
}
