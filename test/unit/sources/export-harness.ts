import { createReadStream, existsSync } from 'node:fs';
import { join } from 'node:path';
import { profileEncoding } from '../../../lambdas/core/csv/encoding.ts';
import { readCsv } from '../../../lambdas/core/csv/reader.ts';
import { compileEntity, type SourceCells } from '../../../lambdas/core/mapping/map-record.ts';
import { type MappingSpec, parseMappingSpec } from '../../../lambdas/core/mapping/spec.ts';
import { MATCHED_MEMBER, normalizeEmail, skipsAsMember } from '../../../lambdas/core/owners/resolve.ts';
import {
  bindPivots,
  bindProfile,
  buildPivotIndex,
  buildWorkflowReferenceFromRecords,
  type EntityPivot,
  missingFileReject,
  NOT_MIGRATED_WORKFLOW,
  type PivotIndex,
  profileFor,
  type WorkflowReference,
  withPivot,
} from '../../../lambdas/core/sources/index.ts';
import { createEntityValidator } from '../../../lambdas/core/validation/validate-entity.ts';
import type { ExpectedExport } from '../../../lib/generate/index.ts';

/** What the pipeline found for one entity, in expected.json's shape. */
export interface Observed {
  rows: number;
  loaded: number;
  skipped: number;
  skips: Record<string, number>;
  rejects: Record<string, number>;
  warnings: Record<string, number>;
}

interface ReadFile {
  file: string;
  header: readonly string[];
  rows: Array<{ line: number; cells: SourceCells }>;
  readerRejects: Record<string, number>;
  total: number;
}

async function readFile(path: string, file: string): Promise<ReadFile> {
  const { encoding } = await profileEncoding(createReadStream(path));
  const rows: ReadFile['rows'] = [];
  const readerRejects: Record<string, number> = {};
  let header: readonly string[] = [];
  const result = await readCsv(
    createReadStream(path),
    { file, encoding },
    {
      header(columns) {
        header = columns;
      },
      row(view) {
        const values = view.cells();
        const cells: Record<string, string> = {};
        header.forEach((h, i) => {
          cells[h] = values[i] ?? '';
        });
        rows.push({ line: view.line, cells });
      },
      reject(r) {
        readerRejects[r.reason] = (readerRejects[r.reason] ?? 0) + 1;
      },
    },
  );
  return { file, header, rows, readerRejects, total: result.rows };
}

const add = (o: Record<string, number>, k: string, n = 1): void => {
  o[k] = (o[k] ?? 0) + n;
};

/**
 * Runs a generated export through what Inventory, Segment and Prepare do per row — the CSV core,
 * the profile bound to the dropped files (bindProfile) with its pivot properties inferred
 * (bindPivots), the pivot join (withPivot), the compiled mapping, the entity validator
 * (duplicates, orphans, family emails), the attachment file check (missingFileReject) and the
 * workflow rebuild reference — and counts the outcome per entity in expected.json's shape. Rows
 * of `skipIfMember` entities whose email belongs to one of expected.json's `workspaceMembers` (the
 * members the target workspace is seeded with) are skipped MATCHED_MEMBER, as ResolveOwners +
 * Prepare do.
 */
