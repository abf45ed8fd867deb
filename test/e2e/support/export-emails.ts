import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Emails of a generated PbN export's patients file that occur once (example.org addresses): a
 * pre-existing person seeded with one of them is matched by exactly one patient.
 */
export function uniqueEmails(dir: string): string[] {
  const lines = readFileSync(join(dir, 'patients.csv'), 'utf8')
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/);
  const header = (lines[0] ?? '').split(',').map((h) => h.replaceAll('"', ''));
  const column = header.indexOf('Email');
  const counts = new Map<string, number>();
  for (const line of lines.slice(1)) {
    const value = (line.split(',')[column] ?? '').replaceAll('"', '').trim().toLowerCase();
    if (/^[a-z0-9.]+@example\.org$/.test(value)) counts.set(value, (counts.get(value) ?? 0) + 1);
  }
  return [...counts].filter(([, n]) => n === 1).map(([e]) => e);
}
