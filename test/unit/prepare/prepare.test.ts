import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../lambdas/core/errors.ts';
import { MappedLineSchema } from '../../../lambdas/core/load/format.ts';
import { recordId } from '../../../lambdas/core/mapping/ids.ts';
import { type MappingSpecInput, parseMappingSpec } from '../../../lambdas/core/mapping/spec.ts';
import { orderEntities, parentsFirst } from '../../../lambdas/core/prepare/order.ts';
import { sampleCandidatesKey } from '../../../lambdas/core/run-layout.ts';
import { readSampleCandidates } from '../../../lambdas/core/sample/candidates.ts';
import { writeSample } from '../../../lambdas/core/sample/chunks.ts';
import { referencedIds } from '../../../lambdas/core/sample/select.ts';
import { csv, type Prepared, RUN_ID, runPrepare } from './harness.ts';

const INSTANCE = 'clinic-a';
const id = (entity: string, sourceId: string): string => recordId(INSTANCE, 'generic', entity, sourceId);

const MAPPING: MappingSpecInput = {
  version: 1,
  source: 'generic',
  entities: {
    clinics: {
      files: ['clinics.csv'],
      target: 'company',
      idColumn: 'Clinic ID',
      fields: {
        name: { from: 'Name', required: true },
        domainName: { from: 'Website', transform: 'links' },
      },
      relations: {
        parent: { entity: 'clinics', from: 'Parent ID', joinColumn: 'parentClinicId', onMissing: 'reject' },
      },
    },
    patients: {
      files: ['patients.csv'],
      target: 'person',
      idColumn: 'Patient ID',
      fields: {
        name: { from: ['First', 'Last'], transform: 'fullName', required: true },
        emails: { from: 'Email', transform: 'email' },
      },
      relations: { clinic: { entity: 'clinics', from: 'Clinic ID', joinColumn: 'companyId' } },
    },
    providers: {
      files: ['providers.csv'],
      target: 'person',
      idColumn: 'Provider ID',
      fields: {
        name: { from: 'Name', transform: 'fullName' },
        emails: { from: 'Email', transform: 'email' },
      },
    },
    visits: {
      files: ['visits.csv'],
      target: 'task',
      idColumn: 'Visit ID',
      owner: { from: 'Provider Email', joinColumn: 'assigneeId' },
      fields: { title: { from: 'Type', required: true } },
      targets: [
        { entity: 'patients', from: 'Patient ID', onMissing: 'reject' },
        { entity: 'clinics', from: 'Clinic ID', onMissing: 'null' },
      ],
    },
    docs: {
      files: ['docs.csv'],
      target: 'attachment',
      idColumn: 'Doc ID',
      fields: { name: { from: 'Doc Name', required: true }, fullPath: { from: 'File' } },
      targets: [{ entity: 'patients', from: 'Patient ID', onMissing: 'reject' }],
    },
  },
};

const FILES = {
  'clinics.csv': csv(
    ['Clinic ID', 'Name', 'Website', 'Parent ID'],
    [
      ['C2', 'North Branch', 'north.example', 'C1'],
      ['C1', 'Main Clinic', 'https://www.main.example/', ''],
      ['C3', '', 'bad.example', ''],
      ['C4', 'Orphan Branch', '', 'C3'],
      ['C5', 'Grandchild', '', 'C2'],
    ],
  ),
  'patients.csv': csv(
    ['Patient ID', 'First', 'Last', 'Email', 'Clinic ID'],
    [
      ['P1', 'Ann', 'Lee', 'fam@example.com', 'C1'],
      ['P2', 'Bob', 'Lee', 'FAM@example.com', 'C2'],
      ['P1', 'Dup', 'Row', 'dup@example.com', 'C1'],
      ['P3', 'Cy', 'Orphan', 'c@example.com', 'C3'],
      ['P4', 'Dee', 'Merge', 'dee@example.com', 'C1'],
      ['P9', 'Too', 'Many', 'x@example.com', 'C1', 'extra'],
    ],
  ),
  'providers.csv': csv(
    ['Provider ID', 'Name', 'Email'],
    [
      ['D1', 'Dr Who', 'who@example.com'],
      ['D2', 'Dr Fam', 'fam@example.com'],
    ],
  ),
  'visits.csv': csv(
    ['Visit ID', 'Type', 'Patient ID', 'Clinic ID', 'Provider Email'],
    [
      ['V1', 'Checkup', 'P1', 'C1', ' Staff@Example.com'],
      ['V2', 'Cleaning', 'P3', 'C1', ''],
      ['V3', 'Xray', 'P4', 'C9', 'nobody@example.com'],
    ],
  ),
  'docs.csv': csv(
    ['Doc ID', 'Doc Name', 'File', 'Patient ID'],
    [
      ['X1', 'Scan', 'scan1.pdf', 'P1'],
      ['X2', 'Lost', 'missing.pdf', 'P2'],
    ],
  ),
  'unknown-report.csv': csv(['A', 'B'], [['1', '2']]),
  'documents/scan1.pdf': new Uint8Array([37, 80, 68, 70, 45, 49]),
};

