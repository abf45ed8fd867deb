import type { MappingSpec } from '../../core/mapping/spec.ts';
import { changeCounts, describeConflict, diffSchema } from '../../core/schema/diff.ts';
import type { TwentyModel } from '../../ports/twenty-model.ts';

/** The plan's view of a schema diff: counts, names of what ApplySchema will create, conflicts. */
export interface PlanSchemaDiff {
  readonly diff: {
    readonly counts: ReturnType<typeof changeCounts>;
    readonly objects: string[];
    readonly fields: string[];
    readonly options: string[];
    readonly relations: string[];
    readonly conflicts: string[];
  };
  /** One readable line per change, for plan.md. */
  readonly changes: string[];
}

/**
 * The schema diff Inventory shows for approval, from the live metadata and the mapping (options
 * known up front only: values seen in the rows are added by ApplySchema after Segment). Conflicts
 * are listed, not thrown: the operator fixes the mapping before approving.
 */
export function schemaDiffOf(mapping: MappingSpec, model: TwentyModel): PlanSchemaDiff {
  const changes = diffSchema(mapping, model);
  const objects = changes.objects.map((o) => o.nameSingular);
  const fields = changes.fields.map((f) => `${f.object}.${f.name} (${f.type})`);
  const options = changes.options.map((o) => `${o.object}.${o.field} +${o.options.length} options`);
  const relations = changes.relations.map((r) => `${r.object}.${r.name} → ${r.target}`);
  const conflicts = changes.conflicts.map(describeConflict);
  return {
    diff: { counts: changeCounts(changes), objects, fields, options, relations, conflicts },
    changes: [
      ...objects.map((o) => `create object ${o}`),
      ...fields.map((f) => `create field ${f}`),
      ...options.map((o) => `add options to ${o}`),
      ...relations.map((r) => `create relation ${r}`),
      ...conflicts.map((c) => `CONFLICT ${c}`),
    ],
  };
}
