import type { Reconciliation } from './report.ts';

/** What the report shows beside the reconciliation (names and counts only, never record values). */
export interface ReportContext {
  owners: {
    entity: string;
    rowsWithOwner: number;
    matched: number;
    unmatched: number;
    rowsOnFallback: number;
    rowsUnassigned: number;
  }[];
  schema: { kind: 'object' | 'field' | 'relation' | 'options'; name: string; type?: string }[];
  workflows: { file: string; name: string; trigger: string; status: string }[];
}

/** How an operator fixes the rows of each reject or skip reason (plain language, no jargon). */
export const REASON_ADVICE: Readonly<Record<string, string>> = {
  MALFORMED_ROW:
    'The row has more or fewer columns than the header. Re-export the file, or fix stray commas in that line.',
  UNTERMINATED_QUOTE: 'A quoted value never closes. Remove the stray quote mark in that line and re-export.',
  TEXT_AFTER_QUOTE: 'Text follows a closing quote. Fix the quoting in that line and re-export.',
  ENCODING_ERROR:
    'The line contains characters that are not valid text. Re-export the file as UTF-8 (CSV UTF-8 in Excel).',
  RECORD_TOO_LONG: 'The line is too long to be a real record. Check the export for a missing line break.',
  MISSING_REQUIRED:
    'A required value (such as a name) is empty. Fill it in the practice system and re-export.',
  INVALID_EMAIL: 'The email address is not valid. Correct it in the practice system, or clear it.',
  DUPLICATE_EMAIL:
    'Another record already uses this email address. Merge the duplicates or correct one email.',
  INVALID_PHONE: 'The phone number cannot be read as a real number. Correct it (include the area code).',
  INVALID_DATE:
    'The date cannot be read or is impossible (for example a birth date in the future). Correct it.',
  AMBIGUOUS_DATE:
    'The date could be read two ways (day/month). Set the date order in the mapping and re-run.',
  INVALID_NUMBER:
    'A number or amount cannot be read. Remove letters or symbols other than the currency sign.',
  INVALID_BOOLEAN: 'A yes/no value is not recognised. Use Yes/No, True/False or 1/0.',
  UNMAPPED_VALUE: 'The value is not one of the allowed choices. Add it to the value map in the mapping file.',
  VALUE_TOO_LONG: 'The value is longer than Twenty accepts. Shorten it in the practice system.',
  DUPLICATE_SOURCE_ID: 'Two rows share the same id. Remove the duplicate row from the export.',
  ORPHAN_REFERENCE:
    'The row points at a record that is not in the export or was rejected (for example an appointment for a missing patient). Fix the parent record first.',
  MISSING_FILE: 'The document file named in the row is not in the documents folder. Add the file and re-run.',
  FILE_TOO_LARGE: 'The document is larger than Twenty accepts. Compress or split it.',
  BINARY_FILE: 'The file is not a text export. Remove it from the export folder.',
  PHI_FORBIDDEN:
    'The column holds data Ferry never migrates (such as SSNs). Nothing to fix; it stays behind.',
  TWENTY_REJECTED:
    'Twenty refused the record. The rule column in rejects.csv says which field; correct it and re-run.',
  TARGET_REJECTED:
    'Twenty refused to link the task or note to its record. Re-run; if it repeats, check the record.',
  MAPPING_INVALID: 'The mapping file has an error for this column. Correct the mapping and re-run.',
  NOT_MIGRATED_WORKFLOW: 'Workflows are not migrated. Rebuild them in Twenty from the list in this report.',
  MATCHED_MEMBER: 'The provider is already a workspace member in Twenty, so no duplicate person was created.',
  PIVOTED: 'The row was merged into its patient record as a custom field (or its patient did not load).',
  EMPTY_ROW: 'The row is empty. Nothing to fix.',
  INVALID_JSON:
    'The line of the FHIR export is not valid JSON (cut short or edited by hand). Export the resources again.',
  NOT_FHIR_RESOURCE:
    'The line of the FHIR export is JSON but not a FHIR resource (it has no resourceType). Export the resources again.',
  UNEXPECTED_RESOURCE_TYPE:
    'The line holds a resource of another type than its file (say an Observation in the Patient file). Check the export; the resource is not loaded.',
  UNSUPPORTED_RESOURCE_TYPE:
    'Ferry has no map for this FHIR resource type (clinical data such as observations). Nothing to fix; it stays in the source system.',
  NOT_MAPPED:
    'No entity of the mapping reads this file, so its rows were not loaded. Map it in the mapping file if they should be.',
  DELETED_IN_SOURCE:
    'The FHIR export lists these resources as deleted in the source system. A delta of this export reports the records Ferry loaded for them as missing; it deletes them in Twenty only with ferry delta --propagate-deletes.',
  DUPLICATE_IN_EXPORT:
    'The incremental FHIR export holds this resource more than once, identically (servers add referenced resources). It was loaded once. Nothing to fix.',
  EXPORT_ERROR:
    'The FHIR server reported these problems while exporting (OperationOutcome). Resources it could not export are missing: ask the vendor or export again.',
  CONFLICT_EDITED_IN_TWENTY:
    'Someone edited this record in Twenty after Ferry loaded it, so the newer export did not overwrite it. Check which value is right; re-run with --force to take the export’s.',
  CONFLICT_DELETED_IN_TWENTY:
    'Someone deleted this record in Twenty after Ferry loaded it, so it was not brought back. Re-run with --force only if it should exist again.',
};