const WORK = {
  'owners.json': { byEmail: { 'staff@example.com': 'member-1', 'nobody@example.com': null } },
  'merge-candidates.json': {
    people: { 'dee@example.com': 'existing-person-1' },
    companies: { 'main.example': 'existing-company-1' },
  },
};

function bySource<T extends { sourceId: string }>(lines: T[]): Map<string, T> {
  return new Map(lines.map((l) => [l.sourceId, l]));
}

async function scenario(extra: { flavor?: 'v1' | 'v2'; chunkSize?: number } = {}): Promise<Prepared> {
  return runPrepare({
    files: FILES,
    mapping: MAPPING,
    work: WORK,
    input: extra.chunkSize ? { chunkSize: extra.chunkSize } : {},
    ...(extra.flavor ? { flavor: extra.flavor } : {}),
  });
}

describe('prepare', () => {
  it('writes phases in FK order and splits a self-referencing entity into parent-first waves', async () => {
    const run = await scenario();
    expect(run.output.phases.map((p) => [p.phase, p.manifestKey.split('/').pop(), p.records])).toEqual([
      ['01-companies', '01-companies.json', 1],
      ['01-companies', '01-companies.w2.json', 1],
      ['01-companies', '01-companies.w3.json', 1],
      ['02-people', '02-people.json', 5],
      ['04-activities', '04-activities.json', 2],
      ['06-attachments', '06-attachments.json', 1],
    ]);
    const perWave: string[][] = [];
    for (const phase of run.output.phases.slice(0, 3)) {
      const ids: string[] = [];
      for (const item of await run.manifest(phase.manifestKey))
        for (const l of (await run.deps.work.getText(item.key)).split('\n'))
          if (l !== '') ids.push((JSON.parse(l) as { sourceId: string }).sourceId);
      perWave.push(ids);
    }
    expect(perWave).toEqual([['C1'], ['C2'], ['C5']]);
    const clinics = bySource(await run.lines('clinics'));
    expect([...clinics.keys()]).toEqual(['C1', 'C2', 'C5']);
    expect(clinics.get('C5')?.data.parentClinicId).toBe(id('clinics', 'C2'));
  });

  it('rejects duplicates, orphans and children of rejected parents, and keeps counts balanced', async () => {
    const run = await scenario();
    const s = run.stats.entities;
    expect(s.clinics).toMatchObject({
      sourceRows: 5,
      mapped: 3,
      rejected: { MISSING_REQUIRED: 1, ORPHAN_REFERENCE: 1 },
    });
    expect(s.patients).toMatchObject({
      sourceRows: 6,
      mapped: 3,
      rejected: { DUPLICATE_SOURCE_ID: 1, ORPHAN_REFERENCE: 1, MALFORMED_ROW: 1 },
      phase: '02-people',
      object: 'people',
    });
    expect(s.visits).toMatchObject({ sourceRows: 3, mapped: 2, rejected: { ORPHAN_REFERENCE: 1 } });
    expect(s.docs).toMatchObject({ sourceRows: 2, mapped: 1, rejected: { MISSING_FILE: 1 } });
    expect(s['unknown-report']).toMatchObject({ sourceRows: 1, mapped: 0, skipped: { NOT_MAPPED: 1 } });
    for (const [name, e] of Object.entries(s)) {
      const rejected = Object.values(e.rejected).reduce((a, b) => a + b, 0);
      const skipped = Object.values(e.skipped).reduce((a, b) => a + b, 0);
      expect(e.mapped + rejected + skipped, name).toBe(e.sourceRows);
    }
    const reasons = run.rejects.map((r) => `${r.entity}:${r.sourceId}:${r.reason}`);
    expect(reasons).toEqual(
      expect.arrayContaining([
        'clinics:C3:MISSING_REQUIRED',
        'clinics:C4:ORPHAN_REFERENCE',
        'patients:P1:DUPLICATE_SOURCE_ID',
        'patients:P3:ORPHAN_REFERENCE',
        'visits:V2:ORPHAN_REFERENCE',
        'docs:X2:MISSING_FILE',
      ]),
    );
    expect(run.rejects).toHaveLength(6);
    expect(run.output).toMatchObject({ mapped: 11, rejected: 7, skipped: 1 });
  });

  it('never writes a field value into rejects or stats', async () => {
    const run = await scenario();
    const text = JSON.stringify(run.rejects) + JSON.stringify(run.stats);
    for (const value of ['Ann', 'fam@example.com', 'Orphan Branch', 'missing.pdf', 'bad.example'])
      expect(text).not.toContain(value);
  });

  it('keeps a shared family email primary on the first person only, across entities of one object', async () => {
    const run = await scenario();
    const people = bySource([...(await run.lines('patients')), ...(await run.lines('providers'))]);
    expect(people.get('P1')?.data.emails).toEqual({ primaryEmail: 'fam@example.com', additionalEmails: [] });
    expect(people.get('P2')?.data.emails).toEqual({
      primaryEmail: null,
      additionalEmails: ['fam@example.com'],
    });
    expect(people.get('D2')?.data.emails).toEqual({
      primaryEmail: null,
      additionalEmails: ['fam@example.com'],
    });
    expect(run.stats.entities.patients?.warnings).toEqual({ SHARED_EMAIL: 1 });
    expect(run.stats.entities.providers?.warnings).toEqual({ SHARED_EMAIL: 1 });
  });

  it('gives merge candidates the existing Twenty id and points children at it', async () => {
    const run = await scenario();
    const clinics = bySource(await run.lines('clinics'));
    const patients = bySource(await run.lines('patients'));
    expect(clinics.get('C1')).toMatchObject({ id: 'existing-company-1', mergeTarget: true });
    expect(clinics.get('C2')).toMatchObject({
      id: id('clinics', 'C2'),
      data: { parentClinicId: 'existing-company-1' },
    });
    expect(clinics.get('C2')?.mergeTarget).toBeUndefined();
    expect(patients.get('P1')?.data.companyId).toBe('existing-company-1');
    expect(patients.get('P2')?.data.companyId).toBe(id('clinics', 'C2'));
    expect(patients.get('P4')).toMatchObject({ id: 'existing-person-1', mergeTarget: true });
    const visits = bySource(await run.lines('visits'));
    expect(visits.get('V3')?.targets.map((t) => t.data.targetPersonId)).toEqual(['existing-person-1']);
  });

  it('writes activity targets with deterministic ids and the flavor join columns, and resolves owners', async () => {
    const v2 = bySource(await (await scenario()).lines('visits'));
    const v1 = bySource(await (await scenario({ flavor: 'v1' })).lines('visits'));
    const visit = v2.get('V1');
    expect(visit?.object).toBe('tasks');
    expect(visit?.data.assigneeId).toBe('member-1');
    expect(visit?.targets).toEqual([
      {
        object: 'taskTargets',
        data: { id: expect.any(String), taskId: visit?.id, targetPersonId: id('patients', 'P1') },
      },
      {
        object: 'taskTargets',
        data: { id: expect.any(String), taskId: visit?.id, targetCompanyId: 'existing-company-1' },
      },
    ]);
    expect(v1.get('V1')?.targets.map((t) => Object.keys(t.data).sort())).toEqual([
      ['id', 'personId', 'taskId'],
      ['companyId', 'id', 'taskId'],
    ]);
    expect(v1.get('V1')?.targets.map((t) => t.data.id)).toEqual(visit?.targets.map((t) => t.data.id));
    expect(v2.get('V3')?.data.assigneeId).toBeUndefined();
    expect(v2.get('V3')?.targets).toHaveLength(1);
  });

  it('locates attachment files in the drop folder and links the attachment to its target', async () => {
    const run = await scenario();
    const [doc] = await run.lines('docs');
    expect(doc).toMatchObject({
      object: 'attachments',
      data: { name: 'Scan', targetPersonId: id('patients', 'P1') },
      file: {
        key: 'drop/clinic-a/documents/scan1.pdf',
        name: 'scan1.pdf',
        mime: 'application/pdf',
        bytes: 6,
      },
    });
    expect(doc?.data.fullPath).toBeUndefined();
  });

  it('rejects attachments over maxFileBytes as FILE_TOO_LARGE', async () => {
    const run = await runPrepare({ files: FILES, mapping: MAPPING, work: WORK, input: { maxFileBytes: 5 } });
    expect(run.stats.entities.docs?.rejected).toEqual({ FILE_TOO_LARGE: 1, MISSING_FILE: 1 });
  });

  it('is deterministic: a second run gives the same ids and hashes, and a changed row changes only its hash', async () => {
    const a = bySource(await (await scenario()).lines('patients'));
    const b = bySource(await (await scenario()).lines('patients'));
    for (const [sourceId, line] of a) expect(b.get(sourceId)).toEqual(line);
    const changed = { ...FILES, 'patients.csv': String(FILES['patients.csv']).replace('Bob,Lee', 'Rob,Lee') };
    const c = bySource(
      await (await runPrepare({ files: changed, mapping: MAPPING, work: WORK })).lines('patients'),
    );
    expect(c.get('P2')?.id).toBe(a.get('P2')?.id);
    expect(c.get('P2')?.contentHash).not.toBe(a.get('P2')?.contentHash);
    expect(c.get('P4')?.contentHash).toBe(a.get('P4')?.contentHash);
  });

  it('writes the record ids and references of each load chunk as sample candidates, from which SampleLoad picks the sample it picked from the chunks', async () => {
    const run = await scenario({ chunkSize: 2 });
    const candidates = await readSampleCandidates(run.deps.work, RUN_ID);
    let chunks = 0;
    for (const phase of run.output.phases)
      for (const item of await run.manifest(phase.manifestKey)) {
        const lines = (await run.deps.work.getText(item.key))
          .split('\n')
          .filter((l) => l !== '')
          .map((l) => MappedLineSchema.parse(JSON.parse(l)));
        expect(candidates?.get(item.key)).toEqual(
          lines.map((l) => [l.id, referencedIds(l.id, l.data, l.targets)]),
        );
        chunks++;
      }
    expect(candidates?.size).toBe(chunks);
    expect(
      [...(candidates?.values() ?? [])].some((records) => records.some(([, refs]) => refs.length > 0)),
    ).toBe(true);

    const sampled = async () => {
      const progress = await writeSample(run.deps.work, RUN_ID, 3);
      return {
        progress,
        bodies: await Promise.all(progress.chunks.map((c) => run.deps.work.getText(c.key))),
      };
    };
    const fromCandidates = await sampled();
    expect(fromCandidates.progress.chunks.length).toBeGreaterThan(1);
    // A run prepared before Prepare wrote candidates: SampleLoad reads the chunks, and picks the same.
    await run.deps.work.delete(sampleCandidatesKey(RUN_ID));
    expect(await sampled()).toEqual(fromCandidates);
  });

  it('writes chunks of at most chunkSize records', async () => {
    const run = await scenario({ chunkSize: 2 });
    const items = (await Promise.all(run.output.phases.map((p) => run.manifest(p.manifestKey)))).flat();
    expect(items.every((i) => i.records <= 2)).toBe(true);
    expect(items.filter((i) => i.entity === 'patients').map((i) => i.records)).toEqual([2, 1]);
    expect(new Set(items.map((i) => i.key)).size).toBe(items.length);
  });

  it('fails with a ValidationError when the target model is missing', async () => {
    const run = runPrepare({ files: FILES, mapping: MAPPING, work: WORK, omitTargetModel: true });
    await expect(run).rejects.toThrow(ValidationError);
    await expect(run).rejects.toThrow(/target-model\.json/);
  });
});

