import { describe, expect, it } from 'vitest';
import { referencedIds, type SampleCandidate, selectSample } from '../../../lambdas/core/sample/select.ts';

const uid = (kind: number, n: number) =>
  `${String(kind).padStart(8, '0')}-0000-4000-8000-${String(n).padStart(12, '0')}`;

/** 2 practices, 4 providers (each at a practice), 50 patients (each with a provider), 6 appointments and 2 notes each. */
function practice(): SampleCandidate[] {
  const out: SampleCandidate[] = [];
  for (let c = 0; c < 2; c++) out.push({ id: uid(1, c), entity: 'practices', refs: [] });
  for (let p = 0; p < 4; p++) out.push({ id: uid(2, p), entity: 'providers', refs: [uid(1, p % 2)] });
  for (let i = 0; i < 50; i++) out.push({ id: uid(3, i), entity: 'patients', refs: [uid(2, i % 4)] });
  for (let i = 0; i < 50; i++)
    for (let a = 0; a < 6; a++)
      out.push({ id: uid(4, i * 10 + a), entity: 'appointments', refs: [uid(3, i), uid(2, (i + a) % 4)] });
  for (let i = 0; i < 50; i++)
    for (let k = 0; k < 2; k++) out.push({ id: uid(5, i * 10 + k), entity: 'notes', refs: [uid(3, i)] });
  out.push({ id: uid(6, 1), entity: 'sterilizationCycles', refs: [] });
  return out;
}

describe('selectSample', () => {
  it('takes patients with their children and everything they point at, FK-closed, about the size asked', () => {
    const records = practice();
    const ids = selectSample(records, { size: 60 });
    const chosen = new Set(ids);
    const byId = new Map(records.map((r) => [r.id, r]));
    // FK-closed: every reference of a sampled record is sampled too.
    for (const id of ids) for (const ref of byId.get(id)?.refs ?? []) expect(chosen.has(ref)).toBe(true);
    // Every entity is represented, the unlinked one included.
    expect(new Set(ids.map((id) => byId.get(id)?.entity))).toEqual(
      new Set(['practices', 'providers', 'patients', 'appointments', 'notes', 'sterilizationCycles']),
    );
    // A sampled patient comes with its children (5 appointments at most, both notes).
    const patient = ids.find((id) => byId.get(id)?.entity === 'patients') ?? '';
    const mine = ids.filter((id) => byId.get(id)?.refs.includes(patient));
    expect(mine.filter((id) => byId.get(id)?.entity === 'appointments')).toHaveLength(5);
    expect(mine.filter((id) => byId.get(id)?.entity === 'notes')).toHaveLength(2);
    expect(ids.length).toBeLessThanOrEqual(60 + 8);
    expect(ids.length).toBeGreaterThan(40);
  });

  it('is deterministic and in input order', () => {
    const records = practice();
    const ids = selectSample(records, { size: 30 });
    expect(selectSample(records, { size: 30 })).toEqual(ids);
    expect(ids).toEqual(records.map((r) => r.id).filter((id) => ids.includes(id)));
  });

  it('finds references in data and activity targets, never the own id or a target join id', () => {
    const own = uid(4, 1);
    const refs = referencedIds(own, { id: own, title: 'x', assigneeId: uid(2, 1), tags: [uid(9, 9), 'y'] }, [
      { data: { id: uid(7, 1), taskId: own, targetPersonId: uid(3, 1) } },
    ]);
    expect(refs.sort()).toEqual([uid(2, 1), uid(3, 1), uid(9, 9)].sort());
  });
});
