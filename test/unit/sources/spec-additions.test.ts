import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../lambdas/core/errors.ts';
import { compileEntity } from '../../../lambdas/core/mapping/map-record.ts';
import { type EntitySpecInput, parseMappingSpec } from '../../../lambdas/core/mapping/spec.ts';
import {
  apmsProfile,
  bindProfile,
  buildWorkflowReference,
  dropFileOf,
  missingFileReject,
  pbnProfile,
} from '../../../lambdas/core/sources/index.ts';

const NOW = Date.UTC(2025, 5, 1);

function entityOf(entity: EntitySpecInput) {
  const spec = parseMappingSpec({ version: 1, source: 'generic', entities: { e: entity } }, 'test');
  return {
    spec,
    compiled: compileEntity('e', spec.entities.e as never, { options: spec.options, now: NOW }),
  };
}

describe('constant field values', () => {
  it('gives every record the constant, through the transform and value map', () => {
    const { compiled } = entityOf({
      files: ['a.csv'],
      target: 'task',
      idColumn: 'Id',
      fields: {
        title: { from: 'Type' },
        kind: { value: 'Communication', transform: 'select', valueMap: { Communication: 'COMMUNICATION' } },
        flagged: { value: true, transform: 'boolean' },
        weight: { value: 3, transform: 'number' },
      },
    });
    const r = compiled.mapRow({ Id: '1', Type: 'SMS reminder' });
    expect(r.ok && r.record.fields).toEqual({
      title: 'SMS reminder',
      kind: 'COMMUNICATION',
      flagged: true,
      weight: 3,
    });
    expect(compiled.columns).toEqual(['Id', 'Type']);
  });

  it('rejects a field with both from and value, or neither, naming the path', () => {
    const bad = (fields: Record<string, unknown>) => () =>
      parseMappingSpec(
        {
          version: 1,
          source: 'generic',
          entities: { e: { files: ['a'], target: 'task', idColumn: 'Id', fields } },
        },
        'm.yaml',
      );
    expect(bad({ t: { from: 'A', value: 'x' } })).toThrow(
      'm.yaml: entities.e.fields.t.value: give either from or value',
    );
    expect(bad({ t: { transform: 'text' } })).toThrow('m.yaml: entities.e.fields.t.from: required');
  });

  it('reads a parsed spec with constants back unchanged (mapping.json round trip)', () => {
    const once = parseMappingSpec(pbnProfile.mapping, 'pbn');
    const twice = parseMappingSpec(JSON.parse(JSON.stringify(once)), 'mapping.json');
    expect(twice).toEqual(once);
  });

  it('fails at compile time when the constant is not a valid value of its transform', () => {
    expect(() =>
      entityOf({
        files: ['a.csv'],
        target: 'task',
        idColumn: 'Id',
        fields: { kind: { value: 'Fax', transform: 'select', valueMap: { Call: 'CALL' } } },
      }),
    ).toThrow(ValidationError);
  });

  it('types PbN communication-log tasks as Communication and appointments as Appointment', () => {
    const spec = parseMappingSpec(pbnProfile.mapping, 'pbn');
    const ctx = { options: spec.options, now: NOW };
    const comms = compileEntity('communications', spec.entities.communications as never, ctx);
    const r = comms.mapRow({
      'Communication ID': 'C1',
      'Patient ID': '1',
      Type: 'Recall reminder',
      'Sent At': '2024-03-01T10:00:00',
    });
    expect(r.ok && r.record.fields.taskType).toBe('COMMUNICATION');
    const appts = spec.entities.appointments;
    expect(appts?.fields.taskType?.value).toBe('Appointment');
    expect(appts?.fields.taskType?.custom?.options).toEqual(
      spec.entities.communications?.fields.taskType?.custom?.options,
    );
  });

  it('defaults a blank APMS practice industry to Healthcare', () => {
    const spec = parseMappingSpec(apmsProfile.mapping, 'apms');
    const practices = compileEntity('practices', spec.entities.practices as never, {
      options: spec.options,
      now: NOW,
    });
    const r = practices.mapRow({ 'Practice ID': 'PR01', 'Practice Name': 'North Clinic', Industry: '' });
    expect(r.ok && r.record.fields.industry).toBe('HEALTHCARE');
  });
});