describe('orderEntities', () => {
  it('rejects a relation to an entity loaded in a later phase', () => {
    const spec = parseMappingSpec({
      version: 1,
      source: 'generic',
      entities: {
        a: {
          files: ['a.csv'],
          target: 'company',
          idColumn: 'id',
          relations: { p: { entity: 'b', from: 'b', joinColumn: 'bId' } },
        },
        b: { files: ['b.csv'], target: 'person', idColumn: 'id' },
      },
    });
    expect(() => orderEntities(spec)).toThrow(/later phase/);
  });

  it('puts referenced entities of one phase first', () => {
    const spec = parseMappingSpec({
      version: 1,
      source: 'generic',
      entities: {
        items: {
          files: ['i.csv'],
          target: 'planItem',
          idColumn: 'id',
          relations: { p: { entity: 'plans', from: 'p', joinColumn: 'planId' } },
        },
        plans: { files: ['p.csv'], target: 'plan', idColumn: 'id' },
        people: { files: ['x.csv'], target: 'person', idColumn: 'id' },
      },
    });
    expect(orderEntities(spec).map((e) => `${e.phase}:${e.name}`)).toEqual([
      '02-people:people',
      '05-custom:plans',
      '05-custom:items',
    ]);
  });
});

describe('parentsFirst', () => {
  it('orders rows after their parents and breaks cycles where they close', () => {
    const rows = [
      { id: 'c', parent: 'b' },
      { id: 'b', parent: 'a' },
      { id: 'a', parent: '' },
      { id: 'x', parent: 'y' },
      { id: 'y', parent: 'x' },
      { id: 'b', parent: '' },
    ];
    const order = parentsFirst(rows);
    expect(order).toEqual([2, 1, 0, 4, 3, 5]);
  });
});
