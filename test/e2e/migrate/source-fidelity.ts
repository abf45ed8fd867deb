import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { recordId } from '../../../lambdas/core/mapping/ids.ts';
import type { SandboxDump } from '../../../lib/sandbox/engine.ts';

/**
 * Independent fidelity check for the migrate e2e test: expected values come from the generated
 * CSVs read here with csv-parse and a handful of well-defined rules (trim, lower-case, × 1e6),
 * never from the pipeline's mapRow, so a mapping bug cannot confirm itself. Findings name the
 * entity, the source line and the field rule, never a value.
 */

type Row = Record<string, string>;
type Rec = Record<string, unknown>;

/** One source row as parsed: its cells and the physical line range it spans (header is line 1). */
interface SourceRow {
  readonly cells: Row;
  readonly firstLine: number;
  readonly lastLine: number;
}

/** What the checks of one record can look up. */
interface Lookup {
  id(entity: string, sourceId: string): string;
  /** Whether the source record of that entity loaded (so a nullable relation must point at it). */
  loaded(entity: string, sourceId: string): boolean;
  targetsOf(object: 'taskTarget' | 'noteTarget', parentColumn: string, parentId: string): Rec[];
  fileSha(record: Rec): string | undefined;
  documentSha(fileName: string): string;
}

interface EntityCheck {
  readonly entity: string;
  readonly file: string;
  readonly idColumn: string;
  /** Singular Twenty object name (the dump's key). */
  readonly object: string;
  /** Staff email column: a row whose email (trimmed, lower-case) is a workspace member's is not loaded. */
  readonly memberEmailColumn?: string;
  /** Field rule → whether it holds for this record. */
  readonly rules: (record: Rec, row: Row, at: Lookup) => Record<string, boolean>;
}

const trim = (s: string | undefined): string => (s ?? '').trim();
const collapse = (s: string): string => s.trim().replace(/\s+/g, ' ');
const micros = (cell: string | undefined): number | null => {
  const t = trim(cell).replace(/[$,]/g, '');
  return t === '' ? null : Math.round(Number(t) * 1e6);
};
const obj = (v: unknown): Rec => (typeof v === 'object' && v !== null ? (v as Rec) : {});

/** FULL_NAME from separate first/last columns (APMS: first + middle initial in firstName). */
function namesEqual(record: Rec, first: string, last: string): boolean {
  const name = obj(record.name);
  return name.firstName === collapse(first) && name.lastName === trim(last);
}

/** FULL_NAME from one provider column: "Last, First" or "Dr. First Last" (the courtesy prefix dropped). */
function providerNameEqual(record: Rec, cell: string): boolean {
  const name = obj(record.name);
  const value = collapse(cell);
  const comma = value.indexOf(',');
  if (comma > 0)
    return name.lastName === value.slice(0, comma).trim() && name.firstName === value.slice(comma + 1).trim();
  return `${String(name.firstName)} ${String(name.lastName)}` === value.replace(/^Dr\.?\s+/i, '');
}

/** The source email (trimmed, lower-cased) is the primary email, or an additional one (families). */
function emailEqual(record: Rec, cell: string | undefined): boolean {
  const want = trim(cell).toLowerCase();
  const emails = obj(record.emails);
  if (want === '') return emails.primaryEmail == null || emails.primaryEmail === '';
  const additional = Array.isArray(emails.additionalEmails) ? emails.additionalEmails : [];
  return emails.primaryEmail === want || additional.includes(want);
}

function moneyEqual(record: Rec, field: string, cell: string | undefined): boolean {
  const want = micros(cell);
  const got = obj(record[field]).amountMicros;
  return want === null ? got == null : Number(got) === want;
}

/** The markdown (escapes removed, whitespace collapsed) starts with the source's first words. */
function bodyStartsWith(record: Rec, cell: string | undefined): boolean {
  const markdown = String(obj(record.bodyV2).markdown ?? '');
  const words = collapse(cell ?? '')
    .split(' ')
    .slice(0, 4)
    .join(' ');
  return collapse(markdown.replaceAll('\\', '')).startsWith(words);
}

