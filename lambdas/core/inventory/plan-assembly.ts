import { basename } from 'node:path';
import type { ObjectStore } from '../../ports/object-store.ts';
import { readCsv } from '../csv/reader.ts';
import { ValidationError } from '../errors.ts';
import { phiProblems, type SourceCells } from '../mapping/map-record.ts';
import { parseMappingSpec, parseMappingYaml } from '../mapping/spec.ts';
import { mappingKeyFor } from '../run-layout.ts';
import { fhirMappingPlan } from '../sources/fhir/plan.ts';
import { bindPivots, type EntityPivot } from '../sources/pivot.ts';
import { type DurationEstimate, estimateDuration } from './estimate.ts';
import type { ExportInspection } from './inspect-export.ts';
import {
  columnsMissing,
  filesOf,
  type MappingChoice,
  type MappingPlan,
  planMapping,
  storableSpec,
} from './mapping-plan.ts';
import { type Plan, type PlanFile, PlanSchema } from './plan.ts';

/**
 * Inventory's plan from what it inspected: the mapping (operator YAML, profile or auto-mapper, plus
 * pivot fields), the duration estimate, and plan.json itself.
 */

/**
 * Adds the custom fields of long-format (pivot) files to the mapping: each entity with a `pivot`
 * gets one typed field per property name found in its pivot file (lambdas/core/sources/pivot.ts),
 * so ApplySchema creates them and Prepare maps them like any column. Values stay in memory only.
 */
export async function withPivotFields(
  drop: ObjectStore,
  mapping: MappingPlan,
  files: readonly PlanFile[],
): Promise<MappingPlan> {
  if (!Object.values(mapping.spec.entities).some((e) => e.pivot !== undefined)) return mapping;
  const readRows = async (_entity: string, pivot: EntityPivot): Promise<SourceCells[]> => {
    const rows: SourceCells[] = [];
    for (const file of files.filter(
      (f) =>
        filesOf({ files: pivot.files }, [{ stem: f.stem, name: f.name, header: f.header, sample: [] }])
          .length > 0,
    )) {
      await readCsv(
        await drop.getStream(file.key),
        { file: file.name, encoding: file.encoding, delimiter: file.delimiter },
        {
          row(row) {
            const cells: Record<string, string> = {};
            file.header.forEach((h, c) => {
              cells[h] = c < row.width && !row.isEmpty(c) ? row.cell(c) : '';
            });
            rows.push(cells);
          },
          reject() {},
        },
      );
    }
    return rows;
  };
  const spec = parseMappingSpec(
    await bindPivots(storableSpec(mapping.spec), readRows),
    'mapping with pivots',
  );
  return { ...mapping, spec };
}

/**
 * The run's mapping: the operator's YAML (`mappingKey` in the drop bucket) when given, else the
 * forced or detected profile, else the auto-mapper; then the pivot files' fields.
 */
export async function mappingFor(
  drop: ObjectStore,
  inspection: Pick<ExportInspection, 'files' | 'mappingFiles' | 'fhir'>,
  choice: {
    readonly source?: MappingChoice['source'];
    readonly mappingKey?: string;
    readonly fhirEncounters?: 'encounter' | 'opportunity';
  },
): Promise<MappingPlan> {
  // A FHIR bulk export (its manifest found) maps with the FHIR profile unless the operator says otherwise.
  if (
    inspection.fhir !== undefined &&
    choice.mappingKey === undefined &&
    (choice.source === undefined || choice.source === 'auto' || choice.source === 'fhir')
  )
    return fhirMappingPlan(inspection.fhir, inspection.mappingFiles, {
      ...(choice.fhirEncounters !== undefined ? { encounters: choice.fhirEncounters } : {}),
    });
  if (choice.source === 'fhir' && choice.mappingKey === undefined)
    throw new ValidationError(
      'source fhir needs a FHIR bulk export: the folder holds no manifest (a JSON file with transactionTime and output) beside its NDJSON files',
      { code: 'FHIR_MANIFEST_MISSING' },
    );
  const empty = inspection.mappingFiles.filter((f) => f.header.length === 0).map((f) => f.name);
  if (empty.length > 0 && empty.length === inspection.mappingFiles.length)
    throw new ValidationError(
      `the export holds nothing to migrate: ${empty.join(', ')} ${empty.length === 1 ? 'is' : 'are'} empty (no header, no rows)`,
      { code: 'NO_DATA' },
    );
  const operatorSpec =
    choice.mappingKey === undefined
      ? undefined
      : parseMappingYaml(await drop.getText(choice.mappingKey), basename(choice.mappingKey));
  if (operatorSpec !== undefined && choice.mappingKey !== undefined) {
    // Refused here, before the plan is approved: ApplySchema would otherwise create its fields first.
    const forbidden = Object.entries(operatorSpec.entities).flatMap(([name, entity]) =>
      phiProblems(name, entity, operatorSpec.phi),
    );
    if (forbidden.length > 0)
      throw new ValidationError(`${basename(choice.mappingKey)}: ${forbidden.join('; ')}`, {
        code: 'PHI_FORBIDDEN',
      });
    const missing = columnsMissing(operatorSpec, inspection.mappingFiles);
    if (missing.length > 0)
      throw new ValidationError(`${basename(choice.mappingKey)}: ${missing.join('; ')}`, {
        code: 'MAPPING_COLUMN_MISSING',
      });
  }
  return withPivotFields(
    drop,
    planMapping(inspection.mappingFiles, {
      ...(choice.source === undefined ? {} : { source: choice.source }),
      ...(operatorSpec === undefined ? {} : { operatorSpec }),
    }),
    inspection.files,
  );
}