describe('owners in the profiles', () => {
  it('assign appointment tasks by provider email, and mapRow leaves the owner to ResolveOwners', () => {
    for (const profile of [apmsProfile, pbnProfile]) {
      const spec = parseMappingSpec(profile.mapping, profile.source);
      const appts = spec.entities.appointments;
      expect(appts?.owner).toEqual({ from: 'Provider Email', joinColumn: 'assigneeId' });
      expect(spec.entities.patients?.owner).toBeUndefined();
      const compiled = compileEntity('appointments', appts as never, { options: spec.options, now: NOW });
      const r = compiled.mapRow({
        'Appt ID': '1',
        'Appointment ID': '1',
        'Appt Type': 'Exam',
        'Appointment Type': 'Exam',
        'Appt Date': '03/01/2024 09:00',
        'Appointment Date': '2024-03-01T09:00:00',
        'Provider Email': 'not-an-email',
      });
      expect(r.ok, profile.source).toBe(true);
      if (r.ok) expect(r.record.fields.assigneeId).toBeUndefined();
    }
  });

  it('flag providers loaded as people with a constant isProvider', () => {
    const spec = parseMappingSpec(apmsProfile.mapping, 'apms');
    expect(spec.entities.providers?.fields.isProvider).toMatchObject({
      value: true,
      custom: { type: 'BOOLEAN' },
    });
  });

  it('are rebound to the dropped header spelling with pivot and file columns', () => {
    const bound = parseMappingSpec(
      bindProfile(apmsProfile, [
        { stem: 'Appts', header: ['Appt ID', 'Appt Date', 'Appt Type', 'Pt Acct #', 'provider email'] },
        { stem: 'Docs', header: ['Doc ID', 'Document Name', 'Filename', 'Pt Acct #'] },
      ]),
      'bound',
    );
    expect(bound.entities.appointments?.owner?.from).toBe('provider email');
    expect(bound.entities.documents?.file).toEqual({ from: 'Filename', baseDir: 'documents/' });
    expect(bound.entities.patients).toBeUndefined();
  });
});

describe('dropFileOf / missingFileReject', () => {
  const docs = { file: { from: 'File Name', baseDir: 'documents/' } };

  it('locates the file under the base folder, normalising separators and refusing to climb out', () => {
    expect(dropFileOf(docs, { 'File Name': 'a.pdf' })).toEqual({
      column: 'File Name',
      path: 'documents/a.pdf',
    });
    expect(dropFileOf(docs, { 'File Name': '.\\scans\\b.png' })?.path).toBe('documents/scans/b.png');
    expect(dropFileOf(docs, { 'File Name': 'Documents/c.txt' })?.path).toBe('Documents/c.txt');
    expect(dropFileOf(docs, { 'File Name': '../../etc/passwd' })?.path).toBe('documents/etc/passwd');
    expect(dropFileOf(docs, { 'File Name': '  ' })).toBeNull();
    expect(dropFileOf({}, { 'File Name': 'a.pdf' })).toBeNull();
  });

  it('rejects MISSING_FILE naming the column, never the path', () => {
    const present = new Set(['documents/a.pdf']);
    const exists = (p: string) => present.has(p);
    expect(missingFileReject(docs, { 'File Name': 'a.pdf' }, exists)).toBeNull();
    const reject = missingFileReject(docs, { 'File Name': 'secret-name.pdf' }, exists);
    expect(reject).toMatchObject({ field: 'File Name', reason: 'MISSING_FILE' });
    expect(JSON.stringify(reject)).not.toContain('secret-name');
  });
});

describe('buildWorkflowReference', () => {
  it('structures each workflow row by column role and counts the active ones', () => {
    const header = ['Workflow ID', 'Workflow Name', 'Trigger', 'Conditions', 'Actions', 'Active', 'Owner'];
    const ref = buildWorkflowReference(
      [
        {
          line: 2,
          cells: [
            'WF1',
            'Reminder',
            'Appointment scheduled',
            'status = Scheduled',
            'Send SMS; send email',
            'Yes',
            'Front desk',
          ],
        },
        {
          line: 3,
          cells: ['WF2', 'Recall', 'Recall date reached', 'none', 'Send postcard\nadd call task', 'No', ''],
        },
      ],
      header,
    );
    expect(ref.count).toBe(2);
    expect(ref.active).toBe(1);
    expect(ref.workflows[0]).toMatchObject({
      id: 'WF1',
      name: 'Reminder',
      trigger: 'Appointment scheduled',
      conditions: ['status = Scheduled'],
      actions: ['Send SMS', 'send email'],
      status: 'active',
      schedule: null,
      other: { Owner: 'Front desk' },
    });
    expect(ref.workflows[1]).toMatchObject({
      conditions: [],
      actions: ['Send postcard', 'add call task'],
      status: 'inactive',
    });
  });

  it('reads another vendor spelling and keeps unknown status as unknown', () => {
    const ref = buildWorkflowReference(
      [{ line: 2, cells: ['Nightly recall', 'Daily 02:00', 'Enqueue calls'] }],
      ['Automation Name', 'Frequency', 'Steps'],
    );
    expect(ref.workflows[0]).toMatchObject({
      name: 'Nightly recall',
      schedule: 'Daily 02:00',
      actions: ['Enqueue calls'],
      status: 'unknown',
    });
  });
});
