import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bindProfile, profileFor } from '../../../lambdas/core/sources/index.ts';
import { generateExport } from '../../../lib/generate/index.ts';
import { runPrepare } from './harness.ts';

const root = mkdtempSync(join(tmpdir(), 'ferry-prepare-profiles-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Warning codes the generator predicts; others (PHONE_NORMALIZED, OPTION_ADDED…) are not modelled. */
const PREDICTED_WARNINGS = ['SHARED_EMAIL', 'ZIP_RESTORED'];

function filesOf(dir: string): Record<string, Uint8Array> {
  const out: Record<string, Uint8Array> = {};
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const path = join(d, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name !== 'expected.json') out[relative(dir, path)] = readFileSync(path);
    }
  };
  walk(dir);
  return out;
}

describe('prepare on generated exports', () => {
  for (const source of ['apms', 'pbn'] as const) {
    it(`reports expected.json's counts per entity for a ${source} export with defects`, async () => {
      const dir = join(root, source);
      const expected = generateExport({
        source,
        patients: 150,
        seed: 'prepare-test',
        defects: 0.03,
        outDir: dir,
      });
      const run = await runPrepare({
        files: filesOf(dir),
        now: Date.UTC(2025, 5, 1),
        chunkSize: 50,
        input: { chunkSize: 40 },
        members: expected.workspaceMembers,
        operatorMapping: (files) =>
          bindProfile(
            profileFor(source),
            files.map((f) => ({ stem: f.stem, header: f.header })),
            Object.fromEntries(files.map((f) => [f.stem, f.name])),
          ),
      });
      for (const [entity, e] of Object.entries(expected.entities)) {
        const s = run.stats.entities[entity];
        expect(s, entity).toBeDefined();
        if (s === undefined) continue;
        const skipped = Object.values(s.skipped).reduce((a, b) => a + b, 0);
        expect({ entity, skips: s.skipped }).toEqual({ entity, skips: e.skips });
        const warnings = Object.fromEntries(
          PREDICTED_WARNINGS.map((w) => [w, s.warnings[w] ?? 0]).filter(([, n]) => n !== 0),
        );
        expect({
          entity,
          rows: s.sourceRows,
          loaded: s.mapped,
          skipped,
          rejects: s.rejected,
          warnings,
        }).toEqual({
          entity,
          rows: e.rows,
          loaded: e.loaded,
          skipped: e.skipped,
          rejects: e.rejects,
          warnings: e.warnings,
        });
      }
      expect(Object.keys(run.stats.entities).sort()).toEqual(Object.keys(expected.entities).sort());
      const records = run.output.phases.reduce((n, p) => n + p.records, 0);
      const mappedLoadable = Object.values(run.stats.entities)
        .filter((s) => s.phase !== undefined)
        .reduce((n, s) => n + s.mapped, 0);
      expect(records).toBe(mappedLoadable);
      // A pivot file's merged rows are carried, per record, by the records they were merged into.
      for (const s of Object.values(run.stats.entities)) {
        if (s.mergedInto === undefined) continue;
        const lines = await run.lines(s.mergedInto);
        expect(lines.reduce((n, l) => n + (l.merged ?? 0), 0)).toBe(s.mapped);
      }
      if (source === 'apms') expect(run.stats.entities.customProperties?.mergedInto).toBe('patients');
    });
  }
});
