import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCsv } from '../../../lambdas/core/csv/reader.ts';
import { toOptionValue } from '../../../lambdas/core/mapping/transforms/select.ts';
import { type RunningSandbox, startSandbox } from '../../../lib/sandbox/index.ts';
import { ferryRunInto, repoRoot } from '../support/ferry-cli.ts';

/**
 * Communication and reminder logs of exports Ferry has no profile for (hand-written layouts, not
 * lib/generate) end to end: every row is a task of type Communication whose dueAt is the time the
 * message went out (the wall time, read in the mapping's timezone — UTC unless the operator sets
 * `options.timezone`), whose status says whether the attempt is over (DONE) or still to go out (TODO),
 * whose exact delivery outcome stays in a custom SELECT, and which is linked to its patient.
 */

const layouts = join(repoRoot, 'test', 'fixtures', 'layouts');

async function rowsOf(file: string, tab = false): Promise<Record<string, string>[]> {
  const rows: Record<string, string>[] = [];
  let header: readonly string[] = [];
  await readCsv(
    createReadStream(file),
    { file, encoding: 'utf-8', preferTab: tab },
    {
      header: (columns) => {
        header = columns;
      },
      row: (row) => {
        const cells = row.cells();
        rows.push(Object.fromEntries(header.map((h, i) => [h, cells[i] ?? ''])));
      },
    },
  );
  return rows;
}

/** `MM/DD/YYYY h:mm AM` (or `MM/DD/YY` + `HHMM`) as the UTC instant of that wall time. */
function wallTime(y: number, mo: number, d: number, h: number, mi: number): string {
  return new Date(Date.UTC(y, mo - 1, d, h, mi)).toISOString();
}

function multiset(items: readonly string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const i of items) m.set(i, (m.get(i) ?? 0) + 1);
  return m;
}

describe('communication logs become Communication tasks with their delivery outcome and time kept', () => {
  let sandbox: RunningSandbox;
  let stateDir: string;

  beforeAll(async () => {
    sandbox = await startSandbox({ rateShort: null, rateLong: null });
    stateDir = mkdtempSync(join(tmpdir(), 'ferry-e2e-comms-'));
  });
  afterAll(async () => {
    await sandbox?.stop();
    rmSync(stateDir, { recursive: true, force: true });
  });

  async function migrate(layout: string): Promise<{
    tasks: Record<string, unknown>[];
    targets: Record<string, unknown>[];
    communications: {
      sourceRows: number;
      loaded: { created: number };
      balanced: boolean;
      warnings: Record<string, number>;
    };
  }> {
    await sandbox.reset();
    const result = await ferryRunInto(join(layouts, layout), stateDir, sandbox);
    expect(result.code, result.stderr.slice(-1500)).toBe(0);
    const json = JSON.parse(result.stdout);
    const communications = json.reconciliation.entities.find(
      (e: { entity: string }) => e.entity === 'communications',
    );
    const dump = await sandbox.dump();
    const tasks = ((dump.records.task ?? []) as Record<string, unknown>[]).filter(
      (t) => t.taskType === 'COMMUNICATION' && t.deletedAt == null,
    );
    return { tasks, targets: (dump.records.taskTarget ?? []) as Record<string, unknown>[], communications };
  }

  it('PbN report downloads: Sent → dueAt, Delivery Status → status DONE and deliveryStatus, linked to the patient', async () => {
    const source = await rowsOf(join(layouts, 'pbn-reports', 'Communications Log.csv'));
    const { tasks, targets, communications } = await migrate('pbn-reports');
    expect(communications.balanced).toBe(true);
    expect(communications.sourceRows).toBe(source.length);
    expect(communications.loaded.created).toBe(source.length);
    expect(tasks).toHaveLength(source.length);

    const expected = source.map((row) => {
      const m = /^(\d{1,2})\/(\d{1,2})\/(\d{4}) (\d{1,2}):(\d{2}) ([AP])M$/.exec(row.Sent ?? '');
      if (m === null) throw new Error('unexpected Sent shape in the fixture');
      const hour = (Number(m[4]) % 12) + (m[6] === 'P' ? 12 : 0);
      const due = wallTime(Number(m[3]), Number(m[1]), Number(m[2]), hour, Number(m[5]));
      return [due, 'DONE', toOptionValue(row['Delivery Status'] ?? ''), row.Campaign].join('|');
    });
    const actual = tasks.map((t) => [t.dueAt, t.status, t.deliveryStatus, t.title].join('|'));
    expect(multiset(actual)).toEqual(multiset(expected));
    // Every outcome, failed ones too, is kept exactly: four outcomes in the fixture, four options.
    expect(new Set(tasks.map((t) => t.deliveryStatus))).toEqual(
      new Set(source.map((r) => toOptionValue(r['Delivery Status'] ?? ''))),
    );
    const linked = new Set(targets.filter((t) => t.targetPersonId != null).map((t) => t.taskId));
    // A row naming a patient the export does not hold loads unlinked, counted as REFERENCE_DROPPED.
    const dropped = communications.warnings.REFERENCE_DROPPED ?? 0;
    expect(tasks.filter((t) => linked.has(t.id))).toHaveLength(source.length - dropped);
  }, 60_000);

  it('APMS reminder log: SENT_DT + SENT_TM → dueAt, RESULT → status DONE and the exact result kept', async () => {
    const source = await rowsOf(join(layouts, 'apms-classic', 'REMINDER_LOG.txt'), true);
    const { tasks, communications } = await migrate('apms-classic');
    expect(communications.balanced).toBe(true);
    expect(tasks).toHaveLength(communications.loaded.created);
    expect(communications.loaded.created).toBe(source.length);
    const expected = source.map((row) => {
      const [mo, d, yy] = (row.SENT_DT ?? '').split('/').map(Number);
      const tm = row.SENT_TM ?? '';
      const due = wallTime(2000 + (yy ?? 0), mo ?? 0, d ?? 0, Number(tm.slice(0, 2)), Number(tm.slice(2)));
      return [due, 'DONE', toOptionValue(row.RESULT ?? '')].join('|');
    });
    const actual = tasks.map((t) => [t.dueAt, t.status, t.result].join('|'));
    expect(multiset(actual)).toEqual(multiset(expected));
  }, 60_000);
});