export async function reconcileExport(
  dir: string,
  expected: ExpectedExport,
): Promise<{ observed: Record<string, Observed>; spec: MappingSpec; workflows: WorkflowReference[] }> {
  const profile = profileFor(expected.source);
  const files = new Map<string, ReadFile>();
  for (const [entity, e] of Object.entries(expected.entities))
    files.set(entity, await readFile(join(dir, e.file), e.file));
  const byFile = new Map([...files.values()].map((f) => [f.file, f]));
  const bound = bindProfile(
    profile,
    [...files.values()].map((f) => ({ stem: f.file.replace(/\.csv$/, ''), header: f.header })),
  );
  const withProperties = await bindPivots(bound, (_entity, pivot) =>
    (byFile.get(pivot.files[0] ?? '')?.rows ?? []).map((r) => r.cells),
  );
  const spec = parseMappingSpec(withProperties, expected.source);
  const ctx = { options: spec.options, now: Date.UTC(2025, 5, 1), phi: spec.phi };
  const pivotOf = (entity: string): { into: string; pivot: EntityPivot } | undefined => {
    const file = expected.entities[entity]?.file;
    for (const [into, e] of Object.entries(spec.entities))
      if (e.pivot?.files.includes(file ?? '')) return { into, pivot: e.pivot };
    return undefined;
  };
  const ids = new Map<string, Set<string>>();
  for (const [entity, read] of files) {
    const idColumn = spec.entities[entity]?.idColumn ?? '';
    ids.set(entity, new Set(read.rows.map((r) => (r.cells[idColumn] ?? '').trim())));
  }
  const has = (entity: string, id: string): boolean => ids.get(entity)?.has(id) ?? false;
  const memberEmails = new Set(expected.workspaceMembers.map((m) => normalizeEmail(m.email)));
  const observed: Record<string, Observed> = {};
  const indexes = new Map<string, { entity: string; index: PivotIndex }>();
  const loadedIds = new Map<string, Set<string>>();
  const workflows: WorkflowReference[] = [];
  const fresh = (read: ReadFile): Observed => ({
    rows: read.total,
    loaded: 0,
    skipped: 0,
    skips: {},
    rejects: { ...read.readerRejects },
    warnings: {},
  });
  for (const [entity, read] of files) {
    const p = pivotOf(entity);
    if (p === undefined) continue;
    const out = fresh(read);
    observed[entity] = out;
    const index = buildPivotIndex(read.rows, p.pivot);
    for (const r of index.rejects) add(out.rejects, r.reason);
    indexes.set(p.into, { entity, index });
  }
  for (const [entity, read] of files) {
    if (observed[entity] !== undefined) continue;
    const out = fresh(read);
    observed[entity] = out;
    const entitySpec = spec.entities[entity];
    if (profile.references.some((r) => r.entity === entity)) {
      const reference = buildWorkflowReferenceFromRecords(read.rows, read.header);
      workflows.push(reference);
      out.skipped = reference.count;
      add(out.skips, NOT_MIGRATED_WORKFLOW, reference.count);
      continue;
    }
    if (entitySpec === undefined) throw new Error(`profile ${expected.source} has no entity ${entity}`);
    const pivot = indexes.get(entity);
    const loaded = new Set<string>();
    loadedIds.set(entity, loaded);
    const validator = createEntityValidator({
      file: read.file,
      entity: compileEntity(entity, entitySpec, ctx),
      has,
    });
    for (const row of read.rows) {
      if (skipsAsMember(entitySpec, row.cells, memberEmails)) {
        add(out.skips, MATCHED_MEMBER);
        out.skipped++;
        continue;
      }
      const cells = pivot === undefined ? row.cells : withPivot(row.cells, pivot.index, entitySpec.idColumn);
      const result = validator.check({ line: row.line, cells });
      if (!result.ok) {
        add(out.rejects, result.rejects[0]?.reason ?? 'UNKNOWN');
        continue;
      }
      const missing = missingFileReject(entitySpec, row.cells, (path) => existsSync(join(dir, path)));
      if (missing !== null) {
        add(out.rejects, missing.reason);
        continue;
      }
      loaded.add(result.record.sourceId);
      out.loaded++;
      for (const w of result.warnings) add(out.warnings, w);
    }
  }
  for (const [into, { entity, index }] of indexes) {
    const settled = index.settle((id) => loadedIds.get(into)?.has(id) ?? false);
    const out = observed[entity] as Observed;
    out.loaded = settled.loaded;
    for (const [reason, n] of Object.entries(settled.skipped)) {
      add(out.skips, reason, n);
      out.skipped += n;
    }
  }
  return { observed, spec, workflows };
}