/** A person target of a task/note (v1 `personId`, v2 `targetPersonId`). */
function targetsPerson(targets: Rec[], personId: string): boolean {
  return targets.some((t) => t.personId === personId || t.targetPersonId === personId);
}

const PBN: EntityCheck[] = [
  {
    entity: 'providers',
    file: 'providers.csv',
    idColumn: 'Provider ID',
    object: 'person',
    memberEmailColumn: 'Email',
    rules: (r, row) => ({
      'name from "Dr. First Last"': providerNameEqual(r, row['Provider Name'] ?? ''),
      'email trimmed lower-case': emailEqual(r, row.Email),
    }),
  },
  {
    entity: 'patients',
    file: 'patients.csv',
    idColumn: 'Patient ID',
    object: 'person',
    rules: (r, row) => ({
      'name = trimmed first/last': namesEqual(r, row['First Name'] ?? '', row['Last Name'] ?? ''),
      'email trimmed lower-case': emailEqual(r, row.Email),
    }),
  },
  {
    entity: 'appointments',
    file: 'appointments.csv',
    idColumn: 'Appointment ID',
    object: 'task',
    rules: (r, row, at) => ({
      'title = trimmed type': r.title === trim(row['Appointment Type']),
      'task target = patient id': targetsPerson(
        at.targetsOf('taskTarget', 'taskId', String(r.id)),
        at.id('patients', trim(row['Patient ID'])),
      ),
    }),
  },
  {
    entity: 'treatmentPlans',
    file: 'treatment_plans.csv',
    idColumn: 'Treatment Plan ID',
    object: 'treatmentPlan',
    rules: (r, row, at) => ({
      'name = trimmed plan name': r.name === trim(row['Plan Name']),
      'personId = patient id': r.personId === at.id('patients', trim(row['Patient ID'])),
      'estimatedCost micros = amount × 1e6': moneyEqual(r, 'estimatedCost', row['Estimated Cost']),
    }),
  },
  {
    entity: 'treatmentPlanLineItems',
    file: 'treatment_plan_line_items.csv',
    idColumn: 'Line Item ID',
    object: 'treatmentPlan',
    rules: (r, row, at) => ({
      'procedureCode = trimmed code': r.procedureCode === trim(row['Procedure Code']),
      'parentPlanId = plan id': r.parentPlanId === at.id('treatmentPlans', trim(row['Treatment Plan ID'])),
      'personId = patient id': r.personId === at.id('patients', trim(row['Patient ID'])),
      'fee micros = amount × 1e6': moneyEqual(r, 'fee', row.Fee),
    }),
  },
  {
    entity: 'billingRecords',
    file: 'patient_balances.csv',
    idColumn: 'Billing Record ID',
    object: 'billingRecord',
    rules: (r, row, at) => ({
      'name = source id': r.name === trim(row['Billing Record ID']),
      'personId = patient id': r.personId === at.id('patients', trim(row['Patient ID'])),
      'balance micros = amount × 1e6': moneyEqual(r, 'balance', row['Current Balance']),
    }),
  },
  {
    entity: 'notes',
    file: 'clinical_notes.csv',
    idColumn: 'Note ID',
    object: 'note',
    rules: (r, row, at) => ({
      'body starts with the note text': bodyStartsWith(r, row.Note),
      'note target = patient id': targetsPerson(
        at.targetsOf('noteTarget', 'noteId', String(r.id)),
        at.id('patients', trim(row['Patient ID'])),
      ),
    }),
  },
  {
    entity: 'insuranceClaims',
    file: 'insurance_claims.csv',
    idColumn: 'Claim ID',
    object: 'insuranceClaim',
    rules: (r, row, at) => ({
      'name = source id': r.name === trim(row['Claim ID']),
      'personId = patient id': r.personId === at.id('patients', trim(row['Patient ID'])),
      'submittedAmount micros = amount × 1e6': moneyEqual(r, 'submittedAmount', row['Submitted Amount']),
    }),
  },
  {
    entity: 'communications',
    file: 'communication_log.csv',
    idColumn: 'Communication ID',
    object: 'task',
    rules: (r, row, at) => ({
      'title = trimmed type': r.title === trim(row.Type),
      // A logged message is over once attempted; only one still pending is a to-do.
      'status = TODO when pending, else DONE':
        r.status === (trim(row['Delivery Status']) === 'Pending' ? 'TODO' : 'DONE'),
      'task target = patient id': targetsPerson(
        at.targetsOf('taskTarget', 'taskId', String(r.id)),
        at.id('patients', trim(row['Patient ID'])),
      ),
    }),
  },
];

