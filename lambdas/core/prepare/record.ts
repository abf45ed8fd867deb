import { createHash } from 'node:crypto';
import { extname } from 'node:path';
import type { DateOrder } from '../mapping/spec.ts';
import { date } from '../mapping/transforms/date.ts';
import { boolean, number } from '../mapping/transforms/numbers.ts';
import { toOptionValue } from '../mapping/transforms/select.ts';

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

/**
 * A long-format property value typed for the Twenty field it lands in; undefined when the value
 * does not fit the type (the property is then left out of the record, not the record rejected).
 */
export function pivotValue(type: string, raw: string, dateOrder: DateOrder, now: number): unknown {
  const value = raw.trim();
  if (value === '') return undefined;
  switch (type) {
    case 'NUMBER':
    case 'NUMERIC': {
      const r = number(value);
      return r.ok && r.value !== null ? r.value : undefined;
    }
    case 'BOOLEAN': {
      const r = boolean(value);
      return r.ok && r.value !== null ? r.value : undefined;
    }
    case 'DATE': {
      const r = date(value, dateOrder, now);
      return r.ok && r.value !== null ? r.value : undefined;
    }
    case 'SELECT':
      return toOptionValue(value);
    case 'MULTI_SELECT':
      return [toOptionValue(value)];
    case 'TEXT':
      return value;
    default:
      return undefined;
  }
}
