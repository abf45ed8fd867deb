import { extname } from 'node:path';
import type { ObjectStore, StoredObject } from '../../ports/object-store.ts';
import { ValidationError } from '../errors.ts';
import {
  deletedWarning,
  detectFhirExport,
  exportErrorWarning,
  inspectFhirFile,
} from '../sources/fhir/inspect.ts';
import type { FhirPlanSection } from '../sources/fhir/manifest.ts';
import {
  type DataFileOutcome,
  inspectDataFile,
  type ReadOverrides,
  sha256Of,
  stemFor,
  unreadable,
} from './inspect-file.ts';
import type { MappingFile } from './mapping-plan.ts';
import type { PlanAttachment, PlanFile, PlanIssue } from './plan.ts';

/** Extensions read as delimited data; everything else in an export is a document kept as an attachment. */
export const DATA_EXTENSIONS: ReadonlySet<string> = new Set(['.csv', '.tsv', '.txt']);

/** FHIR bulk-export resource files: data when the folder holds a bulk-export manifest. */
export const NDJSON_EXTENSION = '.ndjson';

/** The marker that says a drop folder is complete and carries run options; not part of the export. */
export const MARKER_FILE = 'ferry.json';

/** One file of the export: its stored object and its name inside the drop folder. */
export interface ExportEntry {
  readonly object: StoredObject;
  readonly name: string;
}

/** The export's files, split into data files (by extension) and documents. */
export interface ExportListing {
  readonly data: ExportEntry[];
  readonly other: ExportEntry[];
}

/** What Inventory learned from every file of the export, in listing order. */
export interface ExportInspection {
  readonly files: PlanFile[];
  readonly attachments: PlanAttachment[];
  readonly warnings: PlanIssue[];
  readonly errors: PlanIssue[];
  /** The data files as the mapper sees them (header, in-memory sample, unique-key candidates). */
  readonly mappingFiles: MappingFile[];
  /** A FHIR bulk export: its manifest and each NDJSON file's resource type (`plan.json .fhir`). */
  fhir?: FhirPlanSection;
}

/**
 * Files an operating system leaves in a folder or an archive, never export data: macOS's
 * `__MACOSX/` folder and `._name` resource forks (binary, even when named `._patients.csv`),
 * `.DS_Store`, Windows's `Thumbs.db` and `desktop.ini`. Read as data, a resource fork would stop
 * the whole run as a binary file; they are kept as documents (hashed, so a resume notices changes)
 * with an OS_METADATA warning.
 */
export function isOsMetadata(name: string): boolean {
  const parts = name.split('/');
  const base = (parts.at(-1) ?? '').toLowerCase();
  return (
    parts.includes('__MACOSX') ||
    base.startsWith('._') ||
    base === '.ds_store' ||
    base === 'thumbs.db' ||
    base === 'desktop.ini'
  );
}

/**
 * Lists the drop folder, leaving out folder placeholders, the marker and the operator's mapping
 * YAML. ValidationError when the folder has no files (DROP_FOLDER_MISSING), only those left out
 * (DROP_FOLDER_EMPTY) or no data file (NO_DATA_FILES).
 */
export async function listExport(
  drop: ObjectStore,
  folder: string,
  mappingKey: string | undefined,
): Promise<ExportListing> {
  const objects: StoredObject[] = [];
  for await (const object of drop.list(folder)) if (!object.key.endsWith('/')) objects.push(object);
  if (objects.length === 0) {
    throw new ValidationError(`drop folder ${folder} has no files`, { code: 'DROP_FOLDER_MISSING' });
  }

  const data: ExportEntry[] = [];
  const other: ExportEntry[] = [];
  for (const object of objects) {
    const name = object.key.slice(folder.length);
    if (name === MARKER_FILE || object.key === mappingKey) continue;
    const ext = extname(name).toLowerCase();
    ((DATA_EXTENSIONS.has(ext) || ext === NDJSON_EXTENSION) && !isOsMetadata(name) ? data : other).push({
      object,
      name,
    });
  }
  if (data.length === 0 && other.length === 0) {
    throw new ValidationError(`drop folder ${folder} is empty: it holds no export files`, {
      code: 'DROP_FOLDER_EMPTY',
    });
  }
  if (data.length === 0) {
    throw new ValidationError(`drop folder ${folder} holds no data files (.csv, .tsv or .txt)`, {
      code: 'NO_DATA_FILES',
    });
  }
  return { data, other };
}