/** A practice relation with onMissing null: the practice's id when it loaded, else null. */
function practiceRef(r: Rec, column: string, row: Row, at: Lookup): boolean {
  const practice = trim(row['Practice ID']);
  return practice !== '' && at.loaded('practices', practice)
    ? r[column] === at.id('practices', practice)
    : r[column] == null;
}

const APMS: EntityCheck[] = [
  {
    entity: 'practices',
    file: 'Practices.csv',
    idColumn: 'Practice ID',
    object: 'company',
    rules: (r, row) => ({ 'name = trimmed practice name': r.name === trim(row['Practice Name']) }),
  },
  {
    entity: 'providers',
    file: 'Providers.csv',
    idColumn: 'Provider ID',
    object: 'person',
    memberEmailColumn: 'Email',
    rules: (r, row) => ({
      'name from "Last, First"': providerNameEqual(r, row['Provider Name'] ?? ''),
      'email trimmed lower-case': emailEqual(r, row.Email),
    }),
  },
  {
    entity: 'patients',
    file: 'PatientDemographics.csv',
    idColumn: 'Pt Acct #',
    object: 'person',
    rules: (r, row, at) => ({
      'name = trimmed "first MI"/last': namesEqual(
        r,
        `${row['Pt First Name'] ?? ''} ${row['Pt MI'] ?? ''}`,
        row['Pt Last Name'] ?? '',
      ),
      'email trimmed lower-case': emailEqual(r, row['Pt Email']),
      'companyId = practice id': r.companyId === at.id('practices', trim(row['Practice ID'])),
    }),
  },
  {
    entity: 'insurancePayers',
    file: 'InsurancePayers.csv',
    idColumn: 'Payer ID',
    object: 'insurancePayer',
    rules: (r, row, at) => ({
      'name = trimmed payer name': r.name === trim(row['Payer Name']),
      'personId = patient id': r.personId === at.id('patients', trim(row['Pt Acct #'])),
    }),
  },
  {
    entity: 'cases',
    file: 'Cases.csv',
    idColumn: 'Case #',
    object: 'opportunity',
    rules: (r, row, at) => ({
      'name = trimmed case name': r.name === trim(row['Case Name']),
      'pointOfContactId = patient id': r.pointOfContactId === at.id('patients', trim(row['Pt Acct #'])),
      'companyId = practice id or null': practiceRef(r, 'companyId', row, at),
      'amount micros = reimbursement × 1e6': moneyEqual(r, 'amount', row['Expected Reimbursement']),
    }),
  },
  {
    entity: 'appointments',
    file: 'Appointments.csv',
    idColumn: 'Appt ID',
    object: 'task',
    rules: (r, row, at) => ({
      'title = trimmed type': r.title === trim(row['Appt Type']),
      'task target = patient id': targetsPerson(
        at.targetsOf('taskTarget', 'taskId', String(r.id)),
        at.id('patients', trim(row['Pt Acct #'])),
      ),
    }),
  },
  {
    entity: 'claims',
    file: 'Claims.csv',
    idColumn: 'Claim #',
    object: 'billingClaim',
    rules: (r, row, at) => ({
      'name = source id': r.name === trim(row['Claim #']),
      'personId = patient id': r.personId === at.id('patients', trim(row['Pt Acct #'])),
      'companyId = practice id or null': practiceRef(r, 'companyId', row, at),
      'amount micros = claim amount × 1e6': moneyEqual(r, 'amount', row['Claim Amount']),
    }),
  },
  {
    entity: 'notes',
    file: 'ClinicalNotes.csv',
    idColumn: 'Note ID',
    object: 'note',
    rules: (r, row, at) => ({
      'body starts with the note text': bodyStartsWith(r, row['Note Text']),
      'note target = patient id': targetsPerson(
        at.targetsOf('noteTarget', 'noteId', String(r.id)),
        at.id('patients', trim(row['Pt Acct #'])),
      ),
    }),
  },
  {
    entity: 'documents',
    file: 'Documents.csv',
    idColumn: 'Doc ID',
    object: 'attachment',
    rules: (r, row, at) => ({
      'name = trimmed document name': r.name === trim(row['Document Name']),
      'person = patient id': targetsPerson([r], at.id('patients', trim(row['Pt Acct #']))),
      'uploaded sha256 = documents/ file sha256':
        at.fileSha(r) !== undefined && at.fileSha(r) === at.documentSha(trim(row['File Name'])),
    }),
  },
];

