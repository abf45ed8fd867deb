import type { ChunkManifestFile } from '../../inventory/manifest.ts';
import type { Plan } from '../../inventory/plan.ts';
import { NOT_MAPPED } from '../../prepare/stats.ts';
import { FHIR_COLUMNS } from './flatten.ts';
import { FhirPlanSectionSchema } from './manifest.ts';

/** Lines of the export's error files (OperationOutcome): the server's own report, nothing to load. */
export const EXPORT_ERROR = 'EXPORT_ERROR';

/**
 * Lines of the manifest's `deleted` files (a `_since` export's Bundles of deletions): no line is a
 * record to load. The deletions they name are what a delta of such an export reports as missing
 * (`incremental.ts`), deleted in Twenty only with `--propagate-deletes`.
 */
export const DELETED_IN_SOURCE = 'DELETED_IN_SOURCE';

/** Resources of a type Ferry has no map for (Observation, MedicationRequest…). */
export const UNSUPPORTED_RESOURCE_TYPE = 'UNSUPPORTED_RESOURCE_TYPE';

/**
 * Why the rows of a file no entity reads are skipped: for a FHIR export, an error file's lines are
 * EXPORT_ERROR, a deletion file's DELETED_IN_SOURCE, and a resource type Ferry does not flatten is UNSUPPORTED_RESOURCE_TYPE; any other
 * unread file (a FHIR type the operator's mapping leaves out, any CSV) is NOT_MAPPED.
 */
export function fhirSkipReason(
  plan: Plan,
  nameOf: (file: ChunkManifestFile) => string,
): (file: ChunkManifestFile) => string {
  const parsed = plan.fhir === undefined ? undefined : FhirPlanSectionSchema.safeParse(plan.fhir);
  const fhir = parsed?.success ? parsed.data : undefined;
  return (file) => {
    const entry = fhir?.files[nameOf(file)];
    if (entry === undefined) return NOT_MAPPED;
    if (entry.role === 'error') return EXPORT_ERROR;
    if (entry.role === 'deleted') return DELETED_IN_SOURCE;
    return entry.type in FHIR_COLUMNS ? NOT_MAPPED : UNSUPPORTED_RESOURCE_TYPE;
  };
}
