import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../../lambdas/core/errors.ts';
import { generateApms } from './apms.ts';
import type { GenerateContext } from './context.ts';
import { type CsvDialect, type EntityExpectation, EntityWriter } from './entity-writer.ts';
import { generateFhir } from './fhir.ts';
import { type DeltaExpectation, generateFhirSince } from './fhir-since.ts';
import { generatePbn } from './pbn.ts';
import { Random } from './random.ts';
import type { WorkspaceMember } from './world.ts';

export { APMS_LAYOUTS } from './apms.ts';
export type { EntityExpectation, EntityLayout, RowDefect } from './entity-writer.ts';
export { ROW_DEFECTS } from './entity-writer.ts';
export { PBN_LAYOUTS } from './pbn.ts';
export type { WorkspaceMember } from './world.ts';

/** Bumped whenever the output for a given seed changes, so committed examples are regenerated knowingly. */
export const GENERATOR_VERSION = 3;

export const GenerateOptionsSchema = z.strictObject({
  source: z.enum(['apms', 'pbn', 'fhir']),
  patients: z.number().int().min(1).max(5_000_000),
  seed: z.union([z.string(), z.number()]).default(1),
  /** Rate per defect class (0 = a clean export); each class hits about rate × rows rows of an entity. */
  defects: z.number().min(0).max(0.08).default(0),
  outDir: z.string().min(1),
  /**
   * FHIR only: write the `_since` follow-up of the generated export in this folder instead of a full
   * export (`patients` is then the number of new patients).
   */
  sinceOf: z.string().min(1).optional(),
});
export type GenerateOptions = z.input<typeof GenerateOptionsSchema>;

/** `expected.json`: what a correct migration of this export must report, entity by entity. */
export interface ExpectedExport {
  generatorVersion: number;
  source: 'apms' | 'pbn' | 'fhir';
  seed: string | number;
  patients: number;
  defectRate: number;
  entities: Record<string, EntityExpectation>;
  /** Workspace members the target needs so provider emails resolve as designed. */
  workspaceMembers: WorkspaceMember[];
  facts: Record<string, number>;
  /** A `_since` follow-up: the base export's transactionTime (its `_since`). */
  since?: string;
  /** A `_since` follow-up: per entity, what a delta over a run of the base must count. */
  delta?: Record<string, DeltaExpectation>;
}

const DIALECTS: Record<'apms' | 'pbn', CsvDialect> = {
  apms: { quoteAll: true, newline: '\r\n', bom: true },
  pbn: { quoteAll: false, newline: '\n', bom: false },
};

/**
 * Writes a complete synthetic export of one source system into `outDir` (replacing any
 * previous one) plus `expected.json`. Deterministic: the same options give byte-identical
 * files, so committed examples can be checked for drift and tests can predict every count.
 */
export function generateExport(options: GenerateOptions): ExpectedExport {
  const parsed = GenerateOptionsSchema.safeParse(options);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(`generate: ${issue?.path.join('.') || 'options'}: ${issue?.message ?? 'invalid'}`);
  }
  const parsedOpts = parsed.data;
  if (parsedOpts.sinceOf !== undefined && parsedOpts.source !== 'fhir')
    throw new ConfigError('generate: --since-of is for --source fhir only');
  if (parsedOpts.sinceOf !== undefined && resolve(parsedOpts.sinceOf) === resolve(parsedOpts.outDir))
    throw new ConfigError('generate: --since-of and --out must be different folders');
  rmSync(parsedOpts.outDir, { recursive: true, force: true });
  mkdirSync(parsedOpts.outDir, { recursive: true });
  if (parsedOpts.source === 'fhir' && parsedOpts.sinceOf !== undefined) {
    const since = generateFhirSince({
      baseDir: parsedOpts.sinceOf,
      patients: parsedOpts.patients,
      seed: parsedOpts.seed,
      outDir: parsedOpts.outDir,
    });
    const expected: ExpectedExport = {
      generatorVersion: GENERATOR_VERSION,
      source: 'fhir',
      seed: parsedOpts.seed,
      patients: parsedOpts.patients,
      defectRate: 0,
      entities: Object.fromEntries(Object.entries(since.entities).map(([k, e]) => [k, sortedExpectation(e)])),
      workspaceMembers: [],
      facts: since.facts,
      since: since.since,
      delta: since.delta,
    };
    writeFileSync(join(parsedOpts.outDir, 'expected.json'), `${JSON.stringify(expected, null, 2)}\n`);
    return expected;
  }
  if (parsedOpts.source === 'fhir') {
    const opts = parsedOpts;
    // A FHIR bulk export is NDJSON and a manifest, not CSV reports: its own writer (generate/fhir.ts).
    const fhir = generateFhir(opts);
    const expected: ExpectedExport = {
      generatorVersion: GENERATOR_VERSION,
      source: 'fhir',
      seed: opts.seed,
      patients: opts.patients,
      defectRate: opts.defects,
      entities: Object.fromEntries(Object.entries(fhir.entities).map(([k, e]) => [k, sortedExpectation(e)])),
      workspaceMembers: fhir.members,
      facts: fhir.facts,
    };
    writeFileSync(join(opts.outDir, 'expected.json'), `${JSON.stringify(expected, null, 2)}\n`);
    return expected;
  }
  const opts = { ...parsedOpts, source: parsedOpts.source };
  const docsDir = join(opts.outDir, 'documents');
  const rng = new Random(`${opts.source}:${opts.seed}`);
  const writers: EntityWriter[] = [];
  const ctx: GenerateContext = {
    rng,
    patients: opts.patients,
    dialect: DIALECTS[opts.source],
    open(layout) {
      // Each entity gets its own defect stream so adding rows to one file never shifts another's defects.
      const writer = new EntityWriter(
        layout,
        join(opts.outDir, layout.file),
        DIALECTS[opts.source],
        new Random(`${opts.source}:${opts.seed}:${layout.entity}`),
        opts.defects,
      );
      writers.push(writer);
      return writer;
    },
    writeDocument(name, body) {
      mkdirSync(docsDir, { recursive: true });
      writeFileSync(join(docsDir, name), body);
    },
    fork(name) {
      return new Random(`${opts.source}:${opts.seed}:${name}`);
    },
    members: [],
    facts: {},
  };
  if (opts.source === 'apms') generateApms(ctx);
  else generatePbn(ctx);

  const entities: Record<string, EntityExpectation> = {};
  for (const writer of writers) entities[writer.layout.entity] = sortedExpectation(writer.expectation);
  const expected: ExpectedExport = {
    generatorVersion: GENERATOR_VERSION,
    source: opts.source,
    seed: opts.seed,
    patients: opts.patients,
    defectRate: opts.defects,
    entities,
    workspaceMembers: ctx.members,
    facts: ctx.facts,
  };
  writeFileSync(join(opts.outDir, 'expected.json'), `${JSON.stringify(expected, null, 2)}\n`);
  return expected;
}

function sortedExpectation(e: EntityExpectation): EntityExpectation {
  const sort = <T>(o: Record<string, T>): Record<string, T> =>
    Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));
  return {
    ...e,
    skips: sort(e.skips),
    rejects: sort(e.rejects as Record<string, number>),
    warnings: sort(e.warnings),
  };
}
