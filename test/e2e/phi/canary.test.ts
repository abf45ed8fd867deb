import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Log, LogFields } from '../../../lambdas/ports/log.ts';
import { type TaskEntry, taskRegistry } from '../../../lambdas/tasks/registry.ts';
import { uploadExportFolder } from '../../../lib/cli/drop-folder.ts';
import { generateExport } from '../../../lib/generate/index.ts';
import { autoApprover } from '../../../lib/local/approvals.ts';
import { type LocalExecution, type LocalRuntime, startLocalRuntime } from '../../../lib/local/runtime.ts';
import { type RunningSandbox, startSandbox } from '../../../lib/sandbox/index.ts';

const repoRoot = join(import.meta.dirname, '..', '..', '..');

/**
 * Canary values: unique strings no generator, id or message could produce by chance. `loads` are in
 * valid rows and must reach Twenty (so the test can fail); `never` sit in rejected rows or in columns
 * Ferry must not migrate (SSN) and must reach nothing at all.
 */
interface Canaries {
  readonly loads: readonly string[];
  readonly never: readonly string[];
  /** rejects.csv fragments the canary rows must produce (id, field, rule or the malformed detail). */
  readonly rejects: readonly string[];
  /**
   * Loaded values of fixed formats (phones, dates), by what they are, with every spelling Ferry may
   * write them in: none may appear where the text canaries may not.
   */
  readonly formatted?: readonly (readonly [string, readonly string[]])[];
}

/** Appends rows (keyed by header) to a generated CSV, keeping its line ending; `extra` makes a ragged row. */
function appendRows(file: string, rows: readonly Record<string, string>[], extra: string[][] = []): void {
  const text = readFileSync(file, 'latin1');
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const header = (text.replace(/^\uFEFF|^ï»¿/, '').split(/\r?\n/)[0] ?? '')
    .split(',')
    .map((h) => h.replaceAll('"', ''));
  const quote = (v: string) => `"${v.replaceAll('"', '""')}"`;
  const lines = rows.map((row) => header.map((h) => quote(row[h] ?? '')).join(','));
  for (const cells of extra) lines.push(cells.map(quote).join(','));
  appendFileSync(file, `${text.endsWith('\n') ? '' : eol}${lines.join(eol)}${eol}`, 'latin1');
}

/**
 * Plants canaries into a generated PbN export; returns them. The loaded patient carries one in every
 * PHI column of patients.csv — names, email, both phones, both address lines, city, birth date,
 * occupation — and its appointment, clinical note, message, treatment plan and plan line carry one in
 * each free-text field. Phones and the birth date must stay valid to load, so theirs are values no
 * generator writes (a Manhattan exchange, 29 February 1904), searched for in every form Ferry may
 * write them in.
 */
