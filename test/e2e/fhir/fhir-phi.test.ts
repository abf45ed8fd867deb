import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
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

const c = (tag: string) => `Zqx7Canary${tag}Fhir`;

/** Canaries planted in a generated FHIR export: `loads` must reach Twenty, `never` nothing at all. */
const LOADS = [c('Family'), c('Street')];
/** A resourceType-shaped canary (letters only), so the reader takes it for a type it does not know. */
const TYPE_CANARY = 'ZqxqCanaryTypeFhir';
const NEVER = [c('Ssn'), c('BadMail'), c('Broken'), TYPE_CANARY, c('Diag')];

function plant(dir: string): void {
  const patient = (id: string, email: string) => ({
    resourceType: 'Patient',
    id,
    name: [{ use: 'official', family: c('Family'), given: ['Ada'] }],
    identifier: [{ system: 'http://hl7.org/fhir/sid/us-ssn', value: c('Ssn') }],
    telecom: [{ system: 'email', value: email }],
    address: [{ line: [`1 ${c('Street')} Rd`], city: 'Austin', state: 'TX', postalCode: '78701' }],
  });
  appendFileSync(
    join(dir, 'Patient.001.ndjson'),
    [
      JSON.stringify(patient('canary-1', 'ada.canary@example.org')),
      JSON.stringify(patient('canary-2', `${c('BadMail')}@@x`)),
      `{"resourceType":"Patient","id":"canary-3","name":[{"family":"${c('Broken')}"`,
      JSON.stringify({ resourceType: TYPE_CANARY, id: 'canary-4' }),
      '',
    ].join('\n'),
  );
  appendFileSync(
    join(dir, 'OperationOutcome.ndjson'),
    `${JSON.stringify({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'processing', diagnostics: c('Diag') }] })}\n`,
  );
}

function found(text: string, canaries: readonly string[]): string[] {
  const lower = text.toLowerCase();
  return canaries.filter((x) => lower.includes(x.toLowerCase()));
}

function capturingLog(lines: string[]): Log {
  const at =
    (level: string) =>
    (message: string, fields?: LogFields): void => {
      lines.push(JSON.stringify({ level, message, ...fields }));
    };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** Work-bucket objects that hold values by design (see test/e2e/phi/canary.test.ts). */
const HOLDS_VALUES = /^runs\/[^/]+\/((chunks|load|sample|before-images?)\/|sample-diff\.(json|html)$)/;

describe('PHI canaries in a FHIR bulk export', () => {
  let dir: string;
  let sandbox: RunningSandbox;
  let runtime: LocalRuntime;
  let run: LocalExecution;
  const logs: string[] = [];
  const payloads: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ferry-phi-fhir-'));
    const expected = generateExport({
      source: 'fhir',
      patients: 10,
      seed: 'phi',
      defects: 0.05,
      outDir: dir,
    });
    plant(dir);
    sandbox = await startSandbox({
      flavor: 'v2',
      rateShort: null,
      rateLong: null,
      members: expected.workspaceMembers,
    });
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
      { folder, options: {} },
      { runId: 'phi-fhir', approver: autoApprover('phi') },
    );
  }, 240_000);
  afterAll(async () => {
    await runtime?.stop();
    await sandbox?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('loads the valid canaries and none of the rejected, broken or SSN ones', async () => {
    expect(run.error).toBeUndefined();
    const dump = JSON.stringify(await sandbox.dump());
    expect(found(dump, LOADS)).toEqual(LOADS);
    expect(found(dump, NEVER)).toEqual([]);
  });

  it('keeps every canary out of logs, state payloads, the run result and operator artefacts', async () => {
    const all = [...LOADS, ...NEVER];
    expect(logs.length).toBeGreaterThan(0);
    expect(logs.flatMap((line) => found(line, all))).toEqual([]);
    expect(payloads.flatMap((p) => found(p, all))).toEqual([]);
    expect(found(JSON.stringify({ output: run.output, error: run.error }), all)).toEqual([]);
    const scanned: string[] = [];
    for await (const object of runtime.deps.work.list(`runs/${run.runId}/`)) {
      if (HOLDS_VALUES.test(object.key)) continue;
      scanned.push(object.key);
      expect(found(await runtime.deps.work.getText(object.key), all), object.key).toEqual([]);
    }
    for (const artefact of ['plan.json', 'plan.md', 'rejects.csv', 'reconciliation.json', 'report.html'])
      expect(scanned).toContain(`runs/${run.runId}/${artefact}`);
    const rejects = await runtime.deps.work.getText(`runs/${run.runId}/rejects.csv`);
    expect(rejects).toContain('canary-2,emails,INVALID_EMAIL');
    expect(rejects).toContain('a resource of another type in a file of Patient resources');
  });
});