/** The duration estimate: each mapped entity's rows (the plan's counts of the files it reads). */
export function estimateRun(
  mapping: MappingPlan,
  inspection: Pick<ExportInspection, 'files' | 'mappingFiles'>,
  rate: string,
  batchMax: number,
): DurationEstimate {
  const { files, mappingFiles } = inspection;
  return estimateDuration(
    Object.entries(mapping.spec.entities).map(([entity, spec]) => {
      const rows = filesOf(spec, mappingFiles).reduce(
        (sum, f) => sum + (files.find((p) => p.name === f.name)?.rows ?? 0),
        0,
      );
      return {
        entity,
        rows,
        targetsPerRecord: spec.targets.length,
        uploads: spec.target === 'attachment' ? rows : 0,
      };
    }),
    rate,
    batchMax,
  );
}

/** What plan.json says beyond the inspection: the run, its mapping and what the target told. */
export interface PlanContext {
  readonly runId: string;
  readonly folder: string;
  readonly createdAt: string;
  readonly sourceInstance: string;
  readonly options: Readonly<Record<string, unknown>>;
  readonly mapping: MappingPlan;
  readonly schemaDiff: unknown;
  readonly mergeCandidates: { people: number; companies: number } | null;
  readonly estimate: DurationEstimate;
}

/** `runs/<runId>/plan.json`, validated: names, hashes, counts and inferred types — no values. */
export function assemblePlan(inspection: ExportInspection, context: PlanContext): Plan {
  const { files, attachments, warnings, errors } = inspection;
  const { runId, mapping } = context;
  return PlanSchema.parse({
    version: 1,
    runId,
    folder: context.folder,
    createdAt: context.createdAt,
    files,
    attachments,
    totals: {
      dataFiles: files.length,
      attachments: attachments.length,
      bytes: files.reduce((sum, f) => sum + f.bytes, 0) + attachments.reduce((sum, a) => sum + a.bytes, 0),
      rows: files.reduce((sum, f) => sum + f.rows, 0),
      malformedRows: files.reduce((sum, f) => sum + f.malformedRows, 0),
      blankLines: files.reduce((sum, f) => sum + f.blankLines, 0),
    },
    warnings,
    errors,
    source: mapping.source,
    sourceInstance: context.sourceInstance,
    /** The run's operator options (CLI flags merged over ferry.json): later stages read theirs here. */
    options: context.options,
    mapping: {
      origin: mapping.origin,
      detection: mapping.detection,
      key: mappingKeyFor(runId),
      spec: storableSpec(mapping.spec),
      confidence: mapping.confidence,
      unmappedColumns: mapping.unmappedColumns,
      unmappedFiles: mapping.unmappedFiles,
      auxiliaryFiles: mapping.auxiliaryFiles,
      excluded: mapping.excluded,
      blocking: mapping.blocking,
      links: mapping.links,
    },
    schemaDiff: context.schemaDiff,
    mergeCandidates: context.mergeCandidates,
    estimate: context.estimate,
    ...(inspection.fhir !== undefined ? { fhir: inspection.fhir } : {}),
  });
}
