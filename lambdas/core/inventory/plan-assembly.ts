import { basename } from 'node:path';
import type { ObjectStore } from '../../ports/object-store.ts';
import { readCsv } from '../csv/reader.ts';
import type { SourceCells } from '../mapping/map-record.ts';
import { parseMappingSpec, parseMappingYaml } from '../mapping/spec.ts';
import { mappingKeyFor } from '../run-layout.ts';
import { bindPivots, type EntityPivot } from '../sources/pivot.ts';
import { type DurationEstimate, estimateDuration } from './estimate.ts';
import type { ExportInspection } from './inspect-export.ts';
import { filesOf, type MappingChoice, type MappingPlan, planMapping, storableSpec } from './mapping-plan.ts';
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
  inspection: Pick<ExportInspection, 'files' | 'mappingFiles'>,
  choice: { readonly source?: MappingChoice['source']; readonly mappingKey?: string },
): Promise<MappingPlan> {
  const operatorSpec =
    choice.mappingKey === undefined
      ? undefined
      : parseMappingYaml(await drop.getText(choice.mappingKey), basename(choice.mappingKey));
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
  });
}
