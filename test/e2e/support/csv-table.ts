import { readFileSync, writeFileSync } from 'node:fs';

/** A CSV file of a generated export as rows of cells (RFC 4180 quoting, BOM and CRLF kept on write). */
export interface CsvTable {
  readonly header: string[];
  rows: string[][];
}

/** Parses RFC 4180 text: quoted cells may hold commas, doubled quotes and line breaks. */
function parse(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
    } else cell += c;
  }
  if (cell !== '' || row.length > 0) {
    row.push(cell);
    rows.push(row);
  }
  return rows;
}

export function readCsv(path: string): CsvTable {
  const [header = [], ...rows] = parse(readFileSync(path, 'utf8').replace(/^\uFEFF/, ''));
  return { header, rows: rows.filter((r) => r.length === header.length) };
}

export function writeCsv(path: string, table: CsvTable): void {
  const line = (cells: string[]) => cells.map((c) => `"${c.replaceAll('"', '""')}"`).join(',');
  writeFileSync(path, `\uFEFF${[table.header, ...table.rows].map(line).join('\r\n')}\r\n`);
}

/** The index of a column, or an error naming it (a generator change must fail the test loudly). */
export function column(table: CsvTable, name: string): number {
  const index = table.header.indexOf(name);
  if (index < 0) throw new Error(`column ${name} not in the file`);
  return index;
}
