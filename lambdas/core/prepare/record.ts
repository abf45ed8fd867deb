import { createHash } from 'node:crypto';
import { extname } from 'node:path';

/** JSON with object keys sorted at every level: equal records give equal bytes whatever the key order. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/**
 * The content hash of a mapped record: what LoadChunk compares with the id map to skip an
 * unchanged record on a second run. It covers everything sent to Twenty for the record.
 */
export function contentHash(parts: { data: unknown; targets: unknown; file?: unknown }): string {
  return createHash('sha256').update(canonicalJson(parts)).digest('hex');
}

const MIME: Readonly<Record<string, string>> = {
  '.pdf': 'application/pdf',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.tif': 'image/tiff',
  '.tiff': 'image/tiff',
  '.bmp': 'image/bmp',
  '.webp': 'image/webp',
  '.txt': 'text/plain',
  '.csv': 'text/csv',
  '.rtf': 'application/rtf',
  '.doc': 'application/msword',
  '.docx': 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  '.xls': 'application/vnd.ms-excel',
  '.xlsx': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  '.dcm': 'application/dicom',
  '.xml': 'application/xml',
  '.json': 'application/json',
  '.zip': 'application/zip',
};

/** MIME type from a file name's extension (octet-stream when unknown). */
export function mimeOf(name: string): string {
  return MIME[extname(name).toLowerCase()] ?? 'application/octet-stream';
}
