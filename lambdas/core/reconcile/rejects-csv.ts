import type { RejectLine } from '../load/format.ts';

/** Columns of `rejects.csv`: where a row was refused and by which rule; no column holds a value. */
export const REJECTS_CSV_COLUMNS = ['file', 'line', 'entity', 'sourceId', 'field', 'reason', 'rule'] as const;

/**
 * One CSV cell. Quotes when needed (RFC 4180) and defuses spreadsheet formulas: operators open this
 * file in Excel, and a source id or rule starting with `=`, `+`, `-` or `@` would otherwise run.
 */
export function csvCell(value: string | number): string {
  let text = String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function rejectsCsvHeader(): string {
  return `${REJECTS_CSV_COLUMNS.join(',')}\n`;
}

export function rejectsCsvRow(reject: RejectLine): string {
  return `${REJECTS_CSV_COLUMNS.map((column) => csvCell(reject[column])).join(',')}\n`;
}

/**
 * A reject line from any stage in the common shape. Segment writes `{file, line, reason, detail}`
 * (no entity yet: the row could not be read); its `detail` describes the rule, not the row.
 * Unknown or missing parts become empty cells rather than failing the whole report.
 */
export function normalizeReject(raw: unknown, entityOfFile: (file: string) => string): RejectLine {
  const r = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const text = (value: unknown) => (typeof value === 'string' ? value : '');
  const file = text(r.file);
  return {
    file,
    line: typeof r.line === 'number' && Number.isInteger(r.line) && r.line >= 0 ? r.line : 0,
    entity: text(r.entity) || entityOfFile(file),
    sourceId: text(r.sourceId),
    field: text(r.field),
    reason: text(r.reason) || 'UNKNOWN',
    rule: text(r.rule) || text(r.detail),
  };
}
