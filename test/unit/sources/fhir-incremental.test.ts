import { describe, expect, it } from 'vitest';
import { MemoryObjectStore } from '../../../lambdas/adapters/memory-object-store.ts';
import type { Plan } from '../../../lambdas/core/inventory/plan.ts';
import { MemoryLedger } from '../../../lambdas/core/ledger/memory-ledger.ts';
import { recordId } from '../../../lambdas/core/mapping/ids.ts';
import { parseMappingSpec } from '../../../lambdas/core/mapping/spec.ts';
import { idOf, newRunState, resolves } from '../../../lambdas/core/prepare/run-state.ts';
import { missingFromExport } from '../../../lambdas/core/reconcile/missing-from-export.ts';
import { flattenResource } from '../../../lambdas/core/sources/fhir/flatten.ts';
import {
  deletedResourceOf,
  isIncrementalExport,
  missingScope,
  priorRecords,
  referencedEntities,
} from '../../../lambdas/core/sources/fhir/incremental.ts';
import type { FhirPlanSection } from '../../../lambdas/core/sources/fhir/manifest.ts';
import { fhirProfile } from '../../../lambdas/core/sources/index.ts';

const section = (request: string | undefined, files: FhirPlanSection['files'] = {}): FhirPlanSection => ({
  manifest: 'manifest.json',
  transactionTime: '2026-01-07T09:00:00.000Z',
  ...(request === undefined ? {} : { request }),
  files,
});

describe('isIncrementalExport', () => {
  it('reads _since from the kick-off request the manifest echoes, and nothing else', () => {
    expect(isIncrementalExport(section('https://ehr.example/fhir/$export?_since=2026-01-05T09:00:00Z'))).toBe(
      true,
    );
    expect(
      isIncrementalExport(section('https://ehr.example/fhir/$export?_type=Patient&%5Fsince=2026-01-05')),
    ).toBe(true);
    expect(isIncrementalExport(section('https://ehr.example/fhir/$export?_type=Patient'))).toBe(false);
    // An empty _since, a parameter that only contains the word, no request at all: a full export.
    expect(isIncrementalExport(section('https://ehr.example/fhir/$export?_since='))).toBe(false);
    expect(isIncrementalExport(section('https://ehr.example/fhir/$export?x_since=2026-01-05'))).toBe(false);
    expect(isIncrementalExport(section(undefined))).toBe(false);
    expect(isIncrementalExport(undefined)).toBe(false);
  });
});

describe('deletedResourceOf', () => {
  it('takes type and id from relative, absolute and versioned urls, and refuses anything else', () => {
    expect(deletedResourceOf('Patient/pat-1')).toEqual(['Patient', 'pat-1']);
    expect(deletedResourceOf('https://ehr.example/fhir/Patient/pat-1/_history/3')).toEqual([
      'Patient',
      'pat-1',
    ]);
    expect(deletedResourceOf('pat-1')).toBeUndefined();
    expect(deletedResourceOf('patient/pat-1')).toBeUndefined();
  });
});

describe('missingScope and missingFromExport', () => {
  const deletedBundle = JSON.stringify({
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      { request: { method: 'DELETE', url: 'Patient/pat-3' } },
      { request: { method: 'DELETE', url: 'Appointment/appt-9' } },
      { request: { method: 'DELETE', url: 'Observation/obs-1' } },
      { request: { method: 'DELETE' } },
    ],
  });

  async function setup(request: string) {
    const drop = new MemoryObjectStore('drop');
    await drop.put('drop/x/del.ndjson', `${deletedBundle}\nnot json\n`);
    const fhir = section(request, {
      'del.ndjson': { type: 'Bundle', role: 'deleted' },
      'Patient.ndjson': { type: 'Patient', role: 'output' },
    });
    const plan = {
      files: [
        { key: 'drop/x/del.ndjson', name: 'del.ndjson' },
        { key: 'drop/x/Patient.ndjson', name: 'Patient.ndjson' },
      ],
      fhir,
    } as unknown as Plan;
    return { drop, plan };
  }

  it('is every unseen id-map row for a full export, only the deleted ones for a _since export', async () => {
    const ledger = new MemoryLedger();
    const row = (sourceId: string) => ({
      sourceId,
      twentyId: `t-${sourceId}`,
      contentHash: 'h',
      runId: 'base',
    });
    await ledger.putIdMap('inst', 'patients', ['pat-1', 'pat-2', 'pat-3'].map(row));
    await ledger.putIdMap('inst', 'appointments', ['appt-8', 'appt-9'].map(row));
    const work = new MemoryObjectStore('work');

    const full = await setup('https://ehr.example/fhir/$export');
    expect(await missingScope(full.drop, full.plan)).toBeUndefined();
    const all = await missingFromExport(work, ledger, 'delta-1', 'inst', ['patients', 'appointments'], []);
    expect(all.patients?.count).toBe(3);
    expect(all.appointments?.count).toBe(2);

    const since = await setup('https://ehr.example/fhir/$export?_since=2026-01-05T09:00:00Z');
    const scope = await missingScope(since.drop, since.plan);
    expect(scope).toEqual(
      new Map([
        ['patients', new Set(['pat-3'])],
        ['appointments', new Set(['appt-9'])],
      ]),
    );
    const some = await missingFromExport(
      work,
      ledger,
      'delta-1',
      'inst',
      ['patients', 'appointments'],
      [],
      scope,
    );
    expect(some).toEqual({
      patients: { count: 1, sourceIds: ['pat-3'] },
      appointments: { count: 1, sourceIds: ['appt-9'] },
    });
  });
});