/**
 * Inspects every data file (in listing order), then hashes every other file as an attachment. A
 * file that cannot be read becomes a plan error; transient failures propagate for a retry.
 */
export async function inspectExport(
  drop: ObjectStore,
  listing: ExportListing,
  overrides: ReadOverrides,
): Promise<ExportInspection> {
  const inspection: ExportInspection = {
    files: [],
    attachments: [],
    warnings: [],
    errors: [],
    mappingFiles: [],
  };
  const stems = new Set<string>();
  const ndjson = listing.data.filter((e) => extname(e.name).toLowerCase() === NDJSON_EXTENSION);
  const detected =
    ndjson.length === 0
      ? null
      : await detectFhirExport(
          drop,
          listing.other,
          ndjson.map((e) => e.name),
        );
  const fhir = detected?.section ?? null;
  if (fhir !== null) inspection.fhir = fhir;
  for (const name of detected?.missing ?? [])
    inspection.errors.push({
      code: 'FHIR_FILE_MISSING',
      file: name,
      message: `${name} is listed in the bulk-export manifest ${fhir?.manifest ?? ''} but is not in the drop folder; add it (or export again)`,
    });
  // In a FHIR export, only the NDJSON files are data: any other file (a Binary/… document an
  // attachment url names) is a document, whatever its extension.
  const data = fhir === null ? listing.data : ndjson;
  const others =
    fhir === null ? listing.other : [...listing.other, ...listing.data.filter((e) => !ndjson.includes(e))];
  if (fhir !== null)
    for (const { name } of listing.data.filter((e) => !ndjson.includes(e) && /\.(csv|tsv)$/i.test(e.name)))
      inspection.warnings.push({
        code: 'FHIR_TABLE_AS_DOCUMENT',
        file: name,
        message: `${name} is kept as a document: in a FHIR bulk export Ferry reads only the NDJSON files the manifest lists; migrate tables in a run of their own`,
      });
  for (const { object, name } of data) {
    let outcome: DataFileOutcome;
    try {
      const stem = stemFor(name, stems);
      const type = fhir?.files[name];
      if (extname(name).toLowerCase() !== NDJSON_EXTENSION)
        outcome = await inspectDataFile(drop, object, name, stem, overrides);
      else if (type === undefined)
        outcome = {
          kind: 'error',
          error: {
            code: 'FHIR_MANIFEST_MISSING',
            file: name,
            message: `${name} is NDJSON but the folder holds no FHIR bulk-export manifest (a JSON file with transactionTime and output); add the export's manifest`,
          },
        };
      else {
        outcome = await inspectFhirFile(drop, object, name, stem, type.type);
        if (type.role === 'error') inspection.warnings.push(await exportErrorWarning(drop, object, name));
        if (type.role === 'deleted') inspection.warnings.push(await deletedWarning(drop, object, name));
      }
    } catch (error) {
      outcome = { kind: 'error', error: unreadable(error, name) };
    }
    addOutcome(inspection, name, outcome);
  }
  for (const { object, name } of others) {
    if (fhir !== null && name === fhir.manifest) continue;
    try {
      const { sha256, bytes } = await sha256Of(await drop.getStream(object.key));
      inspection.attachments.push({ key: object.key, name, bytes, sha256 });
      if (isOsMetadata(name))
        inspection.warnings.push({
          code: 'OS_METADATA',
          file: name,
          message: `${name} is operating-system metadata, not export data: it is not read`,
        });
      if (bytes === 0)
        inspection.warnings.push({
          code: 'EMPTY_ATTACHMENT',
          file: name,
          message: `${name} is empty (0 bytes)`,
        });
    } catch (error) {
      inspection.errors.push(unreadable(error, name));
    }
  }
  return inspection;
}

function addOutcome(inspection: ExportInspection, name: string, outcome: DataFileOutcome): void {
  if (outcome.kind === 'error') inspection.errors.push(outcome.error);
  else if (outcome.kind === 'data') {
    inspection.files.push(outcome.file);
    inspection.mappingFiles.push({
      stem: outcome.file.stem,
      name,
      header: outcome.file.header,
      sample: outcome.sample,
      keys: outcome.keys,
    });
    inspection.warnings.push(...outcome.warnings);
  } else {
    inspection.attachments.push(outcome.attachment);
    inspection.warnings.push(...outcome.warnings);
  }
}
