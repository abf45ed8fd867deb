import type { ObjectStore } from '../../ports/object-store.ts';
import type { ChunkManifest } from '../inventory/manifest.ts';
import type { Plan } from '../inventory/plan.ts';
import type { FieldSpec, MappingSpec } from '../mapping/spec.ts';
import { compileSelect, select } from '../mapping/transforms/select.ts';
import { type SeenOptionValues, seenKey } from './diff.ts';
import { chunkRows, entityChunks } from './run-inputs.ts';

/** A select field whose options grow with the data (`unmapped: addOption`). */
function growsOptions(field: FieldSpec): boolean {
  return (
    (field.transform === 'select' || field.transform === 'multiSelect') && field.unmapped === 'addOption'
  );
}

function firstColumn(field: FieldSpec): string | undefined {
  if (typeof field.from === 'string') return field.from;
  if (Array.isArray(field.from)) return field.from[0];
  return undefined;
}

/**
 * The option values the source will write into `addOption` select fields, found by running the
 * field's own select transform over the Segment chunks — so ApplySchema creates exactly the options
 * LoadChunk will send (Twenty refuses a value that is not an option). Only the select columns are
 * read; nothing is kept but option values and their first-seen labels.
 */
export async function collectSeenOptionValues(
  mapping: MappingSpec,
  plan: Plan,
  manifest: ChunkManifest,
  work: ObjectStore,
): Promise<SeenOptionValues> {
  const seen = new Map<string, Map<string, string>>();
  for (const [entityName, entity] of Object.entries(mapping.entities)) {
    const fields = Object.entries(entity.fields)
      .filter(([, field]) => growsOptions(field))
      .map(([name, field]) => ({
        key: seenKey(entityName, name),
        column: firstColumn(field),
        field,
        compiled: compileSelect({ ...field, options: field.custom?.options }),
      }))
      .filter((f) => f.column !== undefined);
    if (fields.length === 0) continue;
    for (const f of fields) seen.set(f.key, new Map());
    for (const { chunks } of entityChunks(entity.files, plan, manifest)) {
      for await (const row of chunkRows(work, chunks)) {
        for (const f of fields) {
          const raw = row.cells[f.column as string] ?? '';
          if (raw.trim() === '') continue;
          const parts = f.field.transform === 'multiSelect' ? raw.split(f.field.separator) : [raw];
          const values = seen.get(f.key) as Map<string, string>;
          for (const part of parts) {
            if (part.trim() === '') continue;
            const result = select(part, f.compiled);
            if (!result.ok || typeof result.value !== 'string') continue;
            if (!values.has(result.value)) values.set(result.value, part.trim());
          }
        }
      }
    }
  }
  return seen;
}
