import { z } from 'zod';

/**
 * The FHIR Bulk Data export manifest (the `$export` status response a server returns when the
 * export is complete), as an operator drops it beside the NDJSON files. Only the keys Ferry reads
 * are checked; servers add others (`extension`, `_since`-related hints), which are kept.
 */
const OutputEntrySchema = z.looseObject({
  type: z.string().min(1),
  url: z.string().min(1),
  count: z.number().int().nonnegative().optional(),
});

export const BulkManifestSchema = z.looseObject({
  transactionTime: z.string().min(1),
  request: z.string().optional(),
  requiresAccessToken: z.boolean().optional(),
  output: z.array(OutputEntrySchema),
  error: z.array(OutputEntrySchema).default([]),
  deleted: z.array(OutputEntrySchema).optional(),
});
export type BulkManifest = z.infer<typeof BulkManifestSchema>;

/** What a drop folder's file is to the export: a resource file, an error (OperationOutcome) file, or neither. */
export type FhirFileRole = 'output' | 'error' | 'deleted';

/** `plan.json .fhir`: the export's manifest facts and each NDJSON file's resource type — no values. */
export const FhirPlanSectionSchema = z.object({
  manifest: z.string().min(1),
  transactionTime: z.string(),
  request: z.string().optional(),
  /** NDJSON file name inside the drop folder → its resource type and role. */
  files: z.record(
    z.string(),
    z.object({ type: z.string().min(1), role: z.enum(['output', 'error', 'deleted']) }),
  ),
});
export type FhirPlanSection = z.infer<typeof FhirPlanSectionSchema>;

/** True when a parsed JSON document has the shape of a bulk-export manifest. */
export function isBulkManifest(json: unknown): boolean {
  return BulkManifestSchema.safeParse(json).success;
}

/**
 * The folder-relative name of a manifest `url`: a server's absolute download URL becomes its last
 * path segment (the file as downloaded), a relative one is kept as it is (`..` and leading `/`
 * dropped, so nothing outside the drop folder is named).
 */
export function manifestFileName(url: string): string {
  let path = url;
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(url);
  if (scheme !== null) {
    try {
      path =
        new URL(url).pathname
          .split('/')
          .filter((s) => s !== '')
          .at(-1) ?? '';
    } catch {
      path = '';
    }
  }
  return path
    .replaceAll('\\', '/')
    .split('/')
    .filter((s) => s !== '' && s !== '.' && s !== '..')
    .join('/');
}

/** The manifest's `output` and `error` files that are not in the drop folder (names as the manifest gives them). */
export function missingManifestFiles(manifest: BulkManifest, ndjsonNames: readonly string[]): string[] {
  const present = new Set(
    ndjsonNames.flatMap((n) => [n.toLowerCase(), n.slice(n.lastIndexOf('/') + 1).toLowerCase()]),
  );
  return [...manifest.output, ...manifest.error]
    .map((e) => manifestFileName(e.url))
    .filter((name) => name !== '' && !present.has(name.toLowerCase()));
}

/** The resource type a file name suggests (`Patient.ndjson`, `Patient.000.ndjson`, `1.Patient.ndjson`). */
export function typeFromFileName(name: string): string | undefined {
  const base = name.slice(name.lastIndexOf('/') + 1).replace(/\.ndjson$/i, '');
  return base.split(/[._-]/).find((part) => /^[A-Z][A-Za-z]+$/.test(part));
}

/**
 * Each NDJSON file of the folder with its resource type and role: from the manifest's `output`,
 * `error` and `deleted` lists (matched by name, case-insensitively); a file the manifest does not
 * list is typed by its name (so a renamed or unlisted file is still accounted for).
 */
export function fhirFilesOf(
  manifest: BulkManifest,
  ndjsonNames: readonly string[],
): Record<string, { type: string; role: FhirFileRole }> {
  const listed = new Map<string, { type: string; role: FhirFileRole }>();
  const add = (entries: readonly { type: string; url: string }[] | undefined, role: FhirFileRole): void => {
    for (const e of entries ?? []) listed.set(manifestFileName(e.url).toLowerCase(), { type: e.type, role });
  };
  add(manifest.output, 'output');
  add(manifest.error, 'error');
  add(manifest.deleted, 'deleted');
  const out: Record<string, { type: string; role: FhirFileRole }> = {};
  for (const name of ndjsonNames) {
    const lower = name.toLowerCase();
    const base = lower.slice(lower.lastIndexOf('/') + 1);
    const entry = listed.get(lower) ?? listed.get(base);
    out[name] = entry ?? { type: typeFromFileName(name) ?? 'Unknown', role: 'output' };
  }
  return out;
}
