import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { columnsOf } from '../../lambdas/core/mapping/map-record.ts';
import { phiVerdict } from '../../lambdas/core/mapping/phi.ts';
import type { MappingSpec } from '../../lambdas/core/mapping/spec.ts';
import { rowsOf } from '../../lambdas/core/prepare/read.ts';
import { csvCell, REJECTS_CSV_COLUMNS } from '../../lambdas/core/reconcile/rejects-csv.ts';
import { planKeyFor, rejectsCsvKey } from '../../lambdas/core/run-layout.ts';
import { readManifest, readRunMapping, readRunPlan } from '../../lambdas/core/schema/run-inputs.ts';
import type { ObjectStore } from '../../lambdas/ports/object-store.ts';

/**
 * `--show-values`: the operator's local reveal of what the rejected rows held. rejects.csv and
 * report.html in the work bucket never carry a value (they are artefacts of the run, kept and shared);
 * with this flag the CLI writes its local copies under `<stateDir>/reports/<runId>/` with the values
 * looked up at that moment from the run's segmented chunks (which hold the export's rows by design)
 * or, for a row Segment could not read, from the export file itself. Nothing else sees them, and
 * columns the PHI policy never migrates (SSNs) are not shown even here.
 */

type RejectCsvRow = Record<(typeof REJECTS_CSV_COLUMNS)[number], string>;

/** The source columns behind a reject's field: a mapped field, a relation (by key or join column) or a target. */
function columnsFor(mapping: MappingSpec | undefined, entity: string, field: string): string[] | undefined {
  const spec = mapping?.entities[entity];
  if (spec === undefined) return undefined;
  const mapped = spec.fields[field];
  if (mapped !== undefined) return columnsOf(mapped.from);
  for (const [name, relation] of Object.entries(spec.relations))
    if (name === field || relation.joinColumn === field) return [relation.from];
  const target = spec.targets.find((t) => t.entity === field);
  if (target !== undefined) return [target.from];
  // Rules on the id itself (a duplicate or missing id) name the column.
  return field === spec.idColumn || spec.idColumns?.includes(field) === true ? [field] : undefined;
}

/** SSN-shaped runs in free text: masked even here (SSNs are never migrated, nor copied into a report). */
const SSN_IN_TEXT = /\b\d{3}-\d{2}-\d{4}\b/g;

function maskSsns(text: string): string {
  return text.replace(SSN_IN_TEXT, '###-##-####');
}

/**
 * One cell per column, or every cell of the row when the field names no column (a whole-row reject).
 * Columns the PHI policy never migrates (SSNs, the mapping's `neverMigrate`) are never shown.
 */
function describe(
  cells: Readonly<Record<string, string | undefined>>,
  columns: string[] | undefined,
  mapping: MappingSpec | undefined,
): string {
  const names = columns !== undefined && columns.length > 0 ? columns : Object.keys(cells);
  const shown = (name: string) =>
    phiVerdict(name, mapping?.phi) === 'allowed' ? maskSsns(cells[name] ?? '') : '(never shown)';
  if (names.length === 1 && columns !== undefined) return shown(names[0] ?? '');
  return names.map((name) => `${name}=${shown(name)}`).join('; ');
}

/** The raw text of physical lines of a drop file (rows Segment refused never reached a chunk). */
async function rawLines(
  drop: ObjectStore,
  key: string,
  wanted: ReadonlySet<number>,
): Promise<Map<number, string>> {
  const found = new Map<number, string>();
  if (!(await drop.exists(key))) return found;
  const text = Buffer.from(await drop.get(key)).toString('utf8');
  let line = 1;
  for (const part of text.split(/\r\n|\n|\r/)) {
    if (wanted.has(line)) found.set(line, part);
    line += 1;
  }
  return found;
}

