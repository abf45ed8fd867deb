import { FhirPlanSectionSchema } from '../sources/fhir/manifest.ts';
import type { DurationEstimate } from './estimate.ts';
import type { MappingPlan } from './mapping-plan.ts';
import type { Plan } from './plan.ts';

/** What the plan report shows besides the plan itself; every part is names and counts. */
export interface PlanReportExtras {
  readonly mapping: MappingPlan;
  readonly estimate: DurationEstimate;
  readonly sourceInstance: string;
  /** Null when no Twenty target was reachable from Inventory (offline `ferry plan`). */
  readonly schemaChanges: readonly string[] | null;
  readonly mergeCandidates: { readonly people: number; readonly companies: number } | null;
}

const cell = (text: string): string => text.replaceAll('|', '\\|').replaceAll('\n', ' ');

/**
 * `runs/<runId>/plan.md`: the plan an operator approves, readable without tools. It lists files,
 * the mapping (entity → object, per-column confidence, what is not migrated and why), the schema
 * changes, merge candidates and the duration estimate. No field value appears: only names, counts.
 */
export function renderPlanReport(plan: Plan, extras: PlanReportExtras): string {
  const { mapping, estimate } = extras;
  const out: string[] = [];
  out.push(`# Ferry plan for run ${plan.runId}`, '');
  out.push(`- Drop folder: \`${plan.folder}\` (source instance \`${extras.sourceInstance}\`)`);
  out.push(
    `- Source system: **${mapping.source}** (${mapping.origin} mapping; detection ${mapping.detection.source} ` +
      `at ${Math.round(mapping.detection.confidence * 100)}%)`,
  );
  if (mapping.detection.evidence !== undefined)
    out.push(`- Source system told by ${mapping.detection.evidence}`);
  if (mapping.detection.profile !== undefined)
    out.push(
      `- Profile: ${mapping.detection.profile}${mapping.origin === 'auto' ? '; the auto-mapper maps the export' : ''}`,
    );
  out.push(
    `- ${plan.totals.dataFiles} data files, ${plan.totals.rows} rows (${plan.totals.malformedRows} unreadable), ` +
      `${plan.totals.attachments} documents`,
  );
  const fhir = FhirPlanSectionSchema.safeParse(plan.fhir);
  if (fhir.success)
    out.push(
      `- FHIR bulk export: manifest \`${cell(fhir.data.manifest)}\`, transactionTime ${cell(fhir.data.transactionTime)} ` +
        `(the \`_since\` of the next export), ${Object.keys(fhir.data.files).length} NDJSON files; Rows are NDJSON lines`,
    );
  out.push(
    `- Estimate: ${estimate.requests} requests at ${estimate.rate} (${estimate.requestsPerMinute}/min, batches of ` +
      `${estimate.batchMax}) ≈ ${estimate.minutes} minutes`,
  );
  out.push('');
  out.push('## Files', '', '| File | Rows | Unreadable | Encoding | Delimiter |', '|---|---:|---:|---|---|');
  for (const f of plan.files)
    out.push(
      `| ${cell(f.name)} | ${f.rows} | ${f.malformedRows} | ${f.encoding} | ${JSON.stringify(f.delimiter)} |`,
    );
  out.push('');
  out.push(
    '## Mapping',
    '',
    '| Entity | Twenty object | Files | Columns | Lowest confidence |',
    '|---|---|---|---:|---:|',
  );
  for (const [name, entity] of Object.entries(mapping.spec.entities)) {
    const conf = Object.values(mapping.confidence[name] ?? {});
    const lowest = conf.length === 0 ? '-' : `${Math.round(Math.min(...conf) * 100)}%`;
    out.push(
      `| ${cell(name)} | ${entity.target} | ${cell(entity.files.join(', '))} | ${conf.length} | ${lowest} |`,
    );
  }
  for (const aux of mapping.auxiliaryFiles)
    out.push(
      '',
      `- ${cell(aux.file)}: ${aux.kind === 'pivot' ? 'custom properties of' : 'rebuild reference'} ${aux.entity}`,
    );
  if (mapping.links.length > 0) {
    out.push('', 'Links to parent records (sampled values of the column that are ids of the parent file):');
    for (const l of mapping.links)
      out.push(
        `- ${cell(l.file)}: ${cell(l.column)} → ${cell(l.parent)} (${cell(l.parentFile)}): ${l.resolved} of ${l.sampled}` +
          (l.sampled === 0 ? '' : ` (${Math.round((100 * l.resolved) / l.sampled)}%)`),
      );
  }
  if (mapping.unmappedFiles.length > 0)
    out.push('', `Files no entity reads: ${mapping.unmappedFiles.map(cell).join(', ')}`);
  if (mapping.unmappedColumns.length > 0) {
    out.push('', 'Columns not migrated (add them to the mapping to keep them):');
    for (const c of mapping.unmappedColumns) out.push(`- ${cell(c.file)}: ${cell(c.column)}`);
  }
  if (mapping.excluded.length > 0) {
    out.push('', 'Columns excluded by the PHI policy:');
    for (const c of mapping.excluded) out.push(`- ${cell(c.file)}: ${cell(c.column)} (${c.rule})`);
  }
  if (mapping.blocking.length > 0) {
    out.push(
      '',
      '### To confirm before loading',
      '',
      '`ferry run --yes` stops on these until a mapping file (`--mapping`) or `--accept-plan` settles them:',
      '',
    );
    for (const b of mapping.blocking)
      out.push(
        `- ${cell(b.file)}${b.column ? `: ${cell(b.column)}` : ''} — ${cell(b.entity)}.${cell(b.field)}: ${cell(b.rule)}` +
          (b.alternatives !== undefined && b.alternatives.length > 0
            ? ` (other columns: ${b.alternatives.map(cell).join(', ')})`
            : ''),
      );
  }
  out.push('', '## Schema changes in Twenty', '');
  if (extras.schemaChanges === null) out.push('Not computed: no Twenty target was available to Inventory.');
  else if (extras.schemaChanges.length === 0)
    out.push('None: the workspace already has every object and field.');
  else for (const change of extras.schemaChanges) out.push(`- ${change}`);
  out.push('', '## Records already in Twenty', '');
  if (extras.mergeCandidates === null) out.push('Not checked: no Twenty target was available to Inventory.');
  else
    out.push(
      `${extras.mergeCandidates.people} people (by primary email) and ${extras.mergeCandidates.companies} ` +
        'companies (by domain) exist; source records matching them update those records (a before-image is kept).',
    );
  if (plan.warnings.length > 0 || plan.errors.length > 0) {
    out.push('', '## Findings', '');
    for (const issue of [...plan.errors, ...plan.warnings])
      out.push(`- ${issue.code}: ${cell(issue.message)}`);
  }
  out.push('');
  return out.join('\n');
}
