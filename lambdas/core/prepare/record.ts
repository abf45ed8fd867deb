import { hash } from 'node:crypto';
import { extname } from 'node:path';

/**
 * JSON with object keys sorted at every level: equal records give equal bytes whatever the key order.
 * Keys whose value is undefined are left out; undefined in an array (or at the top) is `null`. The
 * bytes are part of every stored content hash, so they must never change: Prepare calls this once per
 * record, hence the plain loops (no per-level arrays of entries).
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) {
    let out = '[';
    // A hole of a sparse array is an empty string, as Array#join makes it.
    for (let i = 0; i < value.length; i++)
      out += (i === 0 ? '' : ',') + (i in value ? canonicalJson(value[i]) : '');
    return `${out}]`;
  }
  const record = value as Record<string, unknown>;
  // Default sort: UTF-16 code unit order, the same order as comparing the keys with `<`.
  const keys = Object.keys(record).sort();
  let out = '{';
  let first = true;
  for (const key of keys) {
    const v = record[key];
    if (v === undefined) continue;
    out += `${first ? '' : ','}${JSON.stringify(key)}:${canonicalJson(v)}`;
    first = false;
  }
  return `${out}}`;
}

/**
 * The content hash of a mapped record: what LoadChunk compares with the id map to skip an
 * unchanged record on a second run. It covers everything sent to Twenty for the record.
 */
export function contentHash(parts: { data: unknown; targets: unknown; file?: unknown }): string {
  return hash('sha256', canonicalJson(parts), 'hex');
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
