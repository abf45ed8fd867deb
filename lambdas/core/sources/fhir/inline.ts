import type { SourceCells } from '../../mapping/map-record.ts';
import { INVALID_INLINE } from './reader.ts';

/**
 * A FHIR DocumentReference's inline attachment as Prepare locates it: Segment decoded its base64
 * `data` into the work bucket and wrote the key into the row's `attachment.inline` cell.
 */
export type InlineFile =
  | {
      readonly kind: 'stored';
      readonly key: string;
      readonly name: string;
      readonly mime: string;
      readonly bytes: number;
    }
  | { readonly kind: 'invalid' };

const EXTENSIONS: Readonly<Record<string, string>> = {
  'application/pdf': '.pdf',
  'text/plain': '.txt',
  'text/html': '.html',
  'image/png': '.png',
  'image/jpeg': '.jpg',
  'image/tiff': '.tif',
  'application/xml': '.xml',
  'text/xml': '.xml',
  'application/json': '.json',
};

/**
 * A record's file as its content hash sees it: an inline file's key without its run prefix (the
 * key names the bytes' sha256), so an unchanged document is unchanged in the next run too.
 */
export function hashableFile<T extends { key: string; store?: 'drop' | 'work' } | undefined>(file: T): T {
  if (file === undefined || file.store !== 'work') return file;
  return { ...file, key: file.key.replace(/^runs\/[^/]+\//, '') };
}

/**
 * The row's inline file, or undefined when it has none (no `attachment.inline` cell or a blank
 * one). Only a key under `keyPrefix` (this run's Segment output) is taken: a cell can never point
 * the uploader at another object of the work bucket.
 */
export function inlineFileOf(cells: SourceCells, keyPrefix: string): InlineFile | undefined {
  const cell = (cells['attachment.inline'] ?? '').trim();
  if (cell === '') return undefined;
  if (cell === INVALID_INLINE) return { kind: 'invalid' };
  if (!cell.startsWith(keyPrefix) || cell.includes('..')) return undefined;
  const mime =
    (cells['attachment.contentType'] ?? '').split(';')[0]?.trim().toLowerCase() || 'application/octet-stream';
  const title = (cells['attachment.title'] ?? '').trim().replace(/[\\/]+/g, '-');
  const id = (cells.id ?? '').trim() || 'document';
  const name = /\.[A-Za-z0-9]{1,8}$/.test(title) ? title : `${title || id}${EXTENSIONS[mime] ?? '.bin'}`;
  return { kind: 'stored', key: cell, name, mime, bytes: Number(cells['attachment.size'] ?? '0') || 0 };
}
