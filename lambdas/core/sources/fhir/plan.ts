import type { MappingFile, MappingPlan } from '../../inventory/mapping-plan.ts';
import { columnsRead, parentLinks } from '../../inventory/mapping-plan.ts';
import { type EntitySpecInput, parseMappingSpec } from '../../mapping/spec.ts';
import { ENCOUNTERS_AS_OPPORTUNITIES, FHIR_ENTITY_TYPES, fhirProfile } from '../fhir.ts';
import { isIncrementalExport } from './incremental.ts';
import type { FhirPlanSection } from './manifest.ts';

/**
 * The run's mapping for a FHIR bulk export: the FHIR profile's map, each entity reading the NDJSON
 * files the manifest lists for its resource type (several per type when the server split them),
 * entities without files left out with the relations and targets to them. The columns are the
 * canonical ones Segment writes, so nothing is guessed: confidence 1 and no plan-gate question.
 * Files of other types (PractitionerRole, Observation…) and the error files are unmapped: their
 * lines are counted and skipped with a reason. An incremental (`_since`) export holds only what
 * changed: an entity without files there keeps its place (reading `<Type>.ndjson`, which the
 * manifest would have typed had it been there), so the relations to it stay and resolve to the
 * records earlier runs loaded.
 */
export function fhirMappingPlan(
  fhir: FhirPlanSection,
  files: readonly MappingFile[],
  options: { readonly encounters?: 'encounter' | 'opportunity' } = {},
): MappingPlan {
  const namesOf = (type: string): string[] =>
    files
      .filter((f) => fhir.files[f.name]?.role === 'output' && fhir.files[f.name]?.type === type)
      .map((f) => f.name);
  const profileEntities = fhirProfile.mapping.entities as Record<string, EntitySpecInput>;
  const entities: Record<string, EntitySpecInput> = {};
  const incremental = isIncrementalExport(fhir);
  for (const [name, spec] of Object.entries(profileEntities)) {
    const type = FHIR_ENTITY_TYPES[name] ?? '';
    const names = namesOf(type);
    const chosen =
      name === 'encounters' && options.encounters === 'opportunity' ? ENCOUNTERS_AS_OPPORTUNITIES : spec;
    if (names.length > 0) entities[name] = { ...chosen, files: names };
    else if (incremental && type !== '') entities[name] = { ...chosen, files: [`${type}.ndjson`] };
  }
  for (const spec of Object.values(entities)) {
    spec.relations = Object.fromEntries(
      Object.entries(spec.relations ?? {}).filter(([, r]) => r.entity in entities),
    );
    spec.targets = (spec.targets ?? []).filter((t) => t.entity in entities);
  }
  const targets = new Set(Object.values(entities).map((e) => e.target));
  const customObjects = (fhirProfile.mapping.customObjects ?? []).filter((o) => targets.has(o.nameSingular));
  const spec = parseMappingSpec({ ...fhirProfile.mapping, entities, customObjects }, 'fhir profile');
  const confidence: Record<string, Record<string, number>> = {};
  const read = new Set<string>();
  for (const [name, entity] of Object.entries(spec.entities)) {
    confidence[name] = Object.fromEntries([...columnsRead(entity)].map((c) => [c, 1]));
    for (const f of entity.files) read.add(f);
  }
  return {
    source: 'fhir',
    origin: 'profile',
    detection: { source: 'fhir', confidence: 1, matchedEntities: Object.keys(spec.entities).sort() },
    spec,
    confidence,
    unmappedColumns: [],
    unmappedFiles: files.filter((f) => !read.has(f.name)).map((f) => f.name),
    auxiliaryFiles: [],
    excluded: [],
    blocking: [],
    links: parentLinks(spec, files),
  };
}