describe('priorRecords', () => {
  it('reads the id map of the entities children reference, with the Twenty id each record has', async () => {
    const mapping = parseMappingSpec(fhirProfile.mapping, 'fhir');
    const referenced = referencedEntities(mapping);
    expect(referenced).toContain('patients');
    expect(referenced).toContain('organizations');
    expect(referenced).not.toContain('documents');
    const ledger = new MemoryLedger();
    await ledger.putIdMap('inst', 'patients', [
      { sourceId: 'pat-1', twentyId: 'merged-into-this', contentHash: 'h', runId: 'base' },
    ]);
    const prior = await priorRecords(ledger, 'inst', ['patients', 'organizations']);
    expect(prior.get('patients')?.get('pat-1')).toBe('merged-into-this');
    expect(prior.get('organizations')?.size).toBe(0);
  });
});

describe('a partial birth date', () => {
  it('leaves the date empty and keeps the year or year-month as written', () => {
    const of = (birthDate: string) =>
      flattenResource('Patient', { resourceType: 'Patient', id: 'p', birthDate });
    expect(of('1980')).toMatchObject({ birthDate: '', 'birthDate.partial': '1980' });
    expect(of('1980-05')).toMatchObject({ birthDate: '', 'birthDate.partial': '1980-05' });
    expect(of('1980-05-17')).toMatchObject({ birthDate: '1980-05-17', 'birthDate.partial': '' });
    // Not a FHIR date at all: left to the date rule, which rejects it.
    expect(of('1980-13')).toMatchObject({ birthDate: '1980-13', 'birthDate.partial': '' });
  });
});

describe('idOf and resolves with the records earlier runs loaded', () => {
  it('prefers a merge, then this run, then the id map, else the deterministic id', () => {
    const mapping = parseMappingSpec(fhirProfile.mapping, 'fhir');
    const base = {
      runId: 'delta-1',
      sourceInstance: 'inst',
      mapping,
      model: {} as never,
      plan: { attachments: [] } as unknown as Plan,
      owners: undefined,
      merges: undefined,
      now: 0,
      chunkSize: 10,
      maxFileBytes: undefined,
      store: new MemoryObjectStore('work'),
      rejects: {} as never,
      candidates: {} as never,
      stats: {},
    };
    const prior = new Map([['patients', new Map([['pat-1', 'merged-in-base']])]]);
    const state = newRunState({ ...base, prior });
    const deterministic = recordId('inst', 'fhir', 'patients', 'pat-1');
    // Only the base run loaded it: the id map's id (here a pre-existing record the base merged into).
    expect(resolves(state, 'patients', 'pat-1')).toBe(true);
    expect(idOf(state, 'patients', 'pat-1')).toBe('merged-in-base');
    // This run loads it too: its own id.
    state.valid.set('patients', new Set(['pat-1']));
    expect(idOf(state, 'patients', 'pat-1')).toBe(deterministic);
    state.overrides.set('patients', new Map([['pat-1', 'merged-now']]));
    expect(idOf(state, 'patients', 'pat-1')).toBe('merged-now');
    // Found nowhere: an orphan.
    expect(resolves(state, 'patients', 'pat-9')).toBe(false);
    // A full export reads no id map: what this run does not load does not resolve.
    const full = newRunState(base);
    expect(resolves(full, 'patients', 'pat-1')).toBe(false);
    expect(idOf(full, 'patients', 'pat-1')).toBe(deterministic);
  });
});
