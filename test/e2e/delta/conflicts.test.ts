import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateExport } from '../../../lib/generate/index.ts';
import { type RunningSandbox, startSandbox } from '../../../lib/sandbox/index.ts';
import { ferry } from '../support/ferry-cli.ts';

/**
 * Cutover: the practice keeps working in Twenty after the first load, then a newer export comes.
 * A record the practice edited in Twenty since Ferry wrote it, or deleted there, is a conflict: the
 * second run reports it (rejects.csv, reason code) and leaves it alone; --force overwrites. A record
 * nobody touched in Twenty takes the export's change.
 */
describe('a second run over records the practice changed in Twenty', () => {
  let dir: string;
  let stateDir: string;
  let sandbox: RunningSandbox;

  const run = (...extra: string[]) =>
    ferry([
      'run',
      dir,
      '--yes',
      '--json',
      '--sample-size',
      '0',
      '--rate',
      '6000/60s',
      '--state-dir',
      stateDir,
      '--twenty-url',
      sandbox.url,
      '--api-key',
      sandbox.apiKey,
      ...extra,
    ]);
  const people = async () => (await sandbox.dump()).records.person ?? [];
  const api = (method: string, path: string, body?: unknown) =>
    fetch(`${sandbox.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${sandbox.apiKey}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ferry-e2e-conflict-'));
    stateDir = mkdtempSync(join(tmpdir(), 'ferry-e2e-conflict-state-'));
    generateExport({ source: 'pbn', patients: 20, seed: 'conflicts', defects: 0, outDir: dir });
    sandbox = await startSandbox({ rateShort: null, rateLong: null });
  });
  afterAll(async () => {
    await sandbox?.stop();
    rmSync(dir, { recursive: true, force: true });
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('reports edited and deleted records as conflicts, updates the untouched one, and --force overwrites', async () => {
    const first = await run();
    expect(first.code, first.stderr.slice(-1500)).toBe(0);

    // Three patients whose first + last name is unique in Twenty; the practice edits A and deletes B.
    const csv = join(dir, 'patients.csv');
    const lines = readFileSync(csv, 'utf8').split('\n');
    const header = (lines[0] ?? '').split(',');
    const col = (name: string) => header.indexOf(name);
    const nameOf = (p: Record<string, unknown>) => {
      const n = p.name as { firstName?: string; lastName?: string } | undefined;
      return `${n?.firstName ?? ''} ${n?.lastName ?? ''}`;
    };
    const all = await people();
    const unique = (full: string) => all.filter((p) => nameOf(p) === full).length === 1;
    const picked = lines
      .slice(1)
      .map((line, k) => ({ k: k + 1, cells: line.split(',') }))
      .filter(({ cells }) => cells.length === header.length)
      .filter(({ cells }) => unique(`${cells[col('First Name')]} ${cells[col('Last Name')]}`))
      .slice(0, 3);
    expect(picked).toHaveLength(3);
    const fullNames = picked.map(({ cells }) => `${cells[col('First Name')]} ${cells[col('Last Name')]}`);
    const byName = async (full: string) => (await people()).find((p) => nameOf(p) === full);
    const [a, b, c] = await Promise.all(fullNames.map(byName));
    expect(a && b && c).toBeTruthy();
    // An edit counts as later than Ferry's write beyond a 5 s clock-skew allowance.
    await new Promise((r) => setTimeout(r, 6_000));
    const edited = await api('PATCH', `/rest/people/${a?.id}`, { jobTitle: 'Edited in Twenty' });
    expect(edited.status).toBe(200);
    const deleted = await api('DELETE', `/rest/people/${b?.id}?soft_delete=true`);
    expect(deleted.ok).toBe(true);

    // The newer export changes all three patients' occupation, and no longer holds a fourth patient.
    for (const { k, cells } of picked) {
      cells[col('Occupation')] = 'Changed in the export';
      lines[k] = cells.join(',');
    }
    const pickedRows = new Set(picked.map((p) => p.k));
    const droppedAt = lines.findIndex((line, k) => k > 0 && !pickedRows.has(k) && line !== '');
    const droppedId = (lines[droppedAt] ?? '').split(',')[col('Patient ID')] ?? '';
    // Its children go with it (the old system deleted the patient and everything under it).
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.csv') && f !== 'patients.csv')) {
      const path = join(dir, file);
      const text = readFileSync(path, 'utf8').split('\n');
      writeFileSync(
        path,
        text.filter((line, k) => k === 0 || !line.split(',').includes(droppedId)).join('\n'),
      );
    }
    writeFileSync(csv, lines.filter((_, k) => k !== droppedAt).join('\n'));

    const second = await run();
    expect(second.code, second.stderr.slice(-1500)).toBe(0);
    const out = JSON.parse(second.stdout) as {
      paths: Record<string, string>;
      reconciliation: {
        missingFromExport: Record<string, { count: number; sourceIds: string[] }>;
        balanced: boolean;
      };
    };
    // The patient the export no longer holds is reported, by source id, and left in Twenty.
    expect(out.reconciliation.balanced).toBe(true);
    expect(out.reconciliation.missingFromExport.patients).toEqual({ count: 1, sourceIds: [droppedId] });
    const rejects = readFileSync(out.paths['rejects (csv)'] ?? '', 'utf8');
    expect(rejects).toMatch(/CONFLICT_EDITED_IN_TWENTY/);
    expect(rejects).toMatch(/CONFLICT_DELETED_IN_TWENTY/);
    expect(rejects).not.toContain('Edited in Twenty');
    expect((await byName(fullNames[0] ?? ''))?.jobTitle).toBe('Edited in Twenty');
    const gone = (await people()).find((p) => p.id === b?.id);
    expect(gone?.deletedAt).toBeTruthy();
    expect((await byName(fullNames[2] ?? ''))?.jobTitle).toBe('Changed in the export');

    const forced = await run('--force');
    expect(forced.code, forced.stderr.slice(-1500)).toBe(0);
    expect((await byName(fullNames[0] ?? ''))?.jobTitle).toBe('Changed in the export');
    const revived = (await people()).find((p) => p.id === b?.id);
    expect(revived?.deletedAt ?? null).toBeNull();
    expect(revived?.jobTitle).toBe('Changed in the export');
  }, 300_000);
});
