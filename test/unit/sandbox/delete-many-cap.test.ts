import { describe, expect, it } from 'vitest';
import { MUTATION_MAXIMUM_AFFECTED_RECORDS } from '../../../lib/sandbox/engine.ts';
import { makeEngine, uuid } from './helpers.ts';

const company = (n: number) => ({ id: uuid(n), name: `Company ${n}` });
const idIn = (from: number, to: number) =>
  `id[in]:[${Array.from({ length: to - from + 1 }, (_, i) => uuid(from + i)).join(',')}]`;

describe('sandbox delete many (MUTATION_MAXIMUM_AFFECTED_RECORDS)', () => {
  it('hard-deletes up to 100 matching records and returns their ids', async () => {
    const { call } = makeEngine();
    for (let start = 1; start <= 101; start += 50) {
      const batch = Array.from({ length: Math.min(50, 102 - start) }, (_, i) => company(start + i));
      expect((await call('POST', '/rest/batch/companies', batch)).status).toBe(201);
    }
    const ok = await call('DELETE', `/rest/companies?filter=${encodeURIComponent(idIn(1, 100))}`);
    expect(ok.status).toBe(200);
    expect(ok.body.data.deleteCompanies).toHaveLength(MUTATION_MAXIMUM_AFFECTED_RECORDS);
    const left = await call('GET', '/rest/companies?limit=200');
    expect(left.body.data.companies.map((c: { id: string }) => c.id)).toEqual([uuid(101)]);
  });

  it('refuses, whole, a delete that would affect more than 100 records, as Twenty does', async () => {
    const { call } = makeEngine();
    for (let start = 1; start <= 101; start += 50) {
      const batch = Array.from({ length: Math.min(50, 102 - start) }, (_, i) => company(start + i));
      await call('POST', '/rest/batch/companies', batch);
    }
    const refused = await call('DELETE', `/rest/companies?filter=${encodeURIComponent(idIn(1, 101))}`);
    expect(refused.status).toBe(400);
    expect(JSON.stringify(refused.body)).toContain('impacts too many records (more than 100)');
    const left = await call('GET', '/rest/companies?limit=200');
    expect(left.body.data.companies).toHaveLength(101);
  });
});