function plantPbn(dir: string): Canaries {
  const c = (tag: string) => `Zqx7Canary${tag}Pbn`;
  const patient = {
    'Patient ID': '19901',
    'First Name': c('First'),
    'Last Name': c('Last'),
    Email: `${c('Mail').toLowerCase()}@example.org`,
    'Cell Phone': '(212) 736-0917',
    'Home Phone': '(212) 736-0983',
    'Address 1': `12 ${c('Street')} Rd`,
    'Address 2': `Suite ${c('Suite')}`,
    City: c('City'),
    State: 'TX',
    Zip: '78701',
    Birthdate: '02/29/1904',
    Occupation: c('Job'),
    'Created Date': '2020-01-01 10:00:00',
    'Modified Date': '2020-01-02 10:00:00',
  };
  const badEmail = {
    ...patient,
    'Patient ID': '19902',
    'First Name': 'Ada',
    'Last Name': 'Okafor',
    Email: `${c('BadMail')}@@x`,
    'Cell Phone': '',
    'Home Phone': '',
    'Address 1': '',
    'Address 2': '',
    City: 'Austin',
    Birthdate: '01/02/1980',
    Occupation: '',
  };
  const tooLong = { ...badEmail, 'Patient ID': '19903', Email: '', Occupation: c('Long').repeat(20) };
  appendRows(
    join(dir, 'patients.csv'),
    [patient, badEmail, tooLong],
    [['19904', 'Ada', c('Ragged'), 'x', 'y']],
  );
  appendRows(join(dir, 'appointments.csv'), [
    {
      'Appointment ID': '299901',
      'Patient ID': '19901',
      'Appointment Date': '2023-06-12 08:45',
      'Appointment Type': 'Prophy',
      Status: 'Completed',
      Notes: `Patient asked about ${c('Visit')} before the cleaning.`,
      'Created Date': '2023-06-01 10:00:00',
      'Modified Date': '2023-06-01 10:00:00',
    },
  ]);
  appendRows(join(dir, 'clinical_notes.csv'), [
    {
      'Note ID': '699901',
      'Patient ID': '19901',
      'Note Type': 'Clinical',
      Note: `Patient reports ${c('Note')} pain.`,
      'Created By': 'Liam Bramwell',
      'Created Date': '2022-01-24 13:59:06',
    },
  ]);
  appendRows(join(dir, 'communication_log.csv'), [
    {
      'Communication ID': '899901',
      'Patient ID': '19901',
      Type: 'Follow-up',
      Channel: 'SMS',
      Message: `Hi, ${c('Message')} from your dental office.`,
      'Sent At': '2025-01-04 16:17:31',
      'Delivery Status': 'Delivered',
    },
  ]);
  appendRows(join(dir, 'treatment_plans.csv'), [
    {
      'Treatment Plan ID': '399901',
      'Patient ID': '19901',
      'Plan Name': c('Plan'),
      Status: 'Accepted',
      'Estimated Cost': '100.00',
      'Presented Date': '01/12/2024',
    },
  ]);
  appendRows(join(dir, 'treatment_plan_line_items.csv'), [
    {
      'Line Item ID': '499901',
      'Treatment Plan ID': '399901',
      'Patient ID': '19901',
      'Procedure Code': 'D2391',
      Description: `Composite for ${c('Line')}`,
      Tooth: '25',
      Surface: 'D',
      Fee: '195.00',
      Status: 'Proposed',
    },
  ]);
  return {
    loads: [
      c('First'),
      c('Last'),
      c('Mail'),
      c('Street'),
      c('Suite'),
      c('City'),
      c('Job'),
      c('Visit'),
      c('Note'),
      c('Message'),
      c('Plan'),
      c('Line'),
    ],
    formatted: [
      ['cell phone', ['7360917', '736-0917', '736 0917']],
      ['home phone', ['7360983', '736-0983', '736 0983']],
      ['birth date', ['1904-02-29', '02/29/1904', '29/02/1904']],
    ],
    never: [c('BadMail'), c('Long'), c('Ragged')],
    rejects: [
      '19902,emails,INVALID_EMAIL',
      '19903,jobTitle,VALUE_TOO_LONG',
      'MALFORMED_ROW,row has 5 cells but the header has 22',
    ],
  };
}

/**
 * Plants canaries into a generated APMS export; returns them. The loaded patient carries one in every
 * PHI column of PatientDemographics.csv (names, middle initial, SSN — which must go nowhere — email,
 * both phones, both address lines, city, birth date, occupation), and its custom property, note,
 * appointment, insurance policy and case carry one in each free-text field.
 */
