import { describe, expect, it } from 'vitest';
import { type ReviewedFile, reviewMapping } from '../../../lambdas/core/mapping/review.ts';
import { type MappingSpec, parseMappingSpec } from '../../../lambdas/core/mapping/spec.ts';

const providers: ReviewedFile = {
  name: 'staff.csv',
  header: ['Code', 'Email'],
  sample: [
    ['D1', 'one@clinic.test'],
    ['D2', 'two@clinic.test'],
    ['D3', 'three@clinic.test'],
  ],
};

function patients(emailOf: (i: number) => string): ReviewedFile {
  return {
    name: 'pts.csv',
    header: ['Chart', 'Name', 'Mail'],
    sample: Array.from({ length: 12 }, (_, i) => [`C${i}`, `Pat ${i}`, emailOf(i)]),
  };
}

function spec(extra: Record<string, unknown> = {}): MappingSpec {
  return parseMappingSpec(
    {
      version: 1,
      source: 'generic',
      entities: {
        patients: {
          files: ['pts.csv'],
          target: 'person',
          idColumn: 'Chart',
          fields: { emails: { from: 'Mail', transform: 'email' }, jobTitle: { from: 'Name' } },
        },
        ...extra,
      },
    },
    'test',
  );
}

const review = (files: readonly ReviewedFile[], s: MappingSpec, confidence = {}) =>
  reviewMapping(s, files, confidence, (entity) => files.filter((f) => entity.files.includes(f.name)));

describe('reviewMapping', () => {
  it('drops a person email read from a column repeating the addresses a roster lists once, and blocks', () => {
    const pts = patients((i) => ['one@clinic.test', 'two@clinic.test', 'three@clinic.test'][i % 3] ?? '');
    const { spec: out, blocking } = review([pts, providers], spec());
    expect(out.entities.patients?.fields.emails).toBeUndefined();
    expect(out.entities.patients?.fields.jobTitle).toBeDefined();
    expect(blocking).toEqual([
      expect.objectContaining({ entity: 'patients', file: 'pts.csv', column: 'Mail', field: 'emails' }),
    ]);
    expect(JSON.stringify(blocking)).not.toMatch(/clinic\.test/);
  });

  it("keeps the patients' own emails when another file merely repeats them (a communications log)", () => {
    const pts = patients((i) => `p${i}@home.test`);
    const log: ReviewedFile = {
      name: 'log.csv',
      header: ['To'],
      sample: Array.from({ length: 24 }, (_, i) => [`p${i % 12}@home.test`]),
    };
    const { spec: out, blocking } = review([pts, providers, log], spec());
    expect(out.entities.patients?.fields.emails).toBeDefined();
    expect(blocking).toEqual([]);
  });

  it('blocks a guessed id column and a task file with no parent reference', () => {
    const pts = patients((i) => `p${i}@home.test`);
    const visits: ReviewedFile = {
      name: 'visits.csv',
      header: ['Visit', 'When'],
      sample: [['V1', '2024-01-01']],
    };
    const s = spec({
      visits: {
        files: ['visits.csv'],
        target: 'task',
        idColumn: 'Visit',
        fields: { title: { from: 'When' } },
      },
    });
    const { blocking } = review([pts, visits], s, { patients: { Chart: 0.3 } });
    expect(blocking.map((b) => [b.entity, b.field])).toEqual([
      ['patients', 'id'],
      ['visits', 'parent reference'],
    ]);
  });
});

describe('the plan gate on an ambiguous parent reference', () => {
  it('blocks a reference whose header and values fit two files equally, naming the column', async () => {
    const { planMapping } = await import('../../../lambdas/core/inventory/mapping-plan.ts');
    const codes = ['D1', 'D2', 'D3'];
    const roster = (name: string) => ({
      name,
      stem: name.replace('.csv', ''),
      header: ['Provider ID', 'Last Name', 'First Name'],
      sample: codes.map((c, i) => [c, `Last${i}`, `First${i}`]),
    });
    const visits = {
      name: 'appointments.csv',
      stem: 'appointments',
      header: ['Appointment ID', 'Provider ID', 'Date'],
      sample: Array.from({ length: 9 }, (_, i) => [`A${i}`, codes[i % 3] ?? 'D1', '2024-03-04 09:00']),
    };
    const plan = planMapping([roster('providers.csv'), roster('doctors.csv'), visits]);
    expect(plan.blocking).toContainEqual(
      expect.objectContaining({ file: 'appointments.csv', column: 'Provider ID', field: 'parent reference' }),
    );
  });
});
