import { headerKey } from './profile.ts';

/**
 * Workflow / automation exports are not migrated (Twenty's workflows are built differently), but
 * the practice must rebuild them: Ferry turns each row into a structured entry of
 * `workflows.json` so the operator has every trigger, condition and action in one place. The
 * rows are counted as skipped with reason NOT_MIGRATED_WORKFLOW.
 */

/** Skip reason of every row of a workflow/automation export (a profile `references` file). */
export const NOT_MIGRATED_WORKFLOW = 'NOT_MIGRATED_WORKFLOW';

/** One workflow as the rebuild reference shows it. Lists are split on `;` and line breaks. */
export interface WorkflowDefinition {
  readonly line: number;
  readonly id: string | null;
  readonly name: string | null;
  readonly trigger: string | null;
  readonly conditions: string[];
  readonly actions: string[];
  readonly schedule: string | null;
  /** `active` / `inactive` from an Active/Enabled/Status column; `unknown` when there is none. */
  readonly status: 'active' | 'inactive' | 'unknown';
  readonly lastModified: string | null;
  /** Columns not recognised above, kept verbatim so nothing the export had is lost. */
  readonly other: Record<string, string>;
}

/** The content of `workflows.json` (one file per run; Prepare or Reconcile writes it). */
export interface WorkflowReference {
  readonly note: string;
  readonly count: number;
  readonly active: number;
  readonly workflows: WorkflowDefinition[];
}

type Role = 'id' | 'name' | 'trigger' | 'conditions' | 'actions' | 'schedule' | 'status' | 'lastModified';

/** Header spellings (as `headerKey`s) of each role, first match wins. */
const ROLE_HEADERS: Readonly<Record<Role, readonly string[]>> = {
  id: ['workflowid', 'automationid', 'ruleid', 'id'],
  name: ['workflowname', 'automationname', 'rulename', 'name', 'title'],
  trigger: ['trigger', 'triggerevent', 'event', 'when'],
  conditions: ['conditions', 'condition', 'criteria', 'filter', 'filters', 'if'],
  actions: ['actions', 'action', 'steps', 'then', 'do'],
  schedule: ['schedule', 'frequency', 'cron', 'runat', 'timing'],
  status: ['active', 'enabled', 'status', 'isactive'],
  lastModified: ['lastmodified', 'modified', 'modifieddate', 'updatedat', 'lastupdated'],
};

const INACTIVE = new Set(['no', 'n', 'false', '0', 'inactive', 'disabled', 'off', 'paused']);
const ACTIVE = new Set(['yes', 'y', 'true', '1', 'active', 'enabled', 'on', 'live']);

function rolesOf(header: readonly string[]): Map<number, Role> {
  const keys = header.map(headerKey);
  const roles = new Map<number, Role>();
  for (const role of Object.keys(ROLE_HEADERS) as Role[]) {
    for (const spelling of ROLE_HEADERS[role]) {
      const i = keys.findIndex((k, idx) => k === spelling && !roles.has(idx));
      if (i >= 0) {
        roles.set(i, role);
        break;
      }
    }
  }
  return roles;
}

function list(text: string): string[] {
  return text
    .split(/;|\r?\n/)
    .map((s) => s.trim())
    .filter((s) => s !== '' && s.toLowerCase() !== 'none');
}

/**
 * Builds the rebuild reference from a workflow file's rows (cells in header order, as read) and
 * its header. Pure: columns are recognised by name (any vendor's spelling of trigger, conditions,
 * actions, schedule, status), anything else is kept under `other`.
 */
export function buildWorkflowReference(
  rows: Iterable<{ readonly line: number; readonly cells: readonly string[] }>,
  header: readonly string[],
): WorkflowReference {
  const roles = rolesOf(header);
  const workflows: WorkflowDefinition[] = [];
  for (const { line, cells } of rows) {
    const byRole: Partial<Record<Role, string>> = {};
    const other: Record<string, string> = {};
    header.forEach((column, i) => {
      const value = (cells[i] ?? '').trim();
      const role = roles.get(i);
      if (role !== undefined) byRole[role] = value;
      else if (value !== '') other[column] = value;
    });
    const orNull = (v: string | undefined): string | null => (v === undefined || v === '' ? null : v);
    const status = (byRole.status ?? '').toLowerCase();
    workflows.push({
      line,
      id: orNull(byRole.id),
      name: orNull(byRole.name),
      trigger: orNull(byRole.trigger),
      conditions: list(byRole.conditions ?? ''),
      actions: list(byRole.actions ?? ''),
      schedule: orNull(byRole.schedule),
      status: INACTIVE.has(status) ? 'inactive' : ACTIVE.has(status) ? 'active' : 'unknown',
      lastModified: orNull(byRole.lastModified),
      other,
    });
  }
  return workflowReferenceOf(workflows);
}

/** The rebuild reference of these workflow definitions (counts derived from them). */
export function workflowReferenceOf(workflows: WorkflowDefinition[]): WorkflowReference {
  return {
    note: 'Rebuild reference: these workflows/automations were not migrated; recreate them in Twenty.',
    count: workflows.length,
    active: workflows.filter((w) => w.status === 'active').length,
    workflows,
  };
}

/** The same, from rows keyed by column name (Segment's NDJSON chunks carry `cells` as a record). */
export function buildWorkflowReferenceFromRecords(
  rows: Iterable<{ readonly line: number; readonly cells: Readonly<Record<string, string | undefined>> }>,
  header: readonly string[],
): WorkflowReference {
  function* asArrays(): Iterable<{ line: number; cells: string[] }> {
    for (const r of rows) yield { line: r.line, cells: header.map((h) => r.cells[h] ?? '') };
  }
  return buildWorkflowReference(asArrays(), header);
}

/** Largest automation JSON export read for the rebuild reference (bigger files are left alone). */
export const MAX_AUTOMATION_JSON_BYTES = 10 * 1024 * 1024;

/**
 * The automation/workflow definitions a JSON export holds — a top-level array of objects, or an
 * object whose one array property holds them (`{"campaigns": [...]}`) — as header + rows for
 * {@link buildWorkflowReference}: every key a column, nested values as JSON text. Null when the
 * JSON is not such a list (it is then an ordinary attachment).
 */
export function workflowRowsFromJson(
  text: string,
): { header: string[]; rows: { line: number; cells: string[] }[] } | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return null;
  }
  const list = Array.isArray(parsed)
    ? parsed
    : typeof parsed === 'object' && parsed !== null
      ? Object.values(parsed as Record<string, unknown>).find(Array.isArray)
      : undefined;
  if (!Array.isArray(list) || list.length === 0) return null;
  if (!list.every((item) => typeof item === 'object' && item !== null && !Array.isArray(item))) return null;
  const header: string[] = [];
  for (const item of list)
    for (const key of Object.keys(item as object)) if (!header.includes(key)) header.push(key);
  const roles = rolesOf(header);
  // A list of automations names at least a trigger or actions (else it is some other data).
  if (![...roles.values()].some((role) => role === 'trigger' || role === 'actions')) return null;
  const rows = list.map((item, i) => ({
    line: i + 1,
    cells: header.map((key) => {
      const value = (item as Record<string, unknown>)[key];
      if (value === undefined || value === null) return '';
      return typeof value === 'string' ? value : JSON.stringify(value);
    }),
  }));
  return { header, rows };
}