function plantApms(dir: string): Canaries {
  const c = (tag: string) => `Zqx7Canary${tag}Apms`;
  const patient = {
    'Pt Acct #': '199901',
    'Pt Last Name': c('Last'),
    'Pt First Name': c('First'),
    'Pt MI': c('Mi'),
    'Pt DOB': '02/29/1904',
    'Pt SSN': c('Ssn'),
    'Pt Email': `${c('Mail').toLowerCase()}@example.org`,
    'Pt Home Phone': '(212) 736-0983',
    'Pt Cell Phone': '212-736-0917',
    'Pt Address 1': `12 ${c('Street')} Rd`,
    'Pt Address 2': `Suite ${c('Suite')}`,
    'Pt City': c('City'),
    'Pt State': 'MA',
    'Pt Zip': '02134',
    'Pt Occupation': c('Job'),
    'Practice ID': 'PR02',
    'Date Created': '04/07/2022 05:55:51',
  };
  const plain = {
    ...patient,
    'Pt Last Name': 'Okafor',
    'Pt First Name': 'Ada',
    'Pt MI': '',
    'Pt DOB': '01/02/1980',
    'Pt SSN': '',
    'Pt Home Phone': '',
    'Pt Cell Phone': '',
    'Pt Address 1': '',
    'Pt Address 2': '',
    'Pt City': 'Boston',
    'Pt Occupation': '',
  };
  const badEmail = { ...plain, 'Pt Acct #': '199902', 'Pt Email': `${c('BadMail')}@@x` };
  const tooLong = { ...plain, 'Pt Acct #': '199903', 'Pt Email': '', 'Pt Occupation': c('Long').repeat(20) };
  appendRows(
    join(dir, 'PatientDemographics.csv'),
    [patient, badEmail, tooLong],
    [['199904', c('Ragged'), 'Ada']],
  );
  appendRows(join(dir, 'PatientCustomProperties.csv'), [
    { PatientID: '199901', PropertyName: 'Insurance Group ID', PropertyValue: c('Prop') },
  ]);
  appendRows(join(dir, 'ClinicalNotes.csv'), [
    {
      'Note ID': '999901',
      'Pt Acct #': '199901',
      'Note Date': '09/02/2023 08:36:29',
      Author: "Dara O'Connor, MD",
      'Note Type': 'Clinical',
      'Note Text': `Patient reports ${c('Note')} pain.`,
    },
  ]);
  appendRows(join(dir, 'Appointments.csv'), [
    {
      'Appt ID': '799901',
      'Pt Acct #': '199901',
      'Practice ID': 'PR02',
      'Appt Date': '08/05/2025 17:30',
      'Appt Type': 'Consultation',
      'Appt Status': 'Scheduled',
      'Appt Notes': `Asked about ${c('Visit')}.`,
    },
  ]);
  appendRows(join(dir, 'InsurancePayers.csv'), [
    {
      'Payer ID': 'PY999901',
      'Pt Acct #': '199901',
      'Payer Name': 'Aetna',
      'Policy Type': 'HMO',
      'Policy #': c('Policy'),
      'Group #': c('Group'),
      'Coverage Notes': `Covers ${c('Coverage')} only`,
      'Effective Date': '02/13/2025',
    },
  ]);
  appendRows(join(dir, 'Cases.csv'), [
    {
      'Case #': '599901',
      'Pt Acct #': '199901',
      'Practice ID': 'PR02',
      'Case Name': c('Case'),
      'Case Type': 'Surgical',
      'Case Status': 'Closed - Paid',
      'Billed Amount': '$100.00',
      'Expected Reimbursement': '$80.00',
      'Opened Date': '04/04/2025',
      'Closed Date': '05/13/2025',
    },
  ]);
  return {
    loads: [
      c('Last'),
      c('First'),
      c('Mi'),
      c('Mail'),
      c('Street'),
      c('Suite'),
      c('City'),
      c('Job'),
      c('Prop'),
      c('Note'),
      c('Visit'),
      c('Policy'),
      c('Group'),
      c('Coverage'),
      c('Case'),
    ],
    formatted: [
      ['cell phone', ['7360917', '736-0917', '736 0917']],
      ['home phone', ['7360983', '736-0983', '736 0983']],
      ['birth date', ['1904-02-29', '02/29/1904', '29/02/1904']],
    ],
    never: [c('Ssn'), c('BadMail'), c('Long'), c('Ragged')],
    rejects: [
      '199902,emails,INVALID_EMAIL',
      '199903,jobTitle,VALUE_TOO_LONG',
      'MALFORMED_ROW,row has 3 cells but the header has 17',
    ],
  };
}

/** The canaries (any case) that occur in `text`. */
function found(text: string, canaries: readonly string[]): string[] {
  const lower = text.toLowerCase();
  return canaries.filter((c) => lower.includes(c.toLowerCase()));
}

/** A debug-level Log that keeps every line as JSON. */
function capturingLog(lines: string[]): Log {
  const at =
    (level: string) =>
    (message: string, fields?: LogFields): void => {
      lines.push(JSON.stringify({ level, message, ...fields }));
    };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** Runs the CLI with the Node 24 that runs the tests. */
function ferry(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(repoRoot, 'bin/ferry.ts'), ...args], {
      cwd: repoRoot,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
    });
    child.stderr.on('data', (chunk) => {
      out += chunk;
    });
    child.stdin.end();
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out }));
  });
}

/**
 * Work-bucket objects that hold record values by design: canonical chunks, load inputs (the full
 * load's and the sample's), the ledger's before-images, and the sample diff — the page on which the
 * operator checks values before approving the full load. Everything else under `runs/<runId>/` is an
 * operator-facing artefact that must carry none.
 */
const HOLDS_VALUES = /^runs\/[^/]+\/((chunks|load|sample|before-images?)\/|sample-diff\.(json|html)$)/;

