import type { ObjectStore, StoredObject } from '../../../ports/object-store.ts';
import { DataFileCollector, type DataFileOutcome } from '../../inventory/inspect-file.ts';
import type { PlanFile, PlanIssue } from '../../inventory/plan.ts';
import { deletedResourceOf } from './incremental.ts';
import { readableJsonLines } from './json-lines.ts';
import { BulkManifestSchema, type FhirPlanSection, fhirFilesOf, missingManifestFiles } from './manifest.ts';
import { readFhirNdjson } from './reader.ts';

/**
 * Inventory's look at a FHIR bulk export: the manifest that marks the drop folder as one, each
 * NDJSON file read as rows of its resource type, and the export's error files summarised for the
 * plan (issue severities and codes only — an OperationOutcome's diagnostics may quote a value).
 */

/**
 * The drop folder's bulk-export manifest and its files, or null when the folder is not a FHIR
 * export; `missing` lists the files the manifest names that are not in the folder (their resources
 * would be lost without a trace, so Inventory refuses the folder).
 */
export async function detectFhirExport(
  drop: ObjectStore,
  entries: readonly { object: StoredObject; name: string }[],
  ndjsonNames: readonly string[],
): Promise<{ section: FhirPlanSection; missing: string[] } | null> {
  const candidates = entries
    .filter((e) => /\.json$/i.test(e.name) && e.object.size < 16 * 1024 * 1024)
    .sort((a, b) => Number(!/manifest/i.test(a.name)) - Number(!/manifest/i.test(b.name)));
  for (const { object, name } of candidates) {
    let json: unknown;
    try {
      json = JSON.parse(await drop.getText(object.key));
    } catch {
      continue;
    }
    const parsed = BulkManifestSchema.safeParse(json);
    if (!parsed.success) continue;
    const manifest = parsed.data;
    return {
      section: {
        manifest: name,
        transactionTime: manifest.transactionTime,
        ...(manifest.request !== undefined ? { request: manifest.request } : {}),
        files: fhirFilesOf(manifest, ndjsonNames),
      },
      missing: missingManifestFiles(manifest, ndjsonNames),
    };
  }
  return null;
}

/** One NDJSON file of the export as a plan file: canonical header, counts, hash — no values. */
export async function inspectFhirFile(
  drop: ObjectStore,
  object: StoredObject,
  name: string,
  stem: string,
  resourceType: string,
): Promise<DataFileOutcome> {
  const collected = new DataFileCollector(name);
  const result = await readFhirNdjson(
    await drop.getStream(object.key),
    { file: name, resourceType },
    collected.visitor(),
  );
  const warnings: PlanIssue[] = [];
  if (result.rows === 0)
    warnings.push({ code: 'EMPTY_FILE', file: name, message: `${name} holds no ${resourceType} resources` });
  if (result.rejected > 0) {
    const reasons = Object.entries(result.rejectedByReason)
      .map(([reason, n]) => `${n} ${reason}`)
      .join(', ');
    warnings.push({
      code: 'ROWS_REJECTED',
      file: name,
      ...(collected.firstRejectLine !== null ? { line: collected.firstRejectLine } : {}),
      message: `${name}: ${result.rejected} of ${result.rows} lines cannot be read as ${resourceType} resources and will be rejected (${reasons})`,
    });
    warnings.push(...collected.listed);
  }
  const file: PlanFile = {
    key: object.key,
    name,
    stem,
    bytes: result.bytes,
    sha256: result.sha256,
    encoding: 'utf-8',
    bom: 'none',
    delimiter: ',',
    lineEnding: result.lineEnding,
    header: result.header,
    headerLine: null,
    rows: result.rows,
    blankLines: result.blankLines,
    malformedRows: result.rejected,
    columns: collected.columns(result.header),
  };
  return { kind: 'data', file, warnings, sample: collected.sample, keys: collected.columnKeys() };
}

/**
 * The plan warning of one of the export's error files: how many OperationOutcome issues the server
 * reported, by severity and code. The file's lines are also segmented (and skipped EXPORT_ERROR),
 * so the reconciliation counts them.
 */
export async function exportErrorWarning(
  drop: ObjectStore,
  object: StoredObject,
  name: string,
): Promise<PlanIssue> {
  const counts = new Map<string, number>();
  let issues = 0;
  for await (const json of readableJsonLines(drop, object.key)) {
    const list = (json as { issue?: unknown }).issue;
    for (const issue of Array.isArray(list) ? list : []) {
      const severity = typeof issue?.severity === 'string' ? issue.severity : 'unknown';
      const code = typeof issue?.code === 'string' ? issue.code : 'unknown';
      const key = `${severity}/${code}`.replace(/[^a-z/-]/gi, '');
      counts.set(key, (counts.get(key) ?? 0) + 1);
      issues++;
    }
  }
  const detail = [...counts]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, n]) => `${n} ${k}`)
    .join(', ');
  return {
    code: 'FHIR_EXPORT_ERRORS',
    file: name,
    message: `${name}: the FHIR server reported ${issues} issue(s) during the export (${detail || 'none readable'}); resources it could not export are not in this folder`,
  };
}

/**
 * The plan warning of one of a `_since` export's `deleted` files (Bundles whose entries name the
 * deleted resources by `request.url`): how many deletions of which types. The file's lines are
 * skipped DELETED_IN_SOURCE; a delta of a `_since` export reports the records they name that Ferry
 * loaded as missing in the source, and deletes them only with `--propagate-deletes`.
 */
export async function deletedWarning(
  drop: ObjectStore,
  object: StoredObject,
  name: string,
): Promise<PlanIssue> {
  const byType = new Map<string, number>();
  let deletions = 0;
  for await (const json of readableJsonLines(drop, object.key)) {
    const entries = (json as { entry?: unknown }).entry;
    for (const entry of Array.isArray(entries) ? entries : []) {
      // Read as fhirDeletions reads it, so the plan counts exactly what a delta acts on.
      const url = (entry as { request?: { url?: unknown } } | null)?.request?.url;
      const type = typeof url === 'string' ? deletedResourceOf(url)?.[0] : undefined;
      if (type === undefined) continue;
      byType.set(type, (byType.get(type) ?? 0) + 1);
      deletions++;
    }
  }
  const detail = [...byType]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([t, n]) => `${t} ×${n}`)
    .join(', ');
  return {
    code: 'FHIR_DELETED_IN_SOURCE',
    file: name,
    message: `${name}: the export lists ${deletions} resource(s) deleted in the source system (${detail || 'none readable'}); Ferry deletes nothing in Twenty for them unless a delta runs with --propagate-deletes`,
  };
}
