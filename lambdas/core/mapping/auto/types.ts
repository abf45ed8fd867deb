/** The auto-mapper's inputs and outputs. */

import type { CustomFieldType, MappingSpecInput, SourceSystem } from '../spec.ts';
import type { InferredKind } from './infer.ts';
import type { ProposedValueMap } from './targets.ts';

/** A column Ferry does not map onto a standard field: it becomes a custom field, never dropped. */
export interface UnmappedColumn {
  readonly file: string;
  readonly column: string;
  readonly inferredType: InferredKind;
  readonly proposedCustomField: {
    readonly name: string;
    readonly type: CustomFieldType;
    readonly label: string;
  } | null;
}

/** A column the PHI policy excludes (SSN by name or by value shape), reported to the operator. */
export interface ExcludedColumn {
  readonly file: string;
  readonly column: string;
  readonly rule: string;
}

export interface SampledFile {
  /** File name without extension, e.g. 'patients' or 'PtDemographics_2024'. */
  readonly stem: string;
  readonly header: readonly string[];
  /** Sample rows, cells in header order. */
  readonly sample: readonly (readonly string[])[];
  /** File name in the drop folder, when it is not `<stem>.csv`. */
  readonly name?: string;
  /** Every value of the file's key columns (distinct, short values), when the reader collected them. */
  readonly keys?: Readonly<Record<string, ReadonlySet<string>>>;
}

/** Optional knowledge from a detected profile: the source system and entity name per file stem. */
export interface ProfileHints {
  readonly source?: SourceSystem;
  readonly entityByStem?: Readonly<Record<string, { entity: string; target: string }>>;
  readonly defaultCountry?: string;
  /** The system's date order: what a date column whose sampled values do not settle it is read with. */
  readonly dateOrder?: 'MDY' | 'DMY' | 'YMD';
}

export interface ProposedMapping {
  readonly spec: MappingSpecInput;
  /** entity → column → 0..1 (1 = exact synonym with matching values). */
  readonly confidence: Record<string, Record<string, number>>;
  readonly unmapped: UnmappedColumn[];
  readonly excluded: ExcludedColumn[];
  /** SELECT value maps the auto-mapper guessed (standard status/stage, or the custom fallback). */
  readonly valueMaps: ProposedValueMap[];
}
