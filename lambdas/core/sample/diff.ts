import { sameValue } from '../reconcile/compare.ts';
import { escapeHtml } from '../reconcile/html.ts';

/**
 * The sample diff: for every field of every sampled record, the source cells it came from, the value
 * Ferry sent (after transforms) and the value Twenty holds after the sample load, with a verdict. It
 * is the operator's review artefact before the full load, so unlike logs and state payloads it holds
 * values — stored with the run (encrypted work bucket; locally under the state dir), never logged.
 */

export type FieldVerdict = 'match' | 'mismatch' | 'missing';

export interface SampleFieldDiff {
  readonly field: string;
  /** The source cells the field was read from (`column: value`), or null for a constant/derived field. */
  readonly source: string | null;
  readonly expected: unknown;
  readonly actual: unknown;
  readonly verdict: FieldVerdict;
}

export interface SampleRecordDiff {
  readonly entity: string;
  readonly object: string;
  readonly id: string;
  readonly sourceId: string;
  readonly file?: string;
  readonly line: number;
  /** Twenty holds the record after the sample load. */
  readonly found: boolean;
  /** Twenty refused the record in the sample load (its reject is in the sample's rejects). */
  readonly rejected: boolean;
  readonly fields: readonly SampleFieldDiff[];
}

export interface SampleDiff {
  readonly runId: string;
  readonly generatedAt: string;
  readonly records: readonly SampleRecordDiff[];
  readonly totals: {
    readonly records: number;
    readonly entities: Readonly<Record<string, number>>;
    readonly fields: number;
    readonly matched: number;
    readonly mismatched: number;
    readonly missing: number;
    readonly rejected: number;
  };
}

/** One sampled record against what Twenty holds (`actual` undefined: not in Twenty). */
export function diffRecord(
  record: {
    entity: string;
    object: string;
    id: string;
    sourceId: string;
    line: number;
    file?: string;
    data: Readonly<Record<string, unknown>>;
  },
  actual: Readonly<Record<string, unknown>> | undefined,
  sourceOf: (field: string) => string | null,
  rejected: boolean,
): SampleRecordDiff {
  const fields: SampleFieldDiff[] = [];
  for (const [field, expected] of Object.entries(record.data)) {
    if (field === 'id') continue;
    const value = actual?.[field];
    fields.push({
      field,
      source: sourceOf(field),
      expected,
      actual: actual === undefined ? null : (value ?? null),
      verdict: actual === undefined ? 'missing' : sameValue(expected, value) ? 'match' : 'mismatch',
    });
  }
  return {
    entity: record.entity,
    object: record.object,
    id: record.id,
    sourceId: record.sourceId,
    ...(record.file === undefined ? {} : { file: record.file }),
    line: record.line,
    found: actual !== undefined,
    rejected,
    fields,
  };
}

export function sampleTotals(records: readonly SampleRecordDiff[]): SampleDiff['totals'] {
  const entities: Record<string, number> = {};
  let fields = 0;
  let matched = 0;
  let mismatched = 0;
  let missing = 0;
  for (const r of records) {
    entities[r.entity] = (entities[r.entity] ?? 0) + 1;
    for (const f of r.fields) {
      fields++;
      if (f.verdict === 'match') matched++;
      else if (f.verdict === 'mismatch') mismatched++;
      else missing++;
    }
  }
  return {
    records: records.length,
    entities,
    fields,
    matched,
    mismatched,
    missing,
    rejected: records.filter((r) => r.rejected).length,
  };
}

function shown(value: unknown): string {
  if (value === null || value === undefined || value === '') return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** `sample-diff.html`: one self-contained page (no script, no network asset, every text escaped). */
export function renderSampleDiffHtml(diff: SampleDiff): string {
  const t = diff.totals;
  const byEntity = new Map<string, SampleRecordDiff[]>();
  for (const r of diff.records) byEntity.set(r.entity, [...(byEntity.get(r.entity) ?? []), r]);
  const sections = [...byEntity.entries()].map(([entity, records]) => {
    const rows = records
      .map((r) => {
        const head = `<tr class="record"><th colspan="5">${escapeHtml(r.file ?? entity)} line ${escapeHtml(r.line)} · source id ${escapeHtml(r.sourceId)} · ${escapeHtml(r.object)} ${escapeHtml(r.id)}${r.rejected ? ' · <b>refused by Twenty</b>' : r.found ? '' : ' · <b>not in Twenty</b>'}</th></tr>`;
        const cells = r.fields
          .map(
            (f) =>
              `<tr class="${f.verdict}"><td>${escapeHtml(f.field)}</td><td>${escapeHtml(f.source ?? '')}</td><td>${escapeHtml(shown(f.expected))}</td><td>${escapeHtml(shown(f.actual))}</td><td>${f.verdict}</td></tr>`,
          )
          .join('');
        return head + cells;
      })
      .join('');
    return `<h2>${escapeHtml(entity)} (${records.length})</h2><table><thead><tr><th>field</th><th>source</th><th>sent to Twenty</th><th>in Twenty</th><th>verdict</th></tr></thead><tbody>${rows}</tbody></table>`;
  });
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Ferry sample diff ${escapeHtml(diff.runId)}</title><style>
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;width:100%;margin-bottom:2em}
td,th{border:1px solid #ddd;padding:3px 6px;text-align:left;vertical-align:top;word-break:break-word}
tr.record th{background:#f3f3f3}tr.mismatch td{background:#fde2e2}tr.missing td{background:#fff4cc}.muted{color:#666}
</style></head><body>
<h1>Sample diff — run ${escapeHtml(diff.runId)}</h1>
<p>${t.records} sampled records (${Object.entries(t.entities)
    .map(([e, n]) => `${escapeHtml(e)} ${n}`)
    .join(
      ', ',
    )}), ${t.fields} fields: <b>${t.matched} match</b>, <b>${t.mismatched} differ</b>, ${t.missing} not in Twenty; ${t.rejected} records refused by Twenty.</p>
<p class="muted">Approve the full load only if every value in Twenty is what the practice expects: <code>ferry approve ${escapeHtml(diff.runId)} --stage sample</code>.</p>
${sections.join('\n')}
</body></html>
`;
}