const GENERIC_ADVICE = 'See rejects.csv for the file, line and rule; correct the row and re-run.';

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(value: unknown): string {
  return String(value)
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

const fmt = (n: number): string => n.toLocaleString('en-US');
const pct = (rate: number): string => `${(rate * 100).toFixed(1)}%`;
const sum = (counts: Readonly<Record<string, number>>): number =>
  Object.values(counts).reduce((a, b) => a + b, 0);

/** A horizontal stacked bar as inline SVG: one segment per part, widths proportional. */
function stackedBar(parts: { label: string; value: number; color: string }[], title: string): string {
  const total = parts.reduce((t, p) => t + p.value, 0);
  const width = 600;
  let x = 0;
  const rects = parts
    .filter((p) => p.value > 0)
    .map((p) => {
      const w = total === 0 ? 0 : (p.value / total) * width;
      const rect = `<rect x="${x.toFixed(2)}" y="0" width="${w.toFixed(2)}" height="24" fill="${p.color}"><title>${escapeHtml(p.label)}: ${fmt(p.value)}</title></rect>`;
      x += w;
      return rect;
    })
    .join('');
  const legend = parts
    .map(
      (p, i) =>
        `<rect x="${i * 120}" y="32" width="12" height="12" fill="${p.color}"/><text x="${i * 120 + 16}" y="43" font-size="12">${escapeHtml(p.label)} ${fmt(p.value)}</text>`,
    )
    .join('');
  return `<svg role="img" aria-label="${escapeHtml(title)}" width="${width}" height="50" viewBox="0 0 ${width} 50" xmlns="http://www.w3.org/2000/svg"><rect x="0" y="0" width="${width}" height="24" fill="#eee"/>${rects}${legend}</svg>`;
}

/** One bar per row (label, value) as inline SVG. */
function barChart(rows: { label: string; value: number }[], title: string): string {
  if (rows.length === 0) return '';
  const max = Math.max(...rows.map((r) => r.value), 1);
  const height = rows.length * 22;
  const bars = rows
    .map((r, i) => {
      const w = (r.value / max) * 360;
      return `<text x="0" y="${i * 22 + 15}" font-size="12">${escapeHtml(r.label)}</text><rect x="200" y="${i * 22 + 3}" width="${w.toFixed(2)}" height="16" fill="#c0392b"/><text x="${(205 + w).toFixed(2)}" y="${i * 22 + 15}" font-size="12">${fmt(r.value)}</text>`;
    })
    .join('');
  return `<svg role="img" aria-label="${escapeHtml(title)}" width="640" height="${height}" viewBox="0 0 640 ${height}" xmlns="http://www.w3.org/2000/svg">${bars}</svg>`;
}

function table(headers: string[], rows: (string | number)[][], testId: string): string {
  const head = headers.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const body = rows
    .map(
      (r) =>
        `<tr>${r.map((c) => `<td${typeof c === 'number' ? ' class="num"' : ''}>${escapeHtml(typeof c === 'number' ? fmt(c) : c)}</td>`).join('')}</tr>`,
    )
    .join('');
  return `<table data-testid="${escapeHtml(testId)}"><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

const STYLE = `body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2em auto;max-width:1000px;color:#222;line-height:1.4;padding:0 1em}
h1{font-size:1.6em}h2{font-size:1.2em;margin-top:1.8em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.6em 0;font-size:.92em}th,td{border:1px solid #ccc;padding:4px 8px;text-align:left}
th{background:#f3f3f3}td.num{text-align:right;font-variant-numeric:tabular-nums}
.status{display:inline-block;padding:4px 12px;border-radius:4px;font-weight:bold;color:#fff}
.passed{background:#1e8449}.failed{background:#c0392b}.muted{color:#666}
.cards{display:flex;gap:1em;flex-wrap:wrap}.card{border:1px solid #ccc;border-radius:6px;padding:.6em 1em;min-width:110px}
.card b{display:block;font-size:1.4em}`;

/** The headline: run id, pass/fail with the reasons, the total cards and where every source row went. */
function summarySection(r: Reconciliation): string {
  const passed = r.status === 'succeeded';
  const t = r.totals;
  const cards = [
    ['Source rows', t.sourceRows, 'source'],
    ['Loaded', t.loaded, 'loaded'],
    ['Rejected', t.rejected, 'rejected'],
    ['Skipped', t.skipped, 'skipped'],
    ['Verified', r.verified, 'verified'],
    ['Mismatched fields', r.mismatchCount, 'mismatches'],
    ['Missing', r.missing, 'missing'],
  ] as const;
  return `<h1>Ferry migration report</h1>
<p>Run <code data-testid="run-id">${escapeHtml(r.runId)}</code> · generated ${escapeHtml(r.generatedAt)}</p>
<p><span data-testid="status" class="status ${passed ? 'passed' : 'failed'}">${passed ? 'PASSED' : 'FAILED'}</span>
 <span class="muted">tolerance: <span data-testid="tolerance">${fmt(r.tolerance)}</span> mismatched field(s)</span></p>
${r.problems.length > 0 ? `<p data-testid="problems">Why it failed: ${r.problems.map((p) => escapeHtml(PROBLEM_TEXT[p])).join(' ')}</p>` : ''}
<div class="cards">${cards.map(([label, value, id]) => `<div class="card">${escapeHtml(label)}<b data-testid="total-${id}">${fmt(value)}</b></div>`).join('')}</div>
${stackedBar(
  [
    { label: 'created', value: t.created, color: '#1e8449' },
    { label: 'updated', value: t.updated, color: '#2874a6' },
    { label: 'unchanged', value: t.unchanged, color: '#85929e' },
    { label: 'rejected', value: t.rejected, color: '#c0392b' },
    { label: 'skipped', value: t.skipped, color: '#d4ac0d' },
  ],
  'Where every source row went',
)}`;
}

/** Per entity: source rows, what became of them, the read-back, and whether they balance. */
function entitiesSection(r: Reconciliation): string {
  return `<h2>Counts by entity</h2><p class="muted">Every source row is loaded, rejected or skipped; "balanced" checks they add up.</p>${table(
    [
      'Entity',
      'Twenty object',
      'Source rows',
      'Created',
      'Updated',
      'Unchanged',
      'Rejected',
      'Skipped',
      'Verified',
      'Mismatched',
      'Missing',
      'Balanced',
    ],
    r.entities.map((e) => [
      e.entity,
      e.object,
      e.sourceRows,
      e.loaded.created,
      e.loaded.updated,
      e.loaded.unchanged,
      sum(e.rejected),
      sum(e.skipped),
      e.verified,
      e.mismatched,
      e.missing,
      e.balanced ? 'yes' : 'NO',
    ]),
    'entities',
  )}`;
}

/** Rejected rows by reason, most frequent first, with how to fix each. */
function rejectsSection(r: Reconciliation): string {
  const rejects = Object.entries(r.rejects).sort((a, b) => b[1] - a[1]);
  return `<h2>Rejected rows by reason</h2>${
    rejects.length === 0
      ? '<p>No row was rejected.</p>'
      : `${barChart(
          rejects.map(([label, value]) => ({ label, value })),
          'Rejected rows by reason',
        )}${table(
          ['Reason', 'Rows', 'How to fix'],
          rejects.map(([reason, n]) => [reason, n, REASON_ADVICE[reason] ?? GENERIC_ADVICE]),
          'rejects',
        )}<p class="muted">Each rejected row is listed (file, line, field, rule, no values) in rejects.csv.</p>`
  }`;
}

/** Skipped rows by reason (absent when nothing was skipped). */
function skipsSection(r: Reconciliation): string | undefined {
  const skips = Object.entries(r.skips).sort((a, b) => b[1] - a[1]);
  if (skips.length === 0) return undefined;
  return `<h2>Skipped rows by reason</h2>${table(
    ['Reason', 'Rows', 'What it means'],
    skips.map(([reason, n]) => [reason, n, REASON_ADVICE[reason] ?? GENERIC_ADVICE]),
    'skips',
  )}`;
}

/** Population and match rates of every field read back. */
function fieldsSection(r: Reconciliation): string {
  const fieldRows = Object.entries(r.fields).flatMap(([entity, fields]) =>
    Object.entries(fields).map(([field, f]) => [
      entity,
      field,
      f.records,
      pct(f.populationRate),
      pct(f.matchRate),
    ]),
  );
  return `<h2>Field match and population</h2><p class="muted">Every loaded record was read back from Twenty. Population: share of records with a value; match: share whose value in Twenty equals what Ferry sent.</p>${table(
    ['Entity', 'Field', 'Records', 'Populated', 'Matched'],
    fieldRows,
    'fields',
  )}`;
}

/** Fields that differ in Twenty from what Ferry sent, by record id (absent when none do). */
function mismatchesSection(r: Reconciliation): string | undefined {
  if (r.mismatchCount === 0) return undefined;
  return `<h2>Mismatches</h2><p>${fmt(r.mismatchCount)} field(s) differ in Twenty from what Ferry loaded (changed after the load?). Open each record in Twenty to check.</p>${table(
    ['Entity', 'Field', 'Record id'],
    r.mismatches.map((m) => [m.entity, m.field, m.recordId]),
    'mismatches',
  )}`;
}

/** A delta's counts against its base run (absent for a full run). */
function deltaSection(r: Reconciliation): string | undefined {
  if (r.delta === undefined) return undefined;
  const d = r.delta;
  return `<h2>Delta against run ${escapeHtml(d.baseRunId)}</h2><p>Records of this newer export compared with what Ferry loaded before. Conflicts (edited or deleted in Twenty since Ferry's last write) were left as they are; missing records were ${
    d.propagateDeletes
      ? 'deleted when Ferry had created them (pre-existing workspace records are never deleted)'
      : 'only reported (--propagate-deletes deletes those Ferry created)'
  }.</p>${table(
    ['New', 'Changed', 'Unchanged', 'Missing', 'Conflicts', 'Deleted', 'Pre-existing kept'],
    [[d.new, d.changed, d.unchanged, d.missing, d.conflicts, d.deleted, d.preexistingKept]],
    'delta',
  )}`;
}

/** Records an earlier run loaded that this export no longer holds (absent when there are none). */
function notInExportSection(r: Reconciliation): string | undefined {
  const missing = Object.entries(r.missingFromExport);
  if (missing.length === 0) return undefined;
  return `<h2>Not in this export</h2><p>Records an earlier run loaded that this export no longer holds. Ferry leaves them in Twenty; check whether the practice deleted them in the old system.</p>${table(
    ['Entity', 'Records', 'Source ids (first 20)'],
    missing.map(([entity, m]) => [entity, fmt(m.count), m.sourceIds.slice(0, 20).join(', ')]),
    'not-in-export',
  )}`;
}

/** How the owner columns matched workspace members. */
function ownersSection(context: ReportContext): string {
  return `<h2>Record owners</h2>${
    context.owners.length === 0
      ? '<p>No owner column was mapped.</p>'
      : table(
          [
            'Entity',
            'Rows with an owner',
            'Owners matched',
            'Owners not matched',
            'Rows on fallback owner',
            'Rows unassigned',
          ],
          context.owners.map((o) => [
            o.entity,
            o.rowsWithOwner,
            o.matched,
            o.unmatched,
            o.rowsOnFallback,
            o.rowsUnassigned,
          ]),
          'owners',
        )
  }`;
}

/** The custom objects, fields, relations and options the run created. */
function schemaSection(context: ReportContext): string {
  return `<h2>Schema created in Twenty</h2>${
    context.schema.length === 0
      ? '<p>This run created no custom object, field or option.</p>'
      : table(
          ['Kind', 'Name', 'Type / target'],
          context.schema.map((s) => [s.kind, s.name, s.type ?? '']),
          'schema',
        )
  }`;
}

/** The export's automations, which the operator rebuilds in Twenty. */
function workflowsSection(context: ReportContext): string {
  return `<h2>Workflows to rebuild</h2>${
    context.workflows.length === 0
      ? '<p>The export held no workflows.</p>'
      : `<p>Ferry does not migrate workflows; rebuild these in Twenty.</p>${table(
          ['File', 'Workflow', 'Trigger', 'Status'],
          context.workflows.map((w) => [w.file, w.name, w.trigger, w.status]),
          'workflows',
        )}`
  }`;
}

/** The page around the sections: strict CSP (no script, no network), inline style, request counts. */
function page(r: Reconciliation, sections: readonly string[]): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>Ferry report ${escapeHtml(r.runId)}</title><style>${STYLE}</style></head>
<body>${sections.join('\n')}
<p class="muted">Requests to Twenty: ${fmt(r.requests)} (${fmt(r.throttled)} throttled).</p>
</body></html>
`;
}

/**
 * report.html: one self-contained page (inline CSS and SVG, no script, no network asset) a practice
 * manager can read. Every text is escaped, so nothing from an export can run in the page. It shows
 * names, counts and record ids only, never a record's value.
 */
export function renderReportHtml(r: Reconciliation, context: ReportContext): string {
  const sections = [
    summarySection(r),
    entitiesSection(r),
    rejectsSection(r),
    skipsSection(r),
    fieldsSection(r),
    mismatchesSection(r),
    deltaSection(r),
    notInExportSection(r),
    ownersSection(context),
    schemaSection(context),
    workflowsSection(context),
  ];
  return page(
    r,
    sections.filter((section): section is string => section !== undefined),
  );
}

const PROBLEM_TEXT: Readonly<Record<Reconciliation['problems'][number], string>> = {
  UNBALANCED: 'Some source rows are neither loaded, rejected nor skipped.',
  READBACK_MISSING: 'Some loaded records are no longer in Twenty.',
  MISMATCHES_OVER_TOLERANCE: 'More fields differ in Twenty than the tolerance allows.',
};