/** Each rejects.csv row of the run with the value it was refused for (empty when nothing can be found). */
export async function rejectsWithValues(
  stores: { work: ObjectStore; drop: ObjectStore },
  runId: string,
): Promise<(RejectCsvRow & { value: string })[]> {
  const key = rejectsCsvKey(runId);
  if (!(await stores.work.exists(key))) return [];
  const rows = parse(await stores.work.getText(key), {
    columns: true,
    skip_empty_lines: true,
  }) as RejectCsvRow[];
  if (rows.length === 0) return [];
  const plan = await readRunPlan(stores.work, runId, planKeyFor(runId)).catch(() => undefined);
  const mapping = await readRunMapping(stores.work, runId, plan).catch(() => undefined);
  const manifest = await readManifest(stores.work, runId);

  const linesByFile = new Map<string, Set<number>>();
  for (const row of rows) {
    const lines = linesByFile.get(row.file) ?? new Set<number>();
    lines.add(Number(row.line));
    linesByFile.set(row.file, lines);
  }
  const cellsAt = new Map<string, Readonly<Record<string, string | undefined>>>();
  const rawAt = new Map<string, string>();
  for (const [file, lines] of linesByFile) {
    const source = manifest?.files.find((f) =>
      plan === undefined ? f.key.endsWith(`/${file}`) : f.key === `${plan.folder}${file}`,
    );
    if (source !== undefined)
      for await (const row of rowsOf(stores.work, source))
        if (lines.has(row.line) && row.cells) cellsAt.set(`${file}:${row.line}`, { ...row.cells });
    const missing = new Set([...lines].filter((line) => !cellsAt.has(`${file}:${line}`)));
    if (missing.size > 0 && plan !== undefined)
      for (const [line, text] of await rawLines(stores.drop, `${plan.folder}${file}`, missing))
        rawAt.set(`${file}:${line}`, text);
  }
  return rows.map((row) => {
    const at = `${row.file}:${row.line}`;
    const cells = cellsAt.get(at);
    const value =
      cells !== undefined
        ? describe(cells, columnsFor(mapping, row.entity, row.field), mapping)
        : maskSsns(rawAt.get(at) ?? '');
    return { ...row, value };
  });
}

function escapeHtml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

/** Rows of the values table in report.html (the full list is in rejects.csv). */
const HTML_ROWS = 1_000;

/**
 * Rewrites the local copies of rejects.csv (a `value` column after the others) and report.html (a
 * table of rejected rows with their values) in `dir`, when the run's reports were copied there.
 * Returns how many rejects got a value.
 */
export async function revealValues(
  stores: { work: ObjectStore; drop: ObjectStore },
  runId: string,
  dir: string,
  paths: Readonly<Record<string, string | undefined>>,
): Promise<number> {
  const rows = await rejectsWithValues(stores, runId);
  const csvPath = paths['rejects (csv)'];
  if (csvPath !== undefined) {
    const header = `${[...REJECTS_CSV_COLUMNS, 'value'].join(',')}\n`;
    const body = rows
      .map(
        (row) =>
          `${[...REJECTS_CSV_COLUMNS.map((c) => row[c]), row.value].map((v) => csvCell(v)).join(',')}\n`,
      )
      .join('');
    await writeFile(csvPath, header + body);
  }
  const htmlPath = paths['report (html)'] ?? join(dir, 'report.html');
  if (paths['report (html)'] !== undefined) {
    const shown = rows.slice(0, HTML_ROWS);
    const table = [
      '<section id="reject-values"><h2>Rejected rows with their values</h2>',
      '<p>Shown because the report was written with <code>--show-values</code>: this copy holds patient data. ',
      `${rows.length > shown.length ? `The first ${shown.length} of ${rows.length} rows; all are in rejects.csv.` : ''}</p>`,
      '<table><thead><tr><th>file</th><th>line</th><th>entity</th><th>source id</th><th>field</th><th>reason</th><th>value</th></tr></thead><tbody>',
      ...shown.map(
        (row) =>
          `<tr>${[row.file, row.line, row.entity, row.sourceId, row.field, row.reason, row.value]
            .map((cell) => `<td>${escapeHtml(cell)}</td>`)
            .join('')}</tr>`,
      ),
      '</tbody></table></section>',
    ].join('');
    const html = await readFile(htmlPath, 'utf8');
    const at = html.lastIndexOf('</body>');
    await writeFile(htmlPath, at < 0 ? html + table : `${html.slice(0, at)}${table}${html.slice(at)}`);
  }
  return rows.filter((row) => row.value !== '').length;
}