/**
 * Every row of a generated CSV with the physical lines it spans (BOM and CRLF tolerated). Lines
 * are counted from the bytes csv-parse consumed (its `info.lines` drifts on quoted line breaks).
 */
export function readSourceRows(path: string): SourceRow[] {
  const bytes = readFileSync(path);
  const records = parse(bytes, {
    bom: true,
    columns: false,
    info: true,
    relax_column_count: true,
    skip_empty_lines: true,
  }) as unknown as Array<{ record: string[]; info: { bytes: number } }>;
  let counted = 0;
  let newlines = 0;
  /** Line breaks in the file before byte `end`. */
  const linesBefore = (end: number): number => {
    for (; counted < end && counted < bytes.length; counted++) if (bytes[counted] === 0x0a) newlines++;
    return newlines;
  };
  const header = records[0]?.record ?? [];
  const rows: SourceRow[] = [];
  let previousEnd = records[0]?.info.bytes ?? 0;
  for (const { record, info } of records.slice(1)) {
    const cells: Row = {};
    header.forEach((h, i) => {
      cells[h] = record[i] ?? '';
    });
    const firstLine = linesBefore(previousEnd) + 1;
    const lastLine = Math.max(firstLine, linesBefore(info.bytes));
    rows.push({ cells, firstLine, lastLine });
    previousEnd = info.bytes;
  }
  return rows;
}