describe.each(['pbn', 'apms'] as const)('PHI canaries in a %s export', (source) => {
  let dir: string;
  let canaries: Canaries;
  let sandbox: RunningSandbox;
  let runtime: LocalRuntime;
  let run: LocalExecution;
  const logs: string[] = [];
  const payloads: string[] = [];
  const spellings = () => (canaries.formatted ?? []).flatMap(([, forms]) => forms);
  const all = () => [...canaries.loads, ...canaries.never, ...spellings()];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), `ferry-phi-${source}-`));
    const expected = generateExport({ source, patients: 30, seed: 'phi', defects: 0.05, outDir: dir });
    canaries = source === 'pbn' ? plantPbn(dir) : plantApms(dir);
    sandbox = await startSandbox({
      flavor: 'v2',
      rateShort: null,
      rateLong: null,
      members: expected.workspaceMembers,
    });
    // Every state's input and output as the ASL runner passes them (transitions carry no payloads).
    const tasks: TaskEntry[] = taskRegistry.map((entry) => ({
      ...entry,
      run: async (input, deps) => {
        payloads.push(`${entry.stateName} in ${JSON.stringify(input)}`);
        const output = await entry.run(input, deps);
        payloads.push(`${entry.stateName} out ${JSON.stringify(output)}`);
        return output;
      },
    }));
    runtime = await startLocalRuntime({
      inMemory: true,
      retryIntervalMs: 0,
      log: capturingLog(logs),
      tasks,
      twenty: { url: sandbox.url, apiKey: sandbox.apiKey, rate: '1000/1s+60000/60s' },
    });
    const { folder } = await uploadExportFolder(runtime.deps.drop, dir);
    run = await runtime.startExecution(
      'migrate',
      { folder, options: { chunkSize: 25 } },
      { runId: `phi-${source}`, approver: autoApprover('phi') },
    );
  }, 240_000);
  afterAll(async () => {
    await runtime?.stop();
    await sandbox?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('loads the valid canaries into Twenty and none of the rejected or never-migrated ones', async () => {
    expect(run.error).toBeUndefined();
    expect(run.status).toBe('SUCCEEDED');
    const dump = JSON.stringify(await sandbox.dump());
    expect(found(dump, canaries.loads)).toEqual(canaries.loads);
    for (const [what, forms] of canaries.formatted ?? []) expect(found(dump, forms), what).not.toEqual([]);
    expect(found(dump, canaries.never)).toEqual([]);
  });

  it('keeps every canary out of the debug logs, state payloads and the execution result', () => {
    expect(logs.length).toBeGreaterThan(0);
    expect(payloads.length).toBeGreaterThan(0);
    expect(logs.flatMap((line) => found(line, all()).map((c) => `${c} in ${line.slice(0, 160)}`))).toEqual(
      [],
    );
    expect(payloads.flatMap((p) => found(p, all()).map((c) => `${c} in ${p.slice(0, 160)}`))).toEqual([]);
    expect(
      found(JSON.stringify({ output: run.output, error: run.error, transitions: run.transitions }), all()),
    ).toEqual([]);
  });

  it('keeps every canary out of run records, ledger metadata and operator artefacts', async () => {
    const deps = runtime.deps;
    const record = await deps.runStore?.getRun(run.runId);
    expect(record).toBeDefined();
    expect(found(JSON.stringify([record, await deps.runStore?.listRuns()]), all())).toEqual([]);

    let entries = 0;
    for await (const { beforeImage: _values, ...meta } of deps.ledger?.entriesForRun(run.runId) ?? []) {
      entries += 1;
      expect(found(JSON.stringify(meta), all()), meta.twentyId).toEqual([]);
    }
    expect(entries).toBeGreaterThan(0);

    const scanned: string[] = [];
    for await (const object of deps.work.list(`runs/${run.runId}/`)) {
      if (HOLDS_VALUES.test(object.key)) continue;
      scanned.push(object.key);
      expect(found(await deps.work.getText(object.key), all()), object.key).toEqual([]);
    }
    // The values Ferry does hold (load inputs) are where the scan above would have found them.
    const loadInputs: string[] = [];
    for await (const object of deps.work.list(`runs/${run.runId}/load/`))
      loadInputs.push(await deps.work.getText(object.key));
    expect(found(loadInputs.join('\n'), [...canaries.loads, ...canaries.never])).toEqual(canaries.loads);
    for (const artefact of ['rejects.csv', 'plan.json', 'plan.md', 'reconciliation.json', 'owners-report.md'])
      expect(scanned, artefact).toContain(`runs/${run.runId}/${artefact}`);
    expect(scanned).toContain(`runs/${run.runId}/rejects/prepare.ndjson`);
    // The canary rows were rejected for the planted reason, named by file, line, id and rule only.
    const rejects = await deps.work.getText(`runs/${run.runId}/rejects.csv`);
    for (const reject of canaries.rejects) expect(rejects).toContain(reject);
  });

  it('keeps every canary out of `ferry plan`, `ferry run --json`, `ferry status` with --debug and the local reports unless --show-values', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), `ferry-phi-cli-${source}-`));
    try {
      const plan = await ferry(['plan', dir, '--state-dir', stateDir, '--debug']);
      expect(plan.code, plan.out).toBe(0);
      const planJson = await ferry(['plan', dir, '--json', '--state-dir', stateDir, '--debug']);
      expect(planJson.code, planJson.out).toBe(0);
      const result = await ferry(['run', dir, '--yes', '--json', '--state-dir', stateDir, '--debug']);
      expect(result.code, result.out).toBe(0);
      const runId = (JSON.parse(result.out.slice(result.out.indexOf('{\n'))) as { runId: string }).runId;
      const status = await ferry(['status', runId, '--state-dir', stateDir, '--debug']);
      const statusJson = await ferry(['status', '--json', '--state-dir', stateDir, '--debug']);
      expect(status.code, status.out).toBe(0);
      expect(statusJson.out).toContain(runId);
      for (const { out } of [plan, planJson, result, status, statusJson]) {
        expect(out.length).toBeGreaterThan(0);
        expect(found(out, all())).toEqual([]);
      }
      // The local copies of the reports are masked too…
      const reports = (id: string) => ({
        csv: readFileSync(join(stateDir, 'reports', id, 'rejects.csv'), 'utf8'),
        html: readFileSync(join(stateDir, 'reports', id, 'report.html'), 'utf8'),
      });
      const masked = reports(runId);
      expect(found(masked.csv + masked.html, all())).toEqual([]);
      expect(masked.csv.split('\n')[0]).not.toContain('value');

      // …until the operator asks for the values: then the rejected canary rows show them, there only.
      const revealed = await ferry(['run', dir, '--yes', '--json', '--show-values', '--state-dir', stateDir]);
      expect(revealed.code, revealed.out).toBe(0);
      const revealedId = (JSON.parse(revealed.out.slice(revealed.out.indexOf('{\n'))) as { runId: string })
        .runId;
      expect(revealedId).not.toBe(runId);
      const shown = reports(revealedId);
      expect(shown.csv.split('\n')[0]).toBe('file,line,entity,sourceId,field,reason,rule,value');
      // Rejected values are revealed; an SSN never is, not even in a rejected row.
      const rejectedValues = canaries.never.filter((c) => !/Ssn/.test(c));
      expect(found(shown.csv, canaries.never)).toEqual(rejectedValues);
      expect(found(shown.html, canaries.never)).toEqual(rejectedValues);
      expect(shown.html).toContain('id="reject-values"');
      // The run's own artefacts and output stay masked: only the local copies were rewritten.
      expect(found(revealed.out, all())).toEqual([]);
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  }, 240_000);
});

