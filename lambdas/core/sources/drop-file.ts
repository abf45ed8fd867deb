import type { SourceCells } from '../mapping/map-record.ts';
import type { EntitySpec } from '../mapping/spec.ts';
import type { FieldReject } from '../validation/codes.ts';

/** Where a record's file should be in the drop folder, relative to the folder. */
export interface DropFileRef {
  /** The column that named the file (for rejects: never the value). */
  readonly column: string;
  /** Folder-relative path, `/` separated, e.g. `documents/DOC000001_intake-form.png`. */
  readonly path: string;
}

/**
 * The drop-folder path of a record's file, from the entity's `file: {from, baseDir}` spec; null
 * when the entity has no file spec or the cell is blank (a blank required column is a
 * MISSING_REQUIRED of the mapping, not a missing file). Windows separators and a leading `./` or
 * `/` are normalised; a path already under `baseDir` is not prefixed twice. `..` segments are
 * dropped so a row can never point outside the drop folder.
 */
export function dropFileOf(entity: Pick<EntitySpec, 'file'>, cells: SourceCells): DropFileRef | null {
  const spec = entity.file;
  if (spec === undefined) return null;
  const raw = (cells[spec.from] ?? '').trim();
  if (raw === '') return null;
  const segments = raw
    .replaceAll('\\', '/')
    .split('/')
    .filter((s) => s !== '' && s !== '.' && s !== '..');
  if (segments.length === 0) return null;
  const relative = segments.join('/');
  const base = spec.baseDir.replaceAll('\\', '/').replace(/^\.?\/+/, '');
  const prefix = base === '' || base.endsWith('/') ? base : `${base}/`;
  const path =
    prefix !== '' && relative.toLowerCase().startsWith(prefix.toLowerCase()) ? relative : prefix + relative;
  return { column: spec.from, path };
}

/**
 * The MISSING_FILE reject of a record whose file is not in the drop folder, or null when the file
 * exists (or the entity has no file spec). `exists` answers for a folder-relative path; the
 * caller decides case sensitivity (S3 keys are case-sensitive, exports from Windows are not).
 */
export function missingFileReject(
  entity: Pick<EntitySpec, 'file'>,
  cells: SourceCells,
  exists: (path: string) => boolean,
): FieldReject | null {
  const ref = dropFileOf(entity, cells);
  if (ref === null || exists(ref.path)) return null;
  return {
    field: ref.column,
    reason: 'MISSING_FILE',
    rule: `file exists under ${entity.file?.baseDir ?? ''}`,
  };
}