/** `rejects.csv` → file → rejected line numbers. */
export function rejectedLines(rejectsCsv: string): Map<string, Set<number>> {
  const rows = parse(rejectsCsv, { columns: true, skip_empty_lines: true }) as Row[];
  const byFile = new Map<string, Set<number>>();
  for (const r of rows) {
    const file = trim(r.file).replace(/^.*\//, '');
    const set = byFile.get(file) ?? new Set<number>();
    set.add(Number(r.line));
    byFile.set(file, set);
  }
  return byFile;
}

export interface FidelityResult {
  /** Entity → records compared (every loaded source record). */
  readonly checked: Record<string, number>;
  /** `entity line N: rule` for every rule that does not hold (and loaded records not found). */
  readonly findings: string[];
}

/**
 * Compares every loaded source record of the export in `dir` with its record in the dump. A row
 * is loaded unless rejects.csv names its file and one of its lines. Pre-existing people matched
 * by email are found by `mergedInto` (their id is the pre-existing one, not the deterministic id).
 */
export function checkSourceFidelity(options: {
  source: 'pbn' | 'apms';
  dir: string;
  dump: SandboxDump;
  sourceInstance: string;
  rejectsCsv: string;
  /** People created in the workspace before the run; the patient with that email merges into them. */
  preexisting: ReadonlyArray<{ id: string; email: string }>;
  /** Emails of the workspace's members: providers who are members must not become people. */
  memberEmails: readonly string[];
}): FidelityResult {
  const { source, dir, dump, sourceInstance } = options;
  const checks = source === 'pbn' ? PBN : APMS;
  const rejected = rejectedLines(options.rejectsCsv);
  const live = (object: string) => (dump.records[object] ?? []).filter((r) => r.deletedAt == null);
  const byId = new Map<string, Rec>();
  for (const object of Object.keys(dump.records)) for (const r of live(object)) byId.set(String(r.id), r);
  const loadedIds = new Map<string, Set<string>>();
  const rowsOf = new Map<string, Array<SourceRow & { loaded: boolean; member: boolean }>>();
  const members = new Set(options.memberEmails.map((e) => trim(e).toLowerCase()));
  for (const check of checks) {
    const rows = readSourceRows(join(dir, check.file)).map((row) => {
      const lines = rejected.get(check.file) ?? new Set<number>();
      let hit = false;
      for (let l = row.firstLine; l <= row.lastLine; l++) if (lines.has(l)) hit = true;
      const member =
        check.memberEmailColumn !== undefined &&
        members.has(trim(row.cells[check.memberEmailColumn]).toLowerCase());
      return { ...row, loaded: !hit && !member, member };
    });
    rowsOf.set(check.entity, rows);
    loadedIds.set(
      check.entity,
      new Set(rows.filter((r) => r.loaded).map((r) => trim(r.cells[check.idColumn]))),
    );
  }
  const mergedInto = new Map<string, string>();
  const patients = checks.find((c) => c.entity === 'patients');
  const emailColumn = source === 'pbn' ? 'Email' : 'Pt Email';
  for (const row of rowsOf.get('patients') ?? []) {
    const email = trim(row.cells[emailColumn]).toLowerCase();
    const match = options.preexisting.find((p) => p.email === email);
    if (row.loaded && match && patients)
      mergedInto.set(`patients:${trim(row.cells[patients.idColumn])}`, match.id);
  }
  const targets = new Map<string, Rec[]>();
  for (const object of ['taskTarget', 'noteTarget'] as const)
    for (const t of live(object)) {
      const parent = String(object === 'taskTarget' ? t.taskId : t.noteId);
      targets.set(`${object}:${parent}`, [...(targets.get(`${object}:${parent}`) ?? []), t]);
    }
  const filesByPath = new Map(dump.files.map((f) => [f.path, f.sha256]));
  const filesById = new Map(dump.files.map((f) => [f.id, f.sha256]));
  const idOf = (entity: string, sourceId: string): string =>
    mergedInto.get(`${entity}:${sourceId}`) ?? recordId(sourceInstance, source, entity, sourceId);
  const at: Lookup = {
    id: idOf,
    loaded: (entity, sourceId) => loadedIds.get(entity)?.has(sourceId) ?? false,
    targetsOf: (object, _column, parentId) => targets.get(`${object}:${parentId}`) ?? [],
    fileSha: (record) => {
      if (typeof record.fullPath === 'string' && filesByPath.has(record.fullPath))
        return filesByPath.get(record.fullPath);
      const files = Array.isArray(record.file) ? (record.file as Rec[]) : [];
      const first = files[0];
      return first ? filesById.get(String(first.fileId)) : undefined;
    },
    documentSha: (fileName) =>
      createHash('sha256')
        .update(readFileSync(join(dir, 'documents', fileName)))
        .digest('hex'),
  };

  const checked: Record<string, number> = {};
  const findings: string[] = [];
  for (const check of checks) {
    checked[check.entity] = 0;
    for (const row of rowsOf.get(check.entity) ?? []) {
      const where = `${check.entity} line ${row.firstLine}`;
      if (row.member && byId.has(idOf(check.entity, trim(row.cells[check.idColumn]))))
        findings.push(`${where}: a workspace member loaded as a ${check.object}`);
      if (!row.loaded) continue;
      const record = byId.get(idOf(check.entity, trim(row.cells[check.idColumn])));
      if (!record) {
        findings.push(`${where}: not in the sandbox (${check.object})`);
        continue;
      }
      checked[check.entity] = (checked[check.entity] ?? 0) + 1;
      for (const [rule, holds] of Object.entries(check.rules(record, row.cells, at)))
        if (!holds) findings.push(`${where}: ${rule}`);
    }
  }
  return { checked, findings };
}
