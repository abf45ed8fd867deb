/**
 * Map + validate throughput on one core: 200,000 synthetic patient rows held in memory, run
 * through a compiled PbN-like patient spec and the entity validator. Prints rows/s against the
 * 50,000 rows/s target. Run: `npx node bench/map.bench.ts [rows]` (`--quick`: 20,000 rows).
 */
import { compileEntity } from '../lambdas/core/mapping/map-record.ts';
import { parseMappingSpec } from '../lambdas/core/mapping/spec.ts';
import { createEntityValidator } from '../lambdas/core/validation/validate-entity.ts';
import { reportMetric, sized } from './lib.ts';

const ROWS = sized(process.argv[2], 200_000, 20_000);
const TARGET = 50_000;

const spec = parseMappingSpec(
  {
    version: 1,
    source: 'pbn',
    options: { defaultCountry: 'US', dateOrder: 'MDY', timezone: 'America/New_York' },
    entities: {
      patients: {
        files: ['patients.csv'],
        target: 'person',
        idColumn: 'PatientID',
        fields: {
          name: { from: ['FirstName', 'LastName'], transform: 'fullName', required: true },
          emails: { from: 'Email', transform: 'email' },
          phones: { from: ['CellPhone', 'HomePhone'], transform: 'phones' },
          address: {
            from: { street1: 'Address1', city: 'City', state: 'State', postcode: 'Zip' },
            transform: 'address',
          },
          dateOfBirth: {
            from: 'DOB',
            transform: 'date',
            validate: 'birthDate',
            custom: { type: 'DATE', label: 'DOB' },
          },
          insuranceCarrier: {
            from: 'InsCarrier',
            transform: 'select',
            valueMap: { 'Delta Dental': 'DELTA_DENTAL', Cigna: 'CIGNA', Aetna: 'AETNA' },
            unmapped: 'addOption',
            custom: { type: 'SELECT', label: 'Insurance carrier' },
          },
          originalCreatedAt: {
            from: 'CreatedDate',
            transform: 'dateTime',
            custom: { type: 'DATE_TIME', label: 'Created' },
          },
          balance: { from: 'Balance', transform: 'money', custom: { type: 'CURRENCY', label: 'Balance' } },
        },
        relations: {
          provider: { entity: 'providers', from: 'ProviderID', joinColumn: 'providerId', onMissing: 'null' },
        },
      },
      providers: { files: ['providers.csv'], target: 'person', idColumn: 'ProviderID' },
    },
  },
  'bench',
);

const FIRST = ['Ana', 'Ben', 'Chloé', 'Dev', 'Eve', 'Farid', 'Grace', 'Hiro', 'Ines', 'Jon'];
const LAST = ['Smith', 'García', 'Nguyen', "O'Brien", 'Kowalski', 'Okafor', 'Müller', 'Lee'];
const CARRIERS = ['Delta Dental', 'Cigna', 'Aetna', 'MetLife', ''];
const STATES = ['NY', 'New Jersey', 'ct', 'Massachusetts'];
const AREAS = [201, 212, 213, 305, 312, 415, 503, 617, 646, 702, 713, 718, 808, 917, 973];

function row(i: number): Record<string, string> {
  const area = AREAS[i % AREAS.length] ?? 212;
  return {
    PatientID: `P${i}`,
    FirstName: FIRST[i % FIRST.length] ?? '',
    LastName: LAST[i % LAST.length] ?? '',
    Email: i % 7 === 0 ? '' : `patient${i % 150_000}@example.com`,
    CellPhone: `(${area}) 555-${String(1000 + (i % 9000))}`,
    HomePhone: i % 3 === 0 ? `${area}.555.${String(2000 + (i % 7000))}` : '',
    Address1: `${i % 999} Main St`,
    City: 'Springfield',
    State: STATES[i % STATES.length] ?? '',
    Zip: i % 5 === 0 ? '6103' : '10001',
    DOB: `${1 + (i % 12)}/${1 + (i % 28)}/${1940 + (i % 80)}`,
    InsCarrier: CARRIERS[i % CARRIERS.length] ?? '',
    CreatedDate: `${1 + (i % 12)}/${1 + (i % 28)}/2019 ${1 + (i % 12)}:${String(i % 60).padStart(2, '0')} PM`,
    Balance: i % 4 === 0 ? `($${i % 500}.25)` : `$${1 + (i % 9)},${String(i % 1000).padStart(3, '0')}.50`,
    ProviderID: `D${i % 20}`,
  };
}

const rows = Array.from({ length: ROWS }, (_, i) => row(i));
const entity = spec.entities.patients;
if (entity === undefined) throw new Error('bench spec lost its patients entity');
const ctx = { options: spec.options, now: Date.UTC(2026, 0, 1) };

function run(): { ms: number; cpuMs: number; accepted: number; rejected: number; warnings: number } {
  const compiled = compileEntity('patients', entity as NonNullable<typeof entity>, ctx);
  const validator = createEntityValidator({
    file: 'patients.csv',
    entity: compiled,
    has: (_e, id) => id.startsWith('D'),
  });
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < rows.length; i++) validator.check({ line: i + 2, cells: rows[i] ?? null });
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  const c = validator.counters;
  if (process.env.BENCH_DEBUG) console.log(c);
  return {
    ms,
    cpuMs,
    accepted: c.accepted,
    rejected: c.rejected,
    warnings: Object.values(c.warningsByCode).reduce((a, b) => a + b, 0),
  };
}

run(); // warm-up: JIT and the NANP prefix cache
const result = run();
// Wall time suffers from other processes on a shared machine; CPU time of this process is the
// one-core figure. Both are printed; the target is judged on CPU time (includes GC threads).
const rate = Math.round((ROWS / result.ms) * 1000);
const cpuRate = Math.round((ROWS / result.cpuMs) * 1000);
console.log(
  JSON.stringify({
    bench: 'map+validate',
    rows: ROWS,
    ms: Math.round(result.ms),
    cpuMs: Math.round(result.cpuMs),
    rowsPerSecondWall: rate,
    rowsPerSecondCpu: cpuRate,
    target: TARGET,
    ratioToTarget: Number((cpuRate / TARGET).toFixed(2)),
    accepted: result.accepted,
    rejected: result.rejected,
    warnings: result.warnings,
  }),
);
reportMetric({
  id: 'map-validate-rows-per-cpu-s',
  label: 'map + validate of in-memory patient rows, per CPU second (one core)',
  value: cpuRate,
  unit: 'rows/s',
  goals: [{ on: 'value', op: '>=', target: TARGET }],
  detail: `${ROWS.toLocaleString('en-US')} rows; wall ${rate.toLocaleString('en-US')} rows/s; ${result.accepted} accepted, ${result.rejected} rejected`,
});