describe('PHI canaries in a pbn run that fails its reconciliation', () => {
  let dir: string;
  let canaries: Canaries;
  let sandbox: RunningSandbox;
  let runtime: LocalRuntime;
  let run: LocalExecution;
  const logs: string[] = [];
  const payloads: string[] = [];
  /** What someone typed into Twenty between the load and the read-back: also PHI, also never to leak. */
  const edited = { firstName: 'Zqx7CanaryEditedFirstPbn', lastName: 'Zqx7CanaryEditedLastPbn' };
  const editedJob = 'Zqx7CanaryEditedJobPbn';
  const all = () => [
    ...canaries.loads,
    ...canaries.never,
    ...(canaries.formatted ?? []).flatMap(([, forms]) => forms),
    edited.firstName,
    edited.lastName,
    editedJob,
  ];

  /** Changes the canary patient in Twenty, as a user would in the UI, so the read-back finds mismatches. */
  async function editCanaryPatient(): Promise<void> {
    const people = (await sandbox.dump()).records.person ?? [];
    const patient = people.find((p) => JSON.stringify(p.name).includes(canaries.loads[1] ?? '-'));
    if (patient === undefined) throw new Error('the canary patient was not loaded');
    const response = await fetch(`${sandbox.url}/rest/people/${String(patient.id)}`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${sandbox.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: edited, jobTitle: editedJob }),
    });
    if (!response.ok) throw new Error(`the edit was refused (${response.status})`);
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ferry-phi-fail-'));
    const expected = generateExport({
      source: 'pbn',
      patients: 30,
      seed: 'phi-fail',
      defects: 0.05,
      outDir: dir,
    });
    canaries = plantPbn(dir);
    sandbox = await startSandbox({
      flavor: 'v2',
      rateShort: null,
      rateLong: null,
      members: expected.workspaceMembers,
    });
    let editedOnce = false;
    const tasks: TaskEntry[] = taskRegistry.map((entry) => ({
      ...entry,
      run: async (input, deps) => {
        if (entry.stateName === 'Reconcile' && !editedOnce) {
          editedOnce = true;
          await editCanaryPatient();
        }
        payloads.push(`${entry.stateName} in ${JSON.stringify(input)}`);
        try {
          const output = await entry.run(input, deps);
          payloads.push(`${entry.stateName} out ${JSON.stringify(output)}`);
          return output;
        } catch (error) {
          payloads.push(`${entry.stateName} threw ${String(error)} ${JSON.stringify(error)}`);
          throw error;
        }
      },
    }));
    runtime = await startLocalRuntime({
      inMemory: true,
      retryIntervalMs: 0,
      log: capturingLog(logs),
      tasks,
      twenty: { url: sandbox.url, apiKey: sandbox.apiKey, rate: '1000/1s+60000/60s' },
    });
    const { folder } = await uploadExportFolder(runtime.deps.drop, dir);
    run = await runtime.startExecution(
      'migrate',
      { folder, options: { chunkSize: 25, tolerance: 0 } },
      { runId: 'phi-fail', approver: autoApprover('phi') },
    );
  }, 240_000);
  afterAll(async () => {
    await runtime?.stop();
    await sandbox?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('fails the run on the edited fields, naming entity, field and record only', async () => {
    const work = runtime.deps.work;
    const reconciliation = JSON.parse(await work.getText(`runs/${run.runId}/reconciliation.json`)) as {
      status: string;
      problems: string[];
      mismatches: { entity: string; field: string; recordId: string }[];
    };
    expect(reconciliation.status).toBe('failed');
    expect(reconciliation.problems).toContain('MISMATCHES_OVER_TOLERANCE');
    const fields = new Set(reconciliation.mismatches.map((m) => `${m.entity}.${m.field}`));
    expect([...fields].some((f) => /name/i.test(f))).toBe(true);
    expect([...fields].some((f) => /jobTitle/.test(f))).toBe(true);
    const record = await runtime.deps.runStore?.getRun(run.runId);
    expect(record?.status).toBe('failed');
  });

  it('keeps the loaded and the edited canaries out of logs, payloads, the result and every operator artefact', async () => {
    const leaks: string[] = [];
    const scan = (where: string, text: string) => {
      for (const canary of found(text, all())) leaks.push(`${canary} in ${where}`);
    };
    expect(logs.length).toBeGreaterThan(0);
    for (const line of logs) scan(`log ${line.slice(0, 120)}`, line);
    for (const payload of payloads) scan(`payload ${payload.slice(0, 120)}`, payload);
    scan('execution', JSON.stringify({ output: run.output, error: run.error, transitions: run.transitions }));
    scan('run record', JSON.stringify(await runtime.deps.runStore?.getRun(run.runId)));
    for await (const { beforeImage: _values, ...meta } of runtime.deps.ledger?.entriesForRun(run.runId) ?? [])
      scan(`ledger ${meta.twentyId}`, JSON.stringify(meta));
    const scanned: string[] = [];
    for await (const object of runtime.deps.work.list(`runs/${run.runId}/`)) {
      if (HOLDS_VALUES.test(object.key)) continue;
      scanned.push(object.key.slice(`runs/${run.runId}/`.length));
      scan(object.key, await runtime.deps.work.getText(object.key));
    }
    for (const artefact of ['reconciliation.json', 'rejects.csv', 'report.html'])
      expect(scanned).toContain(artefact);
    expect(leaks).toEqual([]);
  });
});
