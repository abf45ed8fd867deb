import type { Ledger } from '../../../ports/ledger.ts';
import type { ObjectStore } from '../../../ports/object-store.ts';
import type { Plan } from '../../inventory/plan.ts';
import type { MappingSpec } from '../../mapping/spec.ts';
import { FHIR_ENTITY_TYPES } from '../fhir.ts';
import { readableJsonLines } from './json-lines.ts';
import { type FhirPlanSection, FhirPlanSectionSchema } from './manifest.ts';

/**
 * A `_since` bulk export holds only what changed after the instant (plus, at the server's choice,
 * resources those reference), and its `deleted[]` files name what was deleted. Ferry reads such an
 * export as a partial view of the source: a reference to a record an earlier run of the same source
 * loaded resolves through the id map instead of being an orphan, and a record the export does not
 * hold is unchanged, not missing — only its deletions are missing in the source.
 */

/** plan.json's `fhir` section, when the run's source is a FHIR bulk export. */
export function fhirSectionOf(plan: Plan | undefined): FhirPlanSection | undefined {
  if (plan?.fhir === undefined) return undefined;
  const parsed = FhirPlanSectionSchema.safeParse(plan.fhir);
  return parsed.success ? parsed.data : undefined;
}

/**
 * True when the manifest's `request` (the kick-off URL the server echoes) carried `_since`: the
 * export is incremental. A manifest without `request` is read as a full export (Ferry cannot tell,
 * and a full export's reading — absence means missing — never deletes without `--propagate-deletes`).
 */
export function isIncrementalExport(fhir: FhirPlanSection | undefined): boolean {
  const request = fhir?.request;
  if (request === undefined || request === '') return false;
  const query = request.includes('?') ? request.slice(request.indexOf('?') + 1) : '';
  return query.split('&').some((pair) => {
    const name = pair.split('=')[0] ?? '';
    let decoded = name;
    try {
      decoded = decodeURIComponent(name);
    } catch {
      // a malformed escape: compare the raw name
    }
    return decoded === '_since' && pair.length > name.length + 1;
  });
}

/** The entities other entities reference (relations and activity targets): the ones a child may point at. */
export function referencedEntities(mapping: MappingSpec): string[] {
  const out = new Set<string>();
  for (const entity of Object.values(mapping.entities)) {
    for (const rel of Object.values(entity.relations)) out.add(rel.entity);
    for (const t of entity.targets) out.add(t.entity);
  }
  return [...out].sort();
}

/**
 * Entity → source id → Twenty id of every record earlier runs of this source instance loaded (the
 * id map: the deterministic id, or the pre-existing record a run merged into). Prepare reads it for
 * an incremental export only, and only for the entities children reference.
 */
export async function priorRecords(
  ledger: Ledger,
  sourceInstance: string,
  entities: readonly string[],
): Promise<Map<string, Map<string, string>>> {
  const out = new Map<string, Map<string, string>>();
  for (const entity of entities) {
    const ids = new Map<string, string>();
    for await (const row of ledger.scanIdMap(sourceInstance, entity)) ids.set(row.sourceId, row.twentyId);
    out.set(entity, ids);
  }
  return out;
}

/** `Patient/123`, `https://ehr.example/fhir/Patient/123/_history/2` → `['Patient', '123']`. */
export function deletedResourceOf(url: string): [string, string] | undefined {
  const parts = url
    .replace(/[?#].*$/, '')
    .replace(/\/_history\/[^/]+$/, '')
    .split('/')
    .filter((p) => p !== '');
  const type = parts.at(-2);
  const id = parts.at(-1);
  if (type === undefined || id === undefined || !/^[A-Z][A-Za-z]+$/.test(type)) return undefined;
  return [type, id];
}

/**
 * Entity → source ids the export's `deleted[]` files name (Bundles whose entries carry
 * `request.url` = `<Type>/<id>`), for the entities of the default FHIR map. A line that is not
 * JSON, an entry without a readable url or of a type no entity reads is passed over: those lines
 * are already skipped DELETED_IN_SOURCE and summarised in the plan.
 */
export async function fhirDeletions(
  drop: ObjectStore,
  plan: Plan,
  fhir: FhirPlanSection,
): Promise<Map<string, Set<string>>> {
  const entityOfType = new Map(Object.entries(FHIR_ENTITY_TYPES).map(([entity, type]) => [type, entity]));
  const out = new Map<string, Set<string>>();
  for (const file of plan.files) {
    if (fhir.files[file.name]?.role !== 'deleted') continue;
    for await (const json of readableJsonLines(drop, file.key)) {
      const entries = (json as { entry?: unknown } | null)?.entry;
      for (const entry of Array.isArray(entries) ? entries : []) {
        const url = (entry as { request?: { url?: unknown } } | null)?.request?.url;
        const resource = typeof url === 'string' ? deletedResourceOf(url) : undefined;
        const entity = resource === undefined ? undefined : entityOfType.get(resource[0]);
        if (entity === undefined || resource === undefined) continue;
        const ids = out.get(entity) ?? new Set<string>();
        ids.add(resource[1]);
        out.set(entity, ids);
      }
    }
  }
  return out;
}

/**
 * What "missing from the export" means for this run: `undefined` for a full export (every id-map row
 * the export does not hold), else, for a `_since` export, only the records its `deleted[]` files name.
 */
export async function missingScope(
  drop: ObjectStore,
  plan: Plan | undefined,
): Promise<ReadonlyMap<string, ReadonlySet<string>> | undefined> {
  const fhir = fhirSectionOf(plan);
  if (plan === undefined || fhir === undefined || !isIncrementalExport(fhir)) return undefined;
  return fhirDeletions(drop, plan, fhir);
}
